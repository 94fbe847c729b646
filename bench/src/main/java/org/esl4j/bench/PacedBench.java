package org.esl4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One client in its own JVM: the round trip of a blocking {@code api} call while the load source
 * sends a paced flood (the steady event stream of a busy switch, not a saturating one). A caller
 * thread (not the event consumer) calls {@code api hostname} every {@link #CALL_GAP_MICROS} µs and
 * times each call; the consumer reads Event-Name and Unique-ID of every event as in the floods.
 *
 * <p>Arguments: client id, load source ({@link LoadDriver.Source}), events per second, measured
 * events, warm-up events.
 */
public final class PacedBench {
    private static final long CALL_GAP_MICROS = 5_000;
    /** Slack past the flood's nominal length before a run counts as stuck. */
    private static final long RUN_SLACK_MS = 60_000;

    private PacedBench() {
    }

    public static void main(String[] args) {
        // exit explicitly: a peer's non-daemon threads (Netty) would keep the JVM alive
        System.exit(Forked.run(() -> run(args)));
    }

    private static void run(String[] args) throws Exception {
        FloodClient.Kind kind = FloodClient.Kind.byId(args[0]);
        LoadDriver.Source source = LoadDriver.Source.byId(args[1]);
        int rate = Integer.parseInt(args[2]);
        int events = Integer.parseInt(args[3]);
        int warmupEvents = Integer.parseInt(args[4]);
        EventCounter counter = new EventCounter();
        try (LoadDriver driver = LoadDriver.start(source); FloodClient client = kind.connect(driver.port(), counter)) {
            pacedRun(driver, counter, client, warmupEvents, rate);
            long before = counter.consumed();
            double[] trips = Measure.toArray(pacedRun(driver, counter, client, events, rate));
            // Both load sources fire an API event per call, as FreeSWITCH does: they count as sent.
            long lost = counter.missingAfter(before + events + trips.length);
            Measure.report("scenario", "paced", "client", kind.id, "source", source.id, "rate", rate, "events", events, "lost", lost,
                    "calls", trips.length, "p50", Measure.quantile(trips, 0.5), "p99", Measure.quantile(trips, 0.99),
                    "max", Measure.quantile(trips, 1), "checksum", counter.checksum());
        }
    }

    /** One paced flood of {@code events} with api calls alongside; returns the round trips in ms. */
    private static List<Double> pacedRun(LoadDriver driver, EventCounter counter, FloodClient client, int events,
            int rate) throws Exception {
        List<Double> trips = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread caller = new Thread(() -> {
            long next = System.nanoTime();
            try {
                while (running.get()) {
                    next += TimeUnit.MICROSECONDS.toNanos(CALL_GAP_MICROS);
                    for (long wait = next - System.nanoTime(); wait > 0; wait = next - System.nanoTime()) {
                        LockSupport.parkNanos(wait);
                    }
                    long start = System.nanoTime();
                    client.api("hostname");
                    trips.add((System.nanoTime() - start) / 1e6);
                }
            } catch (Exception | Error e) {
                failure.set(e);
            }
        }, "api-caller");
        long nominalMs = events * 1000L / rate;
        caller.start();
        try {
            driver.request("flood " + events + " " + rate, nominalMs + RUN_SLACK_MS);
        } finally {
            running.set(false);
            caller.join(RUN_SLACK_MS);
        }
        if (failure.get() != null) {
            throw new IllegalStateException("api under a paced flood failed", failure.get());
        }
        return trips;
    }
}
