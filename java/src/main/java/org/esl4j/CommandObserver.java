package org.esl4j;

import java.time.Duration;

/**
 * Told how long each command of an {@link EslClient} or of an outbound {@link EslSession} took
 * and how it ended, e.g. to feed a latency metric (set with {@code commandObserver(...)} on
 * {@link ClientOptions#builder()} or {@link ServerOptions#builder()}).
 *
 * <p>Called once per command when its future completes: on the client's completion executor, or
 * on the calling thread when the command failed before it was sent; never on the library's
 * reader, timer or delivery threads. It has run by the time the command's future completes.
 * Keep it quick. An exception it throws is ignored.
 */
@FunctionalInterface
public interface CommandObserver {
    /**
     * One command finished.
     *
     * @param command the command's name without its arguments (they may hold passwords): {@code
     *     "api status"} and {@code "bgapi originate"} for API commands, {@code "event"}, {@code
     *     "nixevent"} or {@code "filter"} for the others
     * @param duration from sending the command to its result; never negative
     * @param outcome how it ended
     */
    void commandCompleted(String command, Duration duration, Outcome outcome);

    /** How a command ended. */
    enum Outcome {
        /** It completed with a result. */
        SUCCEEDED,
        /** FreeSWITCH refused it ({@code -ERR}), or it was invalid. */
        FAILED,
        /** No result came within its deadline. */
        TIMED_OUT,
        /** The connection was lost or the client closed before the result came. */
        DISCONNECTED;

        /**
         * The outcome of a command that failed with {@code failure}.
         *
         * @param failure the failure, possibly wrapped in a {@link java.util.concurrent.CompletionException}
         * @return the outcome
         */
        static Outcome of(Throwable failure) {
            switch (Futures.asEslException(failure, "command").kind()) {
                case TIMEOUT:
                    return TIMED_OUT;
                case CONNECTION_CLOSED:
                case IO:
                    return DISCONNECTED;
                default:
                    return FAILED;
            }
        }
    }
}
