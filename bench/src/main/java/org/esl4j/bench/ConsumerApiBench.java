package org.esl4j.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * "api from inside the consumer under flood": one client in its own JVM, whose event consumer
 * itself calls {@code api hostname} every 1,000 events and waits for the reply before it takes
 * the next event. esl4j compat: the classic {@code recvEvent()} loop calling {@code api()} on the
 * same thread; esl4j modern: a listener under {@code BLOCK} calling {@code api} blocking; the
 * peers: their listener calling their synchronous api. A library whose reply waits behind the
 * events it has stopped reading deadlocks here; one that buffers everything grows instead.
 *
 * <p>The run always ends and always reports: when the flood has been consumed, or at its
 * deadline (a watchdog thread reports what was done and ends the JVM even if the consumer is
 * stuck). While it runs it prints a {@code PROGRESS} line every second, which {@link Bench} turns
 * into the row when the JVM dies instead (out of memory with {@code -XX:+ExitOnOutOfMemoryError},
 * killed at the hard limit).
 *
 * <p>Arguments: client id, events, deadline in seconds (from the flood request).
 */
public final class ConsumerApiBench {
    /** The clients this scenario runs, with the pattern each one is driven in. */
    static final String[][] CLIENTS = {
        {"esl4j-compat", "`recvEvent()` loop, `api()` on the same thread"},
        {"esl4j-modern", "listener under `BLOCK`, `api(cmd, 30 s)` blocking"},
        {"esl-client", "listener, `sendSyncApiCommand` (no timeout)"},
        {"thingscloud", "listener, `sendSyncApiCommand`"},
    };
    private static final String SCENARIO = "consumer-api";
    private static final long CONNECT_TIMEOUT_MS = 30_000;
    private static final long CHECK_MS = 100;
    private static final long PROGRESS_MS = 1_000;

    private final FloodClient.Kind kind;
    private final int events;
    private final long deadlineMs;
    private final EventCounter counter = new EventCounter();
    private final List<Double> trips = Collections.synchronizedList(new ArrayList<Double>());
    private final AtomicLong attempted = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicBoolean reported = new AtomicBoolean();
    private final long jvmStart = System.nanoTime();
    private volatile long floodStart;

    private ConsumerApiBench(FloodClient.Kind kind, int events, long deadlineMs) {
        this.kind = kind;
        this.events = events;
        this.deadlineMs = deadlineMs;
    }

    public static void main(String[] args) {
        ConsumerApiBench bench = new ConsumerApiBench(FloodClient.Kind.byId(args[0]), Integer.parseInt(args[1]),
                TimeUnit.SECONDS.toMillis(Long.parseLong(args[2])));
        Thread watchdog = new Thread(bench::watch, "consumer-api-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        int status = Forked.run(bench::run);
        if (status != 0) {
            bench.report("RESULT", "error");
        }
        // halt, not exit: a client stuck in a call (or a peer's Netty threads) must not keep the JVM up.
        System.out.flush();
        Runtime.getRuntime().halt(status);
    }

    /** The pattern {@code client} is driven in here, for the report. */
    static String pattern(String client) {
        for (String[] known : CLIENTS) {
            if (known[0].equals(client)) {
                return known[1];
            }
        }
        return "?";
    }

    private void run() throws Exception {
        try (LoadDriver driver = LoadDriver.start()) {
            FloodClient client = kind.connect(driver.port(), counter);
            counter.runInlineEvery1000(() -> callApi(client));
            counter.expect(events);
            floodStart = System.nanoTime();
            driver.send("flood " + events);
            // Done when every flood event and the API event of every answered call has been consumed.
            while (counter.consumed() < events + trips.size()) {
                counter.await(CHECK_MS);
            }
            report("RESULT", "completed");
        }
    }

    private void callApi(FloodClient client) {
        attempted.incrementAndGet();
        long start = System.nanoTime();
        try {
            client.api("hostname");
            trips.add((System.nanoTime() - start) / 1e6);
        } catch (Exception | Error e) {
            failed.incrementAndGet();
            System.out.println("api failed: " + e);
        }
    }

    /** Prints progress every second; at the deadline reports what was done and ends the JVM. */
    private void watch() {
        try {
            while (true) {
                Thread.sleep(PROGRESS_MS);
                long now = System.nanoTime();
                long started = floodStart;
                if (started == 0 && now - jvmStart > TimeUnit.MILLISECONDS.toNanos(CONNECT_TIMEOUT_MS)) {
                    finishAndHalt("connect-timed-out");
                } else if (started != 0 && now - started > TimeUnit.MILLISECONDS.toNanos(deadlineMs)) {
                    finishAndHalt("timed-out");
                }
                if (!reported.get()) {
                    report("PROGRESS", "running");
                }
            }
        } catch (InterruptedException stopped) {
            // the JVM is ending
        }
    }

    private void finishAndHalt(String outcome) {
        report("RESULT", outcome);
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }

    /** One {@code RESULT} (once) or {@code PROGRESS} line with everything measured so far. */
    private void report(String kindOfLine, String outcome) {
        if (kindOfLine.equals("RESULT") && !reported.compareAndSet(false, true)) {
            return;
        }
        double[] answered;
        synchronized (trips) {
            answered = Measure.toArray(trips);
        }
        long started = floodStart;
        double wall = started == 0 ? 0 : (System.nanoTime() - started) / 1e9;
        Measure.line(kindOfLine, "scenario", SCENARIO, "client", kind.id, "outcome", outcome, "events", events,
                "consumed", counter.consumed(), "calls", attempted.get(), "answered", answered.length, "failed", failed.get(),
                "p50", Measure.quantile(answered, 0.5), "p99", Measure.quantile(answered, 0.99), "wall", wall,
                "deadline", deadlineMs / 1000, "rssPeak", Measure.peakResidentBytes());
    }
}
