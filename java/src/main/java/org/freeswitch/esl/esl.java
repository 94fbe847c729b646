package org.freeswitch.esl;

import org.esl4j.internal.Native;
import org.esl4j.internal.NativeLog;

/** The SWIG binding's module class: global settings of the library. */
public class esl {
    /** Not instantiated by users; public in the SWIG binding, so kept. */
    public esl() {
    }

    /**
     * Sets how much the native engine logs, on libesl's scale. Records go to slf4j when present,
     * else to java.util.logging, under {@code org.esl4j.native}.
     *
     * @param level libesl level: 0-3 (emergency..error) = errors, 4 = warnings, 5-6 (notice,
     *     info) = info, 7 = debug; negative = off
     */
    public static void eslSetLogLevel(int level) {
        Native.setLogLevel(nativeLevel(level));
    }

    static int nativeLevel(int eslLevel) {
        if (eslLevel < 0) {
            return NativeLog.OFF;
        } else if (eslLevel <= 3) {
            return NativeLog.ERROR;
        } else if (eslLevel == 4) {
            return NativeLog.WARN;
        } else if (eslLevel <= 6) {
            return NativeLog.INFO;
        }
        return NativeLog.DEBUG;
    }
}
