package org.esl4j.bench;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every benchmark consumer does with an event: read its Event-Name and Unique-ID, and count
 * it. The lengths are summed so the reads cannot be optimised away, and a run waits on a latch
 * released by the event that reaches its target.
 */
final class EventCounter {
    /** Events between two ticks, e.g. between two api calls under flood. */
    static final int TICK_EVENTS = 1_000;
    /** How long events still in flight after a flood may take to arrive before they count as lost. */
    private static final long SETTLE_MS = 5_000;

    private final AtomicLong consumed = new AtomicLong();
    private final AtomicLong checksum = new AtomicLong();
    private volatile long target = Long.MAX_VALUE;
    private volatile CountDownLatch reached = new CountDownLatch(1);
    private volatile Semaphore ticks;
    private volatile Runnable inlineTick;
    private volatile long lastEventNanos;

    /** Records one event by its two headers (either may be null, e.g. HEARTBEAT has no Unique-ID). */
    void accept(String eventName, String uniqueId) {
        checksum.addAndGet((eventName == null ? 0 : eventName.length()) + (uniqueId == null ? 0 : uniqueId.length()));
        lastEventNanos = System.nanoTime();
        long count = consumed.incrementAndGet();
        if (count == target) {
            reached.countDown();
        }
        if (count % TICK_EVENTS == 0) {
            Semaphore tick = ticks;
            if (tick != null) {
                tick.release();
            }
            Runnable inline = inlineTick;
            if (inline != null) {
                inline.run();
            }
        }
    }

    /** Releases a permit of {@code tick} every {@link #TICK_EVENTS} events (null: stop). */
    void tickEvery1000(Semaphore tick) {
        ticks = tick;
    }

    /**
     * Runs {@code action} every {@link #TICK_EVENTS} events on the consumer's own thread, inside
     * {@link #accept}: the consumer waits for it before it takes the next event (null: stop).
     */
    void runInlineEvery1000(Runnable action) {
        inlineTick = action;
    }

    /** Events consumed so far. */
    long consumed() {
        return consumed.get();
    }

    /** {@link System#nanoTime()} of the latest event. */
    long lastEventNanos() {
        return lastEventNanos;
    }

    /** Sum of header lengths read; proves the headers were decoded. */
    long checksum() {
        return checksum.get();
    }

    /** Arms the latch for {@code more} further events; call before the flood starts. */
    void expect(long more) {
        arm(consumed.get() + more);
    }

    private void arm(long total) {
        reached = new CountDownLatch(1);
        target = total;
    }

    /**
     * Waits up to {@link #SETTLE_MS} for the count to reach {@code total} (events still in flight
     * after a flood, such as the API events its calls fired); returns how many are still missing.
     */
    long missingAfter(long total) throws InterruptedException {
        arm(total);
        // Read after arming: the event that reaches the target then sees it and opens the latch.
        if (consumed.get() < total) {
            await(SETTLE_MS);
        }
        return Math.max(0, total - consumed.get());
    }

    /** Waits until the armed target is reached; false on timeout. */
    boolean await(long timeoutMs) throws InterruptedException {
        return reached.await(timeoutMs, TimeUnit.MILLISECONDS);
    }
}
