package org.esl4j.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one log sink of esl4j: records from the Rust engine and from esl4j's Java classes ({@link
 * Log}) go to slf4j when it is on the class path, else to {@code java.util.logging}. Rust logger
 * names are {@code org.esl4j.native.<rust target>}, with {@code ::} turned into dots. Not API.
 */
public final class NativeLog {
    /** Nothing is forwarded. Keep the numbers in sync with {@code rust/jni/src/logging.rs}. */
    public static final int OFF = 0;
    /** Errors only. */
    public static final int ERROR = 1;
    /** Warnings and errors. */
    public static final int WARN = 2;
    /** Informational records and above. */
    public static final int INFO = 3;
    /** Debug records and above. */
    public static final int DEBUG = 4;
    /** Everything. */
    public static final int TRACE = 5;

    private static final String ROOT = "org.esl4j.native";
    private static final Sink SINK = pickSink();

    private NativeLog() {
    }

    /** Where records go. */
    interface Sink {
        void log(String logger, int level, String message, Throwable error);

        int enabledLevel(String logger);
    }

    private static Sink pickSink() {
        try {
            Class.forName("org.slf4j.LoggerFactory", false, NativeLog.class.getClassLoader());
            return new Slf4jSink();
        } catch (ClassNotFoundException | LinkageError e) {
            return new JulSink();
        }
    }

    /**
     * The most detailed level enabled for the native loggers right now.
     *
     * @return {@link #OFF} .. {@link #TRACE}
     */
    public static int configuredLevel() {
        return SINK.enabledLevel(ROOT);
    }

    /**
     * Forwards one record; called by Rust on any thread.
     *
     * @param level {@link #ERROR} .. {@link #TRACE}
     * @param target the Rust module path, e.g. {@code esl4j_engine::inbound}
     * @param message the formatted record
     */
    @UsedByNative
    public static void log(int level, String target, String message) {
        try {
            SINK.log(ROOT + "." + target.replace("::", "."), level, message, null);
        } catch (Throwable t) {
            // A broken logging backend must not unwind into Rust.
        }
    }

    /**
     * The sink chosen for this class loader.
     *
     * @return the slf4j sink when slf4j is on the class path, else the java.util.logging one
     */
    static Sink sink() {
        return SINK;
    }

    /** java.util.logging. */
    static final class JulSink implements Sink {
        private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();

        private static Level julLevel(int level) {
            switch (level) {
                case ERROR:
                    return Level.SEVERE;
                case WARN:
                    return Level.WARNING;
                case INFO:
                    return Level.INFO;
                case DEBUG:
                    return Level.FINE;
                default:
                    return Level.FINER;
            }
        }

        @Override
        public void log(String logger, int level, String message, Throwable error) {
            Logger target = loggers.get(logger);
            if (target == null) {
                target = Logger.getLogger(logger);
                loggers.putIfAbsent(logger, target);
            }
            target.log(julLevel(level), message, error);
        }

        @Override
        public int enabledLevel(String logger) {
            Logger target = Logger.getLogger(logger);
            for (int level = TRACE; level >= ERROR; level--) {
                if (target.isLoggable(julLevel(level))) {
                    return level;
                }
            }
            return OFF;
        }
    }

    /** slf4j, referenced only after it was found on the class path. */
    static final class Slf4jSink implements Sink {
        @Override
        public void log(String logger, int level, String message, Throwable error) {
            org.slf4j.Logger target = org.slf4j.LoggerFactory.getLogger(logger);
            switch (level) {
                case ERROR:
                    target.error(message, error);
                    break;
                case WARN:
                    target.warn(message, error);
                    break;
                case INFO:
                    target.info(message, error);
                    break;
                case DEBUG:
                    target.debug(message, error);
                    break;
                default:
                    target.trace(message, error);
                    break;
            }
        }

        @Override
        public int enabledLevel(String logger) {
            org.slf4j.Logger target = org.slf4j.LoggerFactory.getLogger(logger);
            if (target.isTraceEnabled()) {
                return TRACE;
            } else if (target.isDebugEnabled()) {
                return DEBUG;
            } else if (target.isInfoEnabled()) {
                return INFO;
            } else if (target.isWarnEnabled()) {
                return WARN;
            }
            return target.isErrorEnabled() ? ERROR : OFF;
        }
    }
}
