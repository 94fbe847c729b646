package org.esl4j;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/** Blocking waits with a deadline that report failures as {@link EslException}s. */
final class Futures {
    /** Longest deadline handed to the engine; longer ones are cut to it. */
    private static final Duration LONGEST_DEADLINE = Duration.ofDays(365);

    private Futures() {}

    static <T> T await(CompletableFuture<T> future, Duration timeout, String what) {
        try {
            return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException timedOut) {
            throw new EslTimeoutException(what + ": no result within " + timeout);
        } catch (ExecutionException failed) {
            throw asEslException(failed.getCause(), what);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new EslException(EslException.Kind.INVALID_STATE, what + ": interrupted");
        }
    }

    static EslException asEslException(Throwable failure, String what) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof EslException) {
            return (EslException) cause;
        }
        return new EslException(EslException.Kind.INTERNAL, what + ": " + cause, cause);
    }

    /** Runs a command that may throw before returning its future; a throw becomes a failed future. */
    static <T> CompletableFuture<T> attempt(Supplier<CompletableFuture<T>> command) {
        try {
            return command.get();
        } catch (RuntimeException failure) {
            return failed(failure);
        }
    }

    /** Checks that a duration is above zero. */
    static Duration requirePositive(Duration value, String what) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(what + " must be positive: " + value);
        }
        return value;
    }

    /** Whole seconds, rounded up (FreeSWITCH takes whole seconds). */
    static long wholeSecondsUp(Duration value) {
        return value.getSeconds() + (value.getNano() > 0 ? 1 : 0);
    }

    /**
     * A future that completes like {@code source}, on {@code executor}: for futures completed by
     * the library's own threads (event delivery, the watchdog's timer, a reader), whose
     * dependent stages must not run there. If the executor refuses, it completes on the thread
     * that completed {@code source} rather than never.
     */
    static <T> CompletableFuture<T> completeOn(CompletableFuture<T> source, Executor executor) {
        CompletableFuture<T> relayed = new CompletableFuture<>();
        source.whenComplete((value, failure) -> {
            Runnable completion = () -> {
                if (failure != null) {
                    relayed.completeExceptionally(failure);
                } else {
                    relayed.complete(value);
                }
            };
            try {
                executor.execute(completion);
            } catch (RejectedExecutionException shutDown) {
                completion.run();
            }
        });
        return relayed;
    }

    static <T> CompletableFuture<T> failed(Throwable failure) {
        CompletableFuture<T> future = new CompletableFuture<>();
        future.completeExceptionally(failure);
        return future;
    }

    /**
     * Runs a command, telling {@code observer} (if any) its duration and outcome before the
     * returned future completes. Native futures complete on the completion executor, so the
     * observer runs there (or on the caller's thread for a command that failed before it was
     * sent).
     */
    static <T> CompletableFuture<T> observed(CommandObserver observer, String name, Supplier<CompletableFuture<T>> command) {
        if (observer == null) {
            return attempt(command);
        }
        long started = System.nanoTime();
        // The returned stage completes after the observer ran, so a caller that saw the result
        // also sees it counted; whenComplete keeps the command's own value or failure.
        return attempt(command).whenComplete((value, failure) -> report(observer, name, started, failure));
    }

    /** Runs a blocking command on this thread, telling {@code observer} (if any) as {@link #observed} does. */
    static <T> T observedNow(CommandObserver observer, String name, Supplier<T> command) {
        if (observer == null) {
            return command.get();
        }
        long started = System.nanoTime();
        T value;
        try {
            value = command.get();
        } catch (RuntimeException failure) {
            report(observer, name, started, failure);
            throw failure;
        }
        report(observer, name, started, null);
        return value;
    }

    private static void report(CommandObserver observer, String name, long started, Throwable failure) {
        Duration took = Duration.ofNanos(Math.max(0, System.nanoTime() - started));
        try {
            observer.commandCompleted(name, took,
                    failure == null ? CommandObserver.Outcome.SUCCEEDED : CommandObserver.Outcome.of(failure));
        } catch (RuntimeException ignored) {
            // A metrics bug must not change the command's result.
        }
    }

    /**
     * A deadline in whole milliseconds for the engine: rounded up, so a sub-millisecond one does
     * not become 0 (which means "the default"), and capped at a year.
     */
    static long engineMillis(Duration timeout) {
        if (timeout.compareTo(LONGEST_DEADLINE) > 0) {
            return LONGEST_DEADLINE.toMillis();
        }
        long millis = timeout.toMillis();
        return Math.max(1, timeout.minusMillis(millis).isZero() ? millis : millis + 1);
    }
}
