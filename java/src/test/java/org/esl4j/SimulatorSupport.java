package org.esl4j;

import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import org.esl4j.internal.Native;
import org.esl4j.testing.internal.NativeSimulator;

/** Helpers for tests against the in-process simulator (virtual clock). */
final class SimulatorSupport {
    private SimulatorSupport() {}

    /** Whether the native library (engine and simulator) can be loaded. */
    static boolean nativeAvailable() {
        try {
            Native.ensureLoaded();
            return true;
        } catch (Throwable unavailable) {
            return false;
        }
    }

    /** A simulator on a free port (or the given one) with a virtual clock and no heartbeat. */
    static NativeSimulator start(int port) {
        return NativeSimulator.start(port, null, true, 0);
    }

    /**
     * Waits until the simulator has received a command starting with the prefix, counting only
     * commands after the first {@code skip}.
     */
    static void awaitCommand(NativeSimulator sim, int skip, String prefix, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> commands = sim.commands();
            for (int i = skip; i < commands.size(); i++) {
                if (commands.get(i).startsWith(prefix)) {
                    return;
                }
            }
            long leftMs = (deadline - System.nanoTime()) / 1_000_000;
            assertTrue("no command '" + prefix + "' in " + commands, leftMs > 0);
            sim.waitForCommands(commands.size() + 1, leftMs);
        }
    }
}
