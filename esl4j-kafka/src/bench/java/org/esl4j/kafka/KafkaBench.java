package org.esl4j.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntSupplier;
import org.esl4j.EslEvent;
import org.esl4j.cluster.ClusterOptions;
import org.esl4j.cluster.EslCluster;
import org.esl4j.testing.EslSimulator;

/**
 * End to end through Kafka: the simulator fires events, one instance's {@link EslCluster} receives
 * them, its {@link EslKafkaRelay} publishes them to a real broker (a child JVM, as in the tests),
 * its {@link EslKafkaConsumer} delivers them to a listener. Prints events/s for a burst and the
 * latency from firing to the Kafka listener next to the latency to a listener on the cluster
 * itself (the same events), at a paced rate; the difference is what Kafka adds.
 *
 * <p>Arguments: [burst events] [paced events] [paced rate per second]; default 100000 20000 2000.
 */
public final class KafkaBench {
    private static final String SENT = "Bench-Sent-Nanos";
    private static final int CALLS = 1_000;
    private static final int BURST_BATCH = 1_000;

    private KafkaBench() {
    }

    public static void main(String[] args) throws Exception {
        int burst = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int paced = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        int rate = args.length > 2 ? Integer.parseInt(args[2]) : 2_000;
        try (KafkaBroker broker = KafkaBroker.start();
                EslSimulator simulator = EslSimulator.builder().heartbeat(Duration.ZERO).recordEvents(false).start()) {
            KafkaOptions options = KafkaOptions.builder().bootstrapServers(broker.bootstrapServers())
                    .eventsTopic("bench-events").eventsPartitions(12).controlTopic("bench-relay")
                    // The burst is fired faster than one relay publishes: its standby ring must
                    // hold the whole burst, or the oldest events are dropped (and counted).
                    .standbyEvents(Math.max(50_000, burst + 10_000)).build();
            try (EslCluster cluster = EslCluster.start(ClusterOptions.builder()
                    .node("fs1", simulator.clientOptions().build()).build())) {
                cluster.subscribe("CUSTOM", "bench::event").get(30, TimeUnit.SECONDS);
                if (!cluster.awaitUp(1, Duration.ofSeconds(30))) {
                    throw new IllegalStateException("the cluster did not connect");
                }
                Recorder direct = new Recorder(paced);
                Recorder viaKafka = new Recorder(paced);
                cluster.onEvent("bench::event", e -> direct.record(e.event()));
                try (EslKafkaRelay relay = EslKafkaRelay.start(cluster, options);
                        EslKafkaConsumer consumer = EslKafkaConsumer.create(options)) {
                    consumer.onEvent("bench::event", viaKafka::record);
                    consumer.start();
                    fire(simulator, 2_000, 0);
                    awaitCount(viaKafka::count, 2_000, Duration.ofMinutes(2), "warm-up");

                    viaKafka.reset(0);
                    direct.reset(0);
                    long publishedBefore = relay.published();
                    long start = System.nanoTime();
                    fire(simulator, burst, 0);
                    double fired = (System.nanoTime() - start) / 1e9;
                    awaitCount(direct::count, burst, Duration.ofMinutes(10), "burst, ESL");
                    double received = (System.nanoTime() - start) / 1e9;
                    awaitCount(() -> (int) (relay.published() - publishedBefore), burst, Duration.ofMinutes(10), "burst, relay");
                    double relayed = (System.nanoTime() - start) / 1e9;
                    awaitCount(viaKafka::count, burst, Duration.ofMinutes(10), "burst, Kafka");
                    double seconds = (System.nanoTime() - start) / 1e9;
                    System.out.printf("burst: %,d events fired in %.2f s, received by the cluster in %.2f s, published"
                            + " by the relay (acknowledged by Kafka) in %.2f s = %,.0f events/s, delivered through Kafka"
                            + " in %.2f s = %,.0f events/s end to end (relay published %,d, consumer delivered %,d)%n",
                            burst, fired, received, relayed, burst / relayed, seconds, burst / seconds,
                            relay.published(), consumer.delivered());

                    // The consumer side alone: a new group reads the whole topic from the start.
                    long records = relay.published();
                    Recorder drained = new Recorder(0);
                    KafkaOptions again = KafkaOptions.builder().bootstrapServers(broker.bootstrapServers())
                            .eventsTopic("bench-events").consumerGroup("bench-drain").build();
                    try (EslKafkaConsumer drain = EslKafkaConsumer.create(again)) {
                        drain.onAnyEvent(event -> drained.count.incrementAndGet());
                        long drainStart = System.nanoTime();
                        drain.start();
                        awaitCount(drained::count, (int) records, Duration.ofMinutes(10), "drain");
                        double drainSeconds = (System.nanoTime() - drainStart) / 1e9;
                        System.out.printf("consumer alone: %,d records read from the topic and delivered in %.2f s"
                                + " = %,.0f events/s (group join included)%n", records, drainSeconds, records / drainSeconds);
                    }

                    viaKafka.reset(paced);
                    direct.reset(paced);
                    fire(simulator, paced, rate);
                    awaitCount(viaKafka::count, paced, Duration.ofMinutes(10), "paced");
                    System.out.printf("paced at %,d events/s, %,d events: latency from firing to the listener%n", rate, paced);
                    System.out.printf("  on the cluster (ESL only):  p50 %.2f ms, p99 %.2f ms%n", direct.percentile(50), direct.percentile(99));
                    System.out.printf("  through Kafka:              p50 %.2f ms, p99 %.2f ms%n", viaKafka.percentile(50), viaKafka.percentile(99));
                    System.out.printf("  added by relay + Kafka:     p50 %.2f ms, p99 %.2f ms%n",
                            viaKafka.percentile(50) - direct.percentile(50), viaKafka.percentile(99) - direct.percentile(99));
                }
            }
        }
    }

