package org.esl4j.bench;

import java.util.concurrent.TimeUnit;

/** One flood from the simulator to a client, measured at the consumer. */
final class Flood {
    private static final long CHECK_MS = 100;
    private static final long SETTLE_MS = 3_000;

    private Flood() {
    }

    /**
     * One flood of {@code events}. Ends when all are consumed or, for a client that loses some,
     * once the simulator has written them all and nothing more arrived for {@link #SETTLE_MS}.
     * Throws when {@code timeoutMs} passes first.
     */
    static Run once(LoadDriver driver, EventCounter counter, int events, long timeoutMs) throws Exception {
        long before = counter.consumed();
        counter.expect(events);
        long start = System.nanoTime();
        driver.send("flood " + events);
        boolean written = false;
        long lastCount = -1;
        long unchangedSince = start;
        while (!counter.await(CHECK_MS)) {
            long now = System.nanoTime();
            if (now - start > TimeUnit.MILLISECONDS.toNanos(timeoutMs)) {
                throw new IllegalStateException("only " + (counter.consumed() - before) + " of " + events
                        + " events consumed in " + timeoutMs + " ms");
            }
            written = written || driver.replyIfAny() != null;
            long count = counter.consumed();
            if (count != lastCount) {
                lastCount = count;
                unchangedSince = now;
            } else if (written && now - unchangedSince > TimeUnit.MILLISECONDS.toNanos(SETTLE_MS)) {
                break;
            }
        }
        if (!written) {
            driver.reply(timeoutMs);
        }
        long delivered = counter.consumed() - before;
        return new Run(delivered, events - delivered, delivered / ((counter.lastEventNanos() - start) / 1e9));
    }

    /** The outcome of one flood. */
    static final class Run {
        final long delivered;
        final long lost;
        /** Events consumed per second, from the flood request to the last event consumed. */
        final double rate;

        Run(long delivered, long lost, double rate) {
            this.delivered = delivered;
            this.lost = lost;
            this.rate = rate;
        }
    }
}
