package org.esl4j.bench;

/** Stopping helper threads from {@code close()} methods, which must not throw InterruptedException. */
final class Threads {
    /** How long a close waits for a helper thread or process to end. */
    static final long STOP_TIMEOUT_MS = 5_000;

    private Threads() {
    }

    /** Waits up to {@link #STOP_TIMEOUT_MS} for {@code thread}; keeps an interrupt for the caller. */
    static void join(Thread thread) {
        try {
            thread.join(STOP_TIMEOUT_MS);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
