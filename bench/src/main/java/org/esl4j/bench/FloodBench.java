package org.esl4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One client in its own JVM against the simulator's flood: events/s to a consumer reading
 * Event-Name and Unique-ID, allocation per event, then the same floods with an {@code api} call
 * per 1,000 events (round trips and the rate with them).
 *
 * <p>Arguments: client id, events per run, warm-up runs, measured runs, {@code api} to add the
 * runs with api calls.
 */
public final class FloodBench {
    private static final long RUN_TIMEOUT_MS = 120_000;
    private static final long TICK_WAIT_MS = 100;

    private FloodBench() {
    }

    public static void main(String[] args) {
        // exit explicitly: a peer's non-daemon threads (Netty) would keep the JVM alive
        System.exit(Forked.run(() -> run(args)));
    }

    private static void run(String[] args) throws Exception {
        FloodClient.Kind kind = FloodClient.Kind.byId(args[0]);
        int events = Integer.parseInt(args[1]);
        int warmups = Integer.parseInt(args[2]);
        int runs = Integer.parseInt(args[3]);
        boolean withApi = args.length > 4 && args[4].equals("api");
        EventCounter counter = new EventCounter();
        try (LoadDriver driver = LoadDriver.start(); FloodClient client = kind.connect(driver.port(), counter)) {
            for (int i = 0; i < warmups; i++) {
                Flood.once(driver, counter, events, RUN_TIMEOUT_MS);
            }
            List<Double> rates = new ArrayList<>();
            List<Double> allocations = new ArrayList<>();
            List<Double> cpuPerEvent = new ArrayList<>();
            long lost = 0;
            for (int i = 0; i < runs; i++) {
                Map<Long, Long> before = Measure.allocatedByThread();
                long cpuBefore = Measure.processCpuNanos();
                Flood.Run run = Flood.once(driver, counter, events, RUN_TIMEOUT_MS);
                cpuPerEvent.add((Measure.processCpuNanos() - cpuBefore) / 1e3 / run.delivered);
                rates.add(run.rate);
                lost += run.lost;
                allocations.add((double) Measure.allocatedSince(before) / run.delivered);
            }
            double[] rate = Measure.toArray(rates);
            Measure.report("scenario", "flood", "client", kind.id, "events", events, "runs", runs, "lost", lost,
                    "rate", Measure.quantile(rate, 0.5), "min", Measure.quantile(rate, 0), "max", Measure.quantile(rate, 1),
                    "alloc", Measure.quantile(Measure.toArray(allocations), 0.5),
                    "cpu", Measure.quantile(Measure.toArray(cpuPerEvent), 0.5),
                    "rss", Measure.residentBytes(), "heap", Measure.heapAfterGc(), "checksum", counter.checksum());
            if (withApi) {
                floodWithApi(kind, driver, client, counter, events, runs);
            }
        }
    }

    private static void floodWithApi(FloodClient.Kind kind, LoadDriver driver, FloodClient client, EventCounter counter,
            int events, int runs) throws Exception {
        List<Double> rates = new ArrayList<>();
        List<Double> roundTrips = new ArrayList<>();
        long lost = 0;
        for (int i = 0; i < runs; i++) {
            Semaphore ticks = new Semaphore(0);
            List<Double> runTrips = new ArrayList<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicBoolean running = new AtomicBoolean(true);
            Thread caller = new Thread(() -> {
                try {
                    while (running.get()) {
                        if (!ticks.tryAcquire(TICK_WAIT_MS, TimeUnit.MILLISECONDS)) {
                            continue;
                        }
                        long start = System.nanoTime();
                        client.api("hostname");
                        runTrips.add((System.nanoTime() - start) / 1e6);
                    }
                } catch (InterruptedException stopped) {
                    // the run is over
                } catch (Exception | Error e) {
                    failure.set(e);
                }
            }, "api-caller");
            // The caller is not the consumer: a reply may queue behind events only the consumer drains.
            long before = counter.consumed();
            caller.start();
            counter.tickEvery1000(ticks);
            Flood.Run run = Flood.once(driver, counter, events, RUN_TIMEOUT_MS);
            rates.add(run.rate);
            counter.tickEvery1000(null);
            running.set(false);
            caller.join(RUN_TIMEOUT_MS);
            // FreeSWITCH fires an API event per api call, and so does the simulator: they count as
            // sent, and the run's wait (for the flood's count) ends before the last of them arrive.
            lost += counter.missingAfter(before + events + runTrips.size());
            if (failure.get() != null) {
                throw new IllegalStateException("api under flood failed", failure.get());
            }
            roundTrips.addAll(runTrips);
        }
        double[] rate = Measure.toArray(rates);
        double[] trips = Measure.toArray(roundTrips);
        Measure.report("scenario", "api", "client", kind.id, "events", events, "runs", runs, "lost", lost,
                "rate", Measure.quantile(rate, 0.5), "calls", trips.length,
                "p50", Measure.quantile(trips, 0.5), "p99", Measure.quantile(trips, 0.99), "max", Measure.quantile(trips, 1));
    }
}
