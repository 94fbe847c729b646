package org.esl4j.dial;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;

public class AttemptWatchdogTest {
    @Test
    public void overrunAttemptIsAbortedAndReported() throws Exception {
        CountDownLatch aborted = new CountDownLatch(1);
        try (AttemptWatchdog watchdog = AttemptWatchdog.create()) {
            CompletableFuture<OriginateResult> never = new CompletableFuture<>();
            CompletableFuture<OriginateResult> guarded = watchdog.guard(never, Duration.ofMillis(20),
                    () -> OriginateResult.watchdogExpired("u1"), aborted::countDown);
            OriginateResult result = guarded.get(10, TimeUnit.SECONDS);
            assertTrue(result.watchdogExpired());
            assertEquals("u1", result.channelUuid());
            assertTrue("the abort runs after the outcome is set", aborted.await(10, TimeUnit.SECONDS));
            // A late outcome from FreeSWITCH no longer changes the answer.
            never.complete(OriginateResult.fromApiResponse("+OK u1"));
            assertTrue(guarded.get(10, TimeUnit.SECONDS).watchdogExpired());
        }
    }

    /**
     * The abort's effect can come back before the abort returns: {@code uuid_kill} makes FreeSWITCH
     * end the originate with {@code -ERR ALLOTTED_TIMEOUT}. Here the abort completes the attempt
     * itself, on the timer thread, which is what a fast reply on a loaded machine amounts to; the
     * outcome must still be the watchdog's.
     */
    @Test
    public void abortThatEndsTheAttemptDoesNotReplaceTheOverrunOutcome() throws Exception {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
        // The timer thread waits at the gate until guard() has wired everything up, so the
        // deadline (zero) fires only then, whatever the machine's load.
        CompletableFuture<Void> gate = new CompletableFuture<>();
        try {
            timer.execute(gate::join);
            CompletableFuture<OriginateResult> attempt = new CompletableFuture<>();
            CompletableFuture<OriginateResult> guarded = AttemptWatchdog.using(timer).guard(attempt, Duration.ZERO,
                    () -> OriginateResult.watchdogExpired("u1"),
                    () -> attempt.complete(OriginateResult.fromApiResponse("-ERR ALLOTTED_TIMEOUT")));
            gate.complete(null);
            OriginateResult result = guarded.get(10, TimeUnit.SECONDS);
            assertTrue(result.toString(), result.watchdogExpired());
            // The abort runs after the outcome is set: wait for it rather than race it.
            assertEquals(HangupCause.ALLOTTED_TIMEOUT, attempt.get(10, TimeUnit.SECONDS).cause());
            assertTrue("the outcome stays the watchdog's", guarded.get(10, TimeUnit.SECONDS).watchdogExpired());
        } finally {
            gate.complete(null);
            timer.shutdownNow();
        }
    }

    @Test
    public void attemptInTimeCancelsTheTimer() throws Exception {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
        timer.setRemoveOnCancelPolicy(true);
        try {
            AtomicInteger aborts = new AtomicInteger();
            AttemptWatchdog watchdog = AttemptWatchdog.using(timer);
            CompletableFuture<String> attempt = new CompletableFuture<>();
            CompletableFuture<String> guarded = watchdog.guard(attempt, Duration.ofHours(1), () -> "overrun", aborts::incrementAndGet);
            assertEquals(1, timer.getQueue().size());
            attempt.complete("answered");
            assertEquals("answered", guarded.get(10, TimeUnit.SECONDS));
            assertEquals(0, timer.getQueue().size());
            assertEquals(0, aborts.get());
            watchdog.close();
            assertTrue("a borrowed timer stays up", !timer.isShutdown());
        } finally {
            timer.shutdownNow();
        }
    }

    @Test
    public void failedAttemptPropagates() throws Exception {
        try (AttemptWatchdog watchdog = AttemptWatchdog.create()) {
            CompletableFuture<String> attempt = new CompletableFuture<>();
            CompletableFuture<String> guarded = watchdog.guard(attempt, Duration.ofHours(1), () -> "overrun", () -> { });
            attempt.completeExceptionally(new IllegalStateException("connection closed"));
            try {
                guarded.get(10, TimeUnit.SECONDS);
                throw new AssertionError("expected failure");
            } catch (ExecutionException expected) {
                assertEquals("connection closed", expected.getCause().getMessage());
            }
        }
    }
}
