package org.esl4j.bench;

/**
 * Memory under a long flood: resident set and heap after a full collection, after the first
 * million events and after all of them (10 million by default), to show there is no growth.
 *
 * <p>Arguments: client id, total events.
 */
public final class SoakBench {
    private static final int CHUNK = 1_000_000;
    private static final long CHUNK_TIMEOUT_MS = 300_000;

    private SoakBench() {
    }

    public static void main(String[] args) {
        // exit explicitly: a peer's non-daemon threads (Netty) would keep the JVM alive
        System.exit(Forked.run(() -> run(args)));
    }

    private static void run(String[] args) throws Exception {
        FloodClient.Kind kind = FloodClient.Kind.byId(args[0]);
        long events = Long.parseLong(args[1]);
        EventCounter counter = new EventCounter();
        try (LoadDriver driver = LoadDriver.start(); FloodClient client = kind.connect(driver.port(), counter)) {
            long rssFirst = -1;
            long heapFirst = -1;
            long lost = 0;
            long start = System.nanoTime();
            for (long done = 0; done < events; done += CHUNK) {
                int chunk = (int) Math.min(CHUNK, events - done);
                lost += Flood.once(driver, counter, chunk, CHUNK_TIMEOUT_MS).lost;
                if (done == 0) {
                    rssFirst = Measure.residentBytes();
                    heapFirst = Measure.heapAfterGc();
                }
                System.out.printf("%,d events: RSS %,d KiB%n", done + chunk, Measure.residentBytes() / 1024);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            // the connection must still answer after the flood
            client.api("hostname");
            Measure.report("scenario", "soak", "client", kind.id, "events", events, "lost", lost, "rate", events / seconds,
                    "rss1m", rssFirst, "rssEnd", Measure.residentBytes(), "heap1m", heapFirst, "heapEnd", Measure.heapAfterGc());
        }
    }
}
