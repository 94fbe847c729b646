package org.esl4j.dial;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Ends call attempts that FreeSWITCH lets run past their timeout.
 *
 * <p>FreeSWITCH restarts {@code originate_timeout} for every {@code |} failover group and can
 * overrun it with several per-leg timeouts (signalwire/freeswitch#3068); a lost event would leave
 * an attempt waiting forever. The watchdog gives every attempt a deadline (see {@link
 * OriginateRequest#watchdogDeadline(Duration)}): if the attempt has not completed by then, it runs
 * an abort action (typically {@code uuid_kill <origination_uuid>}) and completes the attempt with
 * an outcome that says so ({@link OriginateResult#watchdogExpired(String)}, {@link
 * BridgeResult#watchdogExpired()}).
 *
 * <pre>{@code
 * CompletableFuture<OriginateResult> guarded = watchdog.guard(
 *         attempt,
 *         request.watchdogDeadline(Duration.ofSeconds(5)),
 *         () -> OriginateResult.watchdogExpired(request.uuid()),
 *         () -> client.bgapi("uuid_kill " + request.uuid()));
 * }</pre>
 */
public final class AttemptWatchdog implements AutoCloseable {
    private final ScheduledExecutorService scheduler;
    private final boolean ownsScheduler;

    private AttemptWatchdog(ScheduledExecutorService scheduler, boolean ownsScheduler) {
        this.scheduler = scheduler;
        this.ownsScheduler = ownsScheduler;
    }

    /**
     * A watchdog with its own timer thread (a daemon), stopped by {@link #close()}.
     *
     * @return the watchdog
     */
    public static AttemptWatchdog create() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "esl4j-watchdog");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return new AttemptWatchdog(timer, true);
    }

    /**
     * A watchdog on a timer the caller owns ({@link #close()} leaves it running).
     *
     * @param scheduler the timer
     * @return the watchdog
     */
    public static AttemptWatchdog using(ScheduledExecutorService scheduler) {
        return new AttemptWatchdog(Objects.requireNonNull(scheduler, "scheduler"), false);
    }

    /**
     * Guards one attempt.
     *
     * @param attempt completes with the attempt's outcome
     * @param deadline how long to wait, from now
     * @param overrunOutcome the outcome to report when the deadline passes first
     * @param abort run once, after the overrun outcome is set, when the deadline passes first
     *     (e.g. kill the channel)
     * @param <T> the outcome type
     * @return completes with the attempt's outcome, or with {@code overrunOutcome} at the deadline
     */
    public <T> CompletableFuture<T> guard(CompletableFuture<T> attempt, Duration deadline,
            Supplier<T> overrunOutcome, Runnable abort) {
        Objects.requireNonNull(attempt, "attempt");
        Objects.requireNonNull(overrunOutcome, "overrunOutcome");
        Objects.requireNonNull(abort, "abort");
        CompletableFuture<T> guarded = new CompletableFuture<>();
        ScheduledFuture<?> timer = scheduler.schedule(() -> {
            // Decide first, then clean up: the abort's own effects (a hang-up reported by the
            // server) must not race the overrun outcome.
            if (guarded.complete(overrunOutcome.get())) {
                abort.run();
            }
        }, Math.max(0, deadline.toNanos()), TimeUnit.NANOSECONDS);
        attempt.whenComplete((outcome, failure) -> {
            timer.cancel(false);
            if (failure != null) {
                guarded.completeExceptionally(failure);
            } else {
                guarded.complete(outcome);
            }
        });
        return guarded;
    }

    /** Stops the timer thread if this watchdog owns it; pending deadlines no longer fire. */
    @Override
    public void close() {
        if (ownsScheduler) {
            scheduler.shutdownNow();
        }
    }
}
