package org.esl4j.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.RetriableCommitFailedException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.esl4j.EslEvent;
import org.esl4j.EventListener;
import org.esl4j.Subscription;
import org.esl4j.cluster.ClusterEvent;
import org.esl4j.cluster.ClusterEventListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the events of the events topic to esl4j listeners, as one member of a Kafka consumer
 * group: each call's events to exactly one instance of the application at a time.
 *
 * <pre>{@code
 * EslKafkaConsumer events = EslKafkaConsumer.create(kafkaOptions);
 * events.onClusterEvent("CHANNEL_PARK", e -> cluster.execute(e.event().uniqueId(), "playback", "welcome.wav", timeout));
 * events.start();
 * }</pre>
 *
 * <p><b>Order and parallelism.</b> A call's events share a record key, so a partition and an
 * order; each poll's records are delivered one at a time per key and in parallel across keys
 * (on {@link KafkaOptions#consumerThreads()} threads), and the next poll waits until every
 * listener of this one returned.
 *
 * <p><b>At least once, duplicates removed.</b> Offsets are committed after the listeners of a
 * poll returned (and before a partition is handed to another instance). An instance that dies
 * has its uncommitted records delivered again by the instance that takes its partitions over.
 * The same event published twice (by two relays around a hand-over) is delivered once: each
 * partition remembers the (Core-UUID, Event-Sequence) of its last {@link
 * KafkaOptions#dedupWindow()} records, and an instance assigned a partition first reads back
 * that many records from before its committed offset.
 *
 * <p><b>Commands.</b> The listener acts on the call through the application's {@link
 * org.esl4j.cluster.EslCluster}: {@link ClusterEvent#node()} is the record's node header, for
 * {@code cluster.client(node)}; call commands ({@code cluster.hangup(uuid, cause)}) find the node
 * by the call.
 *
 * <p>Thread-safe. Listener exceptions are caught, logged and counted ({@link #listenerFailures()}).
 */
public final class EslKafkaConsumer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EslKafkaConsumer.class);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration WAIT_SLICE = Duration.ofMillis(50);
    private static final long HAND_OVER_WAIT_MS = 60_000;
    private static final long STOP_TIMEOUT_MS = 60_000;
    private static final Duration READ_BACK_TIMEOUT = Duration.ofSeconds(30);

    private final KafkaOptions options;
    private final List<Registration> listeners = new CopyOnWriteArrayList<>();
    private final Map<TopicPartition, Deduplicator> partitions = new ConcurrentHashMap<>();
    private final ExecutorService executor;
    private final Thread pollThread;
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private final AtomicLong listenerFailures = new AtomicLong();
    private final AtomicLong undecodable = new AtomicLong();
    /** The poll being delivered, or null; read by the rebalance callbacks on the poll thread. */
    private Batch current;
    /** Per partition: the offset after the last record whose listeners returned; poll thread only. */
    private final Map<TopicPartition, OffsetAndMetadata> deliveredOffsets = new HashMap<>();
    private volatile boolean started;
    private volatile boolean closed;
    private volatile boolean crashed;

    private EslKafkaConsumer(KafkaOptions options) {
        this.options = options;
        AtomicInteger threadNumber = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(options.consumerThreads(), task -> {
            Thread thread = new Thread(task, "esl4j-kafka-listener-" + threadNumber.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.pollThread = new Thread(this::run, "esl4j-kafka-consumer");
        pollThread.setDaemon(true);
    }

    /**
     * Makes a consumer; add listeners, then {@link #start()} it.
     *
     * @param options the broker, topic and group
     * @return the consumer, not yet in the group
     */
    public static EslKafkaConsumer create(KafkaOptions options) {
        return new EslKafkaConsumer(Objects.requireNonNull(options, "options"));
    }

    /**
     * Joins the consumer group and starts delivering. Returns at once.
     *
     * @return this consumer
     */
    public synchronized EslKafkaConsumer start() {
        if (closed || started) {
            throw new IllegalStateException(closed ? "closed" : "already started");
        }
        started = true;
        pollThread.start();
        return this;
    }

    /**
     * Listens to every event.
     *
     * @param listener gets each event
     * @return the registration; close it to stop
     */
    public Subscription onAnyEvent(EventListener listener) {
        Objects.requireNonNull(listener, "listener");
        return register(null, event -> listener.onEvent(event.event()));
    }

    /**
     * Listens to one event name (or CUSTOM subclass).
     *
     * @param eventName e.g. {@code CHANNEL_ANSWER} or {@code callcenter::info}
     * @param listener gets each such event
     * @return the registration; close it to stop
     */
    public Subscription onEvent(String eventName, EventListener listener) {
        Objects.requireNonNull(eventName, "eventName");
        Objects.requireNonNull(listener, "listener");
        return register(eventName, event -> listener.onEvent(event.event()));
    }

    /**
     * Listens to every event, with the node it came from.
     *
     * @param listener gets each event and its node
     * @return the registration; close it to stop
     */
    public Subscription onAnyClusterEvent(ClusterEventListener listener) {
        return register(null, Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Listens to one event name (or CUSTOM subclass), with the node it came from.
     *
     * @param eventName the event name or subclass
     * @param listener gets each such event and its node
     * @return the registration; close it to stop
     */
    public Subscription onClusterEvent(String eventName, ClusterEventListener listener) {
        Objects.requireNonNull(eventName, "eventName");
        return register(eventName, Objects.requireNonNull(listener, "listener"));
    }

    private Subscription register(String eventName, ClusterEventListener listener) {
        Registration registration = new Registration(eventName, listener);
        listeners.add(registration);
        return () -> listeners.remove(registration);
    }

    /** @return events handed to the listeners */
    public long delivered() {
        return delivered.get();
    }

    /** @return records dropped as the same (Core-UUID, Event-Sequence) as one seen before */
    public long duplicatesRemoved() {
        return duplicates.get();
    }

    /** @return listener calls that threw */
    public long listenerFailures() {
        return listenerFailures.get();
    }

    /** @return records whose value was not a FreeSWITCH JSON event (logged, skipped) */
    public long undecodable() {
        return undecodable.get();
    }

    /**
     * The partitions of the events topic this instance consumes now.
     *
     * @return a snapshot
     */
    public Set<Integer> assignedPartitions() {
        Set<Integer> numbers = new HashSet<>();
        for (TopicPartition partition : partitions.keySet()) {
            numbers.add(partition.partition());
        }
        return numbers;
    }

    // ---- the poll loop --------------------------------------------------------------------------

    private void run() {
        KafkaConsumer<String, byte[]> group = new KafkaConsumer<>(
                KafkaClients.consumer(options, "esl4j-consumer-" + Long.toHexString(System.nanoTime()), options.consumerGroup()));
        try {
            group.subscribe(Collections.singleton(options.eventsTopic()), new Rebalance(group));
            while (!closed) {
                ConsumerRecords<String, byte[]> records = group.poll(POLL);
                if (!records.isEmpty()) {
                    deliver(group, records);
                }
            }
        } catch (RuntimeException failed) {
            LOG.error("the Kafka consumer stopped; this instance handles no events now", failed);
        } finally {
            if (crashed) {
                group.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP)
                        .withTimeout(Duration.ZERO));
            } else {
                group.close();
            }
        }
    }

    /** Hands a poll's records to the listeners, waits for them (keeping the membership), commits. */
    private void deliver(KafkaConsumer<String, byte[]> group, ConsumerRecords<String, byte[]> records) {
        Batch batch = new Batch();
        for (TopicPartition partition : records.partitions()) {
            Deduplicator seen = partitions.get(partition);
            for (ConsumerRecord<String, byte[]> record : records.records(partition)) {
                batch.offsets.put(partition, new OffsetAndMetadata(record.offset() + 1));
                if (seen != null && !seen.firstTime(record)) {
                    duplicates.incrementAndGet();
                    continue;
                }
                ClusterEvent event = decode(record);
                if (event != null) {
                    batch.add(record.key(), event);
                }
            }
        }
        current = batch;
        Set<TopicPartition> paused = new HashSet<>(group.assignment());
        group.pause(paused);
        try {
            batch.submit();
            while (!batch.await(WAIT_SLICE.toMillis())) {
                if (crashed) {
                    return; // a killed process commits nothing
                }
                // Paused: returns no records at once, but keeps the membership and runs rebalances.
                group.poll(Duration.ZERO);
            }
            if (crashed) {
                return; // listeners were cut off: some records of the batch were never delivered
            }
            deliveredOffsets.putAll(batch.offsets);
            commitInBackground(group, batch.offsets);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            closed = true;
        } finally {
            current = null;
            paused.retainAll(group.assignment());
            group.resume(paused);
        }
    }

    /**
     * Commits a delivered poll without waiting for the broker: commits are sent in order, and a
     * partition leaving this instance is committed synchronously first ({@link Rebalance}), as
     * is the last poll on {@link #close()} (the consumer's close waits for commits in flight). A
     * commit lost to a crash leaves records to be delivered again, which at least once allows.
     */
    private void commitInBackground(KafkaConsumer<String, byte[]> group, Map<TopicPartition, OffsetAndMetadata> offsets) {
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>(offsets);
        commit.keySet().retainAll(group.assignment());
        if (!commit.isEmpty()) {
            group.commitAsync(commit, (committed, failure) -> {
                if (failure != null) {
                    LOG.debug("offsets {} not committed ({}); a later commit covers them, or their records are delivered again",
                            committed, failure.toString());
                }
            });
        }
    }

    /**
     * Commits before a partition leaves; a commit that fails leaves the records to be delivered
     * again by the next owner, which at least once allows.
     */
    private static void commitNow(KafkaConsumer<String, byte[]> group, Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (offsets.isEmpty()) {
            return;
        }
        try {
            group.commitSync(offsets);
        } catch (RebalanceInProgressException | CommitFailedException | RetriableCommitFailedException failed) {
            LOG.warn("offsets {} not committed ({}); their records may be delivered again", offsets, failed.toString());
        }
    }

    private ClusterEvent decode(ConsumerRecord<String, byte[]> record) {
        try {
            EslEvent event = FreeSwitchJson.read(record.value());
            String node = EventRecords.header(record.headers(), EventRecords.NODE_HEADER);
            return new ClusterEvent(node == null ? "" : node, event);
        } catch (RuntimeException unreadable) {
            undecodable.incrementAndGet();
            LOG.warn("skipped record {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), unreadable.toString());
            return null;
        }
    }

    /** Commits what was delivered before a partition leaves, and reads back the dedup window of a new one. */
    private final class Rebalance implements ConsumerRebalanceListener {
        private final KafkaConsumer<String, byte[]> group;

        Rebalance(KafkaConsumer<String, byte[]> group) {
            this.group = group;
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            if (crashed) {
                return;
            }
            Batch batch = current;
            if (batch != null) {
                try {
                    if (batch.await(HAND_OVER_WAIT_MS)) {
                        deliveredOffsets.putAll(batch.offsets);
                    } else {
                        LOG.warn("listeners did not return within {} ms; the current poll goes uncommitted", HAND_OVER_WAIT_MS);
                    }
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            // The commits sent in the background may not have landed: the next owner starts here.
            Map<TopicPartition, OffsetAndMetadata> leaving = new HashMap<>(deliveredOffsets);
            leaving.keySet().retainAll(revoked);
            commitNow(group, leaving);
            forget(revoked);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            forget(lost);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
            if (assigned.isEmpty()) {
                return;
            }
            if (current != null) {
                group.pause(assigned); // resumed once the poll being delivered is committed
            }
            Map<TopicPartition, OffsetAndMetadata> committed = group.committed(new HashSet<>(assigned));
            for (TopicPartition partition : assigned) {
                Deduplicator seen = new Deduplicator(options.dedupWindow());
                OffsetAndMetadata from = committed.get(partition);
                if (from != null && from.offset() > 0) {
                    readBack(partition, from.offset(), seen);
                }
                partitions.put(partition, seen);
            }
        }
    }

    private void forget(Collection<TopicPartition> gone) {
        partitions.keySet().removeAll(gone);
        deliveredOffsets.keySet().removeAll(gone);
    }

    /** Remembers the events of the window before {@code until}: they were delivered by the previous owner. */
    private void readBack(TopicPartition partition, long until, Deduplicator seen) {
        try (KafkaConsumer<String, byte[]> reader = new KafkaConsumer<>(
                KafkaClients.consumer(options, "esl4j-consumer-readback", null))) {
            List<TopicPartition> only = Collections.singletonList(partition);
            reader.assign(only);
            long begin = reader.beginningOffsets(only, READ_BACK_TIMEOUT).get(partition);
            reader.seek(partition, Math.max(begin, until - options.dedupWindow()));
            long deadline = System.nanoTime() + READ_BACK_TIMEOUT.toNanos();
            while (reader.position(partition, READ_BACK_TIMEOUT) < until) {
                if (System.nanoTime() > deadline) {
                    LOG.warn("could not read back {} within {}; duplicates may be delivered", partition, READ_BACK_TIMEOUT);
                    return;
                }
                for (ConsumerRecord<String, byte[]> record : reader.poll(POLL)) {
                    if (record.offset() < until) {
                        seen.firstTime(record);
                    }
                }
            }
        }
    }

    /** The (Core-UUID, Event-Sequence) of a partition's recent records. */
    private static final class Deduplicator {
        private final Set<String> recent;

        Deduplicator(int window) {
            this.recent = Collections.newSetFromMap(new LinkedHashMap<String, Boolean>(16, 0.75f, false) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > window;
                }
            });
        }

        /** False when the record carries an event seen before; records without identity always pass. */
        boolean firstTime(ConsumerRecord<String, byte[]> record) {
            String core = EventRecords.header(record.headers(), EventRecords.CORE_UUID_HEADER);
            String sequence = EventRecords.header(record.headers(), EventRecords.SEQUENCE_HEADER);
            if (core == null || sequence == null) {
                // FreeSWITCH's own publisher sets no headers: the identity is in the event.
                try {
                    EslEvent event = FreeSwitchJson.read(record.value());
                    core = event.header(EventRecords.CORE_UUID_HEADER);
                    sequence = event.header(EventRecords.SEQUENCE_HEADER);
                } catch (RuntimeException unreadable) {
                    return true; // counted when decoded for delivery
                }
            }
            if (core == null || sequence == null) {
                return true;
            }
            return recent.add(core + '#' + sequence.trim());
        }
    }

    /** One poll's events, grouped by record key; each key delivered in order by one task. */
    private final class Batch {
        final Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        private final Map<String, List<ClusterEvent>> byKey = new LinkedHashMap<>();
        private CountDownLatch done;

        void add(String key, ClusterEvent event) {
            byKey.computeIfAbsent(key == null ? "" : key, k -> new ArrayList<>()).add(event);
        }

        void submit() {
            done = new CountDownLatch(byKey.size());
            for (List<ClusterEvent> events : byKey.values()) {
                executor.execute(() -> {
                    try {
                        for (ClusterEvent event : events) {
                            if (crashed) {
                                return;
                            }
                            dispatch(event);
                        }
                    } finally {
                        done.countDown();
                    }
                });
            }
        }

        boolean await(long millis) throws InterruptedException {
            return done.await(millis, TimeUnit.MILLISECONDS);
        }
    }

    private void dispatch(ClusterEvent event) {
        String name = event.event().eventName();
        String subclass = event.event().eventSubclass();
        for (Registration registration : listeners) {
            if (registration.eventName == null || registration.eventName.equals(name)
                    || registration.eventName.equals(subclass)) {
                try {
                    registration.listener.onEvent(event);
                } catch (RuntimeException failed) {
                    listenerFailures.incrementAndGet();
                    LOG.warn("listener failed on {}", event, failed);
                }
            }
        }
        delivered.incrementAndGet();
    }

    /** A listener and the event name it wants (null: all). */
    private static final class Registration {
        final String eventName;
        final ClusterEventListener listener;

        Registration(String eventName, ClusterEventListener listener) {
            this.eventName = eventName;
            this.listener = listener;
        }
    }

    // ---- lifecycle ------------------------------------------------------------------------------

    /**
     * Stops: waits for the listeners of the current poll, commits, leaves the group (its
     * partitions go to the other instances at once). Idempotent.
     */
    @Override
    public void close() {
        shutDown(false);
    }

    /** Stops as a killed process would: listeners cut off, nothing committed, no LeaveGroup. For failure tests. */
    void crash() {
        shutDown(true);
    }

    private synchronized void shutDown(boolean crash) {
        if (closed) {
            return;
        }
        crashed = crash;
        closed = true;
        // The poll loop sees the flag within one poll; a batch being delivered is finished and
        // committed first (close) or abandoned (crash).
        if (started) {
            try {
                pollThread.join(STOP_TIMEOUT_MS);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        executor.shutdownNow();
        try {
            // After this returns no listener of this consumer runs any more.
            if (!executor.awaitTermination(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                LOG.warn("listeners still running {} ms after the consumer stopped", STOP_TIMEOUT_MS);
            }
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "EslKafkaConsumer{" + options.eventsTopic() + ", group " + options.consumerGroup() + ", partitions "
                + assignedPartitions() + (closed ? ", closed" : "") + "}";
    }
}