    /**
     * Fires {@code count} CUSTOM events over {@link #CALLS} channels, at {@code rate}/s, or at once
     * ({@code rate} 0) in batches of {@link #BURST_BATCH}, one native call each, so the simulator
     * is not what bounds the burst.
     */
    private static void fire(EslSimulator simulator, int count, int rate) {
        if (rate == 0) {
            List<EslEvent> batch = new ArrayList<>(BURST_BATCH);
            for (int i = 0; i < count; i++) {
                batch.add(benchEvent(i));
                if (batch.size() == BURST_BATCH || i == count - 1) {
                    simulator.fireEvents(batch);
                    batch.clear();
                }
            }
            return;
        }
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            if (rate > 0) {
                long due = start + TimeUnit.SECONDS.toNanos(i) / rate;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait); // pacing, a benchmark's own clock
                }
            }
            simulator.fireEvent(benchEvent(i));
        }
    }

    private static EslEvent benchEvent(int index) {
        return EslEvent.builder().header("Event-Name", "CUSTOM").header("Event-Subclass", "bench::event")
                .header("Unique-ID", "bench-call-" + (index % CALLS)).header(SENT, Long.toString(System.nanoTime())).build();
    }

    private static void awaitCount(IntSupplier counter, int count, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (counter.getAsInt() < count) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + ": " + counter.getAsInt() + " of " + count + " events within " + timeout);
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    /** Counts events and keeps the latency of the first {@code capacity}. */
    private static final class Recorder {
        private final AtomicInteger count = new AtomicInteger();
        private volatile long[] latencies;

        Recorder(int capacity) {
            latencies = new long[capacity];
        }

        void reset(int capacity) {
            latencies = new long[capacity];
            count.set(0);
        }

        void record(EslEvent event) {
            long now = System.nanoTime();
            int index = count.getAndIncrement();
            long[] into = latencies;
            if (index < into.length) {
                into[index] = now - Long.parseLong(event.header(SENT));
            }
        }

        int count() {
            return count.get();
        }

        double percentile(int p) {
            long[] sorted = Arrays.copyOf(latencies, Math.min(count(), latencies.length));
            Arrays.sort(sorted);
            return sorted.length == 0 ? Double.NaN : sorted[Math.min(sorted.length - 1, sorted.length * p / 100)] / 1e6;
        }
    }
}
