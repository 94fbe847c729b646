package org.esl4j.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.esl4j.Subscription;
import org.esl4j.cluster.EslCluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the events of an {@link EslCluster}'s FreeSWITCH nodes to a Kafka topic, one relaying
 * instance per node at a time.
 *
 * <pre>{@code
 * EslCluster cluster = EslCluster.start(clusterOptions);          // every instance, all nodes
 * cluster.subscribe("ALL");
 * EslKafkaRelay relay = EslKafkaRelay.start(cluster, kafkaOptions);
 * }</pre>
 *
 * <p><b>Records.</b> Key, headers and value as {@link EventRecords} describes: by call, with the
 * node, Core-UUID and Event-Sequence as headers, FreeSWITCH's JSON as the value.
 *
 * <p><b>Who relays.</b> Every instance runs a relay and joins the relay group on the control
 * topic, which has one partition per node (node {@code i} of the cluster's configuration order is
 * partition {@code i}). The instance the group assigns a partition relays that node; the others
 * stand by. When the relaying instance leaves or dies, Kafka assigns its partitions to the others.
 *
 * <p><b>Hand-over.</b> FreeSWITCH cannot replay events: an event exists only on the connections
 * that received it. So every instance, relaying or not, holds the last {@link
 * KafkaOptions#standbyEvents()} events of every node. The relay writes, to its node's control
 * partition, the last event whose publication Kafka acknowledged (every {@link
 * KafkaOptions#progressEvery()} events or {@link KafkaOptions#progressInterval()}). A new relay
 * reads that record and publishes from its own held events from there on (less {@link
 * KafkaOptions#republishMargin()}), so events the old relay published after its last record
 * are published twice; consumers remove these duplicates by (Core-UUID, Event-Sequence). No event
 * is lost as long as the new relay still holds the events after the last record: the
 * hand-over (the session timeout for a dead instance) must not take longer than the standby
 * ring covers, and the new relay must have been connected to the node the whole time. When it
 * holds nothing that old, the relay logs the possible gap and counts it ({@link
 * #possiblyMissed()}).
 *
 * <p>The cluster must not be sharded ({@link org.esl4j.cluster.ClusterOptions#shardCount()} 1):
 * the relay needs every event. Close the relay before the cluster.
 */
public final class EslKafkaRelay implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EslKafkaRelay.class);
    private static final Duration CONTROL_POLL = Duration.ofMillis(200);
    private static final long WAIT_SLICE_MS = 100;
    private static final long STOP_TIMEOUT_MS = 30_000;
    private static final Duration TAIL_READ_TIMEOUT = Duration.ofSeconds(30);
    /** Sends a node relay has in flight at most; it waits for acknowledgements beyond. */
    private static final int MAX_IN_FLIGHT = 20_000;
    private static final Duration REJOIN_BACKOFF = Duration.ofSeconds(5);

    private final KafkaOptions options;
    private final List<String> nodes;
    private final Map<String, NodeLog> logs = new HashMap<>();
    private final Subscription subscription;
    private final KafkaProducer<String, byte[]> producer;
    private final Thread controlThread;
    private final Map<Integer, NodeRelay> relaying = new ConcurrentHashMap<>();
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong possiblyMissed = new AtomicLong();
    private volatile KafkaConsumer<String, byte[]> control;
    private volatile boolean closed;
    /** Set by {@link #crash()}: stop as a killed process would, without a last progress record. */
    private volatile boolean crashed;
    /** Set by a node relay that failed: the membership is left and joined again. */
    private volatile boolean failedRelay;
    private final CountDownLatch stopped = new CountDownLatch(1);

    private EslKafkaRelay(EslCluster cluster, KafkaOptions options) {
        this.options = options;
        this.nodes = Collections.unmodifiableList(new ArrayList<>(cluster.states().keySet()));
        for (String node : nodes) {
            logs.put(node, new NodeLog(options.standbyEvents()));
        }
        KafkaClients.ensureTopic(options, options.eventsTopic(), options.eventsPartitions(), Collections.emptyMap());
        // Compacted: only each node's last progress record matters.
        KafkaClients.ensureTopic(options, options.controlTopic(), nodes.size(),
                Collections.singletonMap("cleanup.policy", "compact"));
        String instance = "esl4j-relay-" + Long.toHexString(System.nanoTime());
        this.producer = new KafkaProducer<>(KafkaClients.producer(options, instance));
        this.subscription = cluster.onAnyEvent(event -> logs.get(event.node()).append(event.event()));
        this.controlThread = new Thread(() -> runControl(instance), instance + "-control");
        controlThread.setDaemon(true);
    }

    /**
     * Starts relaying: creates the topics when missing, starts holding every node's events and
     * joins the relay group. Returns at once; a node is relayed once the group assigned it.
     *
     * @param cluster the FreeSWITCH nodes, not sharded, subscribed to the events to relay
     * @param options the broker, topics and bounds
     * @return the running relay
     * @throws org.esl4j.EslException when the broker cannot be reached or the control topic has
     *     fewer partitions than the cluster has nodes
     */
    public static EslKafkaRelay start(EslCluster cluster, KafkaOptions options) {
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(options, "options");
        if (cluster.options().shardCount() != 1) {
            throw new IllegalArgumentException("the relay needs every event: its cluster must not be sharded");
        }
        EslKafkaRelay relay = new EslKafkaRelay(cluster, options);
        relay.controlThread.start();
        return relay;
    }

    /**
     * The nodes this instance relays now.
     *
     * @return node names, a snapshot
     */
    public List<String> relayedNodes() {
        List<String> names = new ArrayList<>();
        for (Integer partition : relaying.keySet()) {
            names.add(nodes.get(partition));
        }
        Collections.sort(names);
        return names;
    }

    /**
     * Events this instance published (each send counted once Kafka acknowledged it).
     *
     * @return the count
     */
    public long published() {
        return published.get();
    }

    /**
     * Event-Sequence numbers a hand-over could not account for: taken over from a record older
     * than the oldest event held (see the class comment). 0 in a healthy system.
     *
     * @return the count
     */
    public long possiblyMissed() {
        return possiblyMissed.get();
    }

    // ---- the relay group ------------------------------------------------------------------------

    /**
     * Keeps this instance in the relay group until closed. A membership that fails (the broker
     * unreachable past the clients' timeouts, a node relay that failed) is left, so the group
     * gives its nodes to other instances, and joined again after {@link #REJOIN_BACKOFF}.
     */
    private void runControl(String instance) {
        while (!closed) {
            try {
                runMembership(instance);
            } catch (WakeupException closing) {
                return; // close() or crash()
            } catch (RuntimeException failed) {
                LOG.error("relay group membership failed; this instance joins again in {}", REJOIN_BACKOFF, failed);
            }
            try {
                if (stopped.await(REJOIN_BACKOFF.toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException interrupted) {
                return;
            }
        }
    }

    private void runMembership(String instance) {
        KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(KafkaClients.consumer(options, instance + "-group", options.relayGroup()));
        KafkaConsumer<String, byte[]> tailReader =
                new KafkaConsumer<>(KafkaClients.consumer(options, instance + "-tail", null));
        control = consumer;
        failedRelay = false;
        try {
            consumer.subscribe(Collections.singleton(options.controlTopic()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    for (TopicPartition partition : partitions) {
                        take(partition, tailReader);
                    }
                }

                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    release(partitions, !crashed);
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    release(partitions, false);
                }
            });
            while (!closed) {
                // The progress records come back here too; only the membership matters.
                consumer.poll(CONTROL_POLL);
                if (failedRelay) {
                    throw new IllegalStateException("a node relay failed");
                }
            }
        } finally {
            if (crashed) {
                // A killed process sends no LeaveGroup: the group waits for the session timeout.
                consumer.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP)
                        .withTimeout(Duration.ZERO));
            } else {
                consumer.close();
            }
            tailReader.close();
            release(new ArrayList<>(partitionsRelayed()), !crashed);
        }
    }

    private List<TopicPartition> partitionsRelayed() {
        List<TopicPartition> partitions = new ArrayList<>();
        for (Integer partition : relaying.keySet()) {
            partitions.add(new TopicPartition(options.controlTopic(), partition));
        }
        return partitions;
    }

    private void take(TopicPartition partition, KafkaConsumer<String, byte[]> tailReader) {
        if (partition.partition() >= nodes.size()) {
            return; // a control topic with more partitions than nodes: the rest relay nothing
        }
        String node = nodes.get(partition.partition());
        String[] last = lastProgress(partition, tailReader);
        String core = last == null ? null : last[0];
        long sequence = last == null ? -1 : NodeLog.parseSequence(last[1]);
        NodeLog.Resume resume = logs.get(node).resume(core, sequence, options.republishMargin());
        if (resume.possiblyMissed > 0) {
            possiblyMissed.addAndGet(resume.possiblyMissed);
            LOG.warn("relay of node {}: the last published event was {} #{}, but the oldest one held here is {} later;"
                    + " up to {} events of the node may be missing from {}", node, core, sequence,
                    resume.possiblyMissed, resume.possiblyMissed, options.eventsTopic());
        }
        LOG.info("relaying node {} from {} #{} (position {})", node, core, sequence, resume.position);
        NodeRelay relay = new NodeRelay(node, partition.partition(), resume.position);
        relaying.put(partition.partition(), relay);
        relay.start();
    }

    private void release(Collection<TopicPartition> partitions, boolean graceful) {
        for (TopicPartition partition : partitions) {
            NodeRelay relay = relaying.remove(partition.partition());
            if (relay != null) {
                relay.stop(graceful);
            }
        }
    }

    /** The node's last progress record, {core, sequence}, or null when there is none. */
    private String[] lastProgress(TopicPartition partition, KafkaConsumer<String, byte[]> reader) {
        List<TopicPartition> only = Collections.singletonList(partition);
        reader.assign(only);
        long end = reader.endOffsets(only, TAIL_READ_TIMEOUT).get(partition);
        long begin = reader.beginningOffsets(only, TAIL_READ_TIMEOUT).get(partition);
        if (end <= begin) {
            return null;
        }
        // Compaction may leave the last offset empty (a transaction marker never is here); read the
        // last record at or after end - 1 - a small slack, keeping the last one.
        reader.seek(partition, Math.max(begin, end - 16));
        String[] last = null;
        long deadline = System.nanoTime() + TAIL_READ_TIMEOUT.toNanos();
        while (reader.position(partition, TAIL_READ_TIMEOUT) < end) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("could not read the progress of " + partition + " within "
                        + TAIL_READ_TIMEOUT);
            }
            for (ConsumerRecord<String, byte[]> record : reader.poll(CONTROL_POLL)) {
                String[] parts = new String(record.value(), StandardCharsets.UTF_8).split(" ");
                if (parts.length == 2) {
                    last = parts;
                }
            }
        }
        return last;
    }

    // ---- one node ---------------------------------------------------------------------------------

    /** A send not yet acknowledged, in send order. */
    private static final class Pending {
        final long position;
        final String core;
        final long sequence;
        /** 0 in flight, 1 acknowledged, 2 failed; written by the producer's I/O thread. */
        volatile int state;

        Pending(long position, String core, long sequence) {
            this.position = position;
            this.core = core;
            this.sequence = sequence;
        }
    }

    /** Relays one node on its own thread while this instance owns the node's control partition. */
    private final class NodeRelay implements Runnable {
        private final String node;
        private final int partition;
        private final NodeLog log;
        private final Thread thread;
        private final ArrayDeque<Pending> pending = new ArrayDeque<>();
        private long position;
        private Pending lastAcknowledged;
        private Pending lastRecorded;
        private long acknowledgedSinceRecord;
        private long lastRecordAt = System.nanoTime();
        private volatile boolean running = true;
        private volatile boolean graceful;

        NodeRelay(String node, int partition, long position) {
            this.node = node;
            this.partition = partition;
            this.log = logs.get(node);
            this.position = position;
            this.thread = new Thread(this, "esl4j-relay-" + node);
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        void stop(boolean gracefully) {
            graceful = gracefully;
            running = false;
            if (!gracefully) {
                thread.interrupt();
            }
            try {
                thread.join(STOP_TIMEOUT_MS);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                LOG.warn("relay of node {} did not stop within {} ms", node, STOP_TIMEOUT_MS);
            }
        }

        @Override
        public void run() {
            try {
                while (running) {
                    long end = log.awaitBeyond(position, WAIT_SLICE_MS);
                    while (position < end && running && pending.size() < MAX_IN_FLIGHT) {
                        NodeLog.Entry entry = log.at(position);
                        if (entry == null) {
                            long oldest = log.oldest();
                            possiblyMissed.addAndGet(oldest - position);
                            LOG.error("relay of node {} fell {} events behind its standby ring of {}: they are lost",
                                    node, oldest - position, options.standbyEvents());
                            position = oldest;
                            continue;
                        }
                        send(entry);
                        position++;
                    }
                    if (pending.size() >= MAX_IN_FLIGHT) {
                        producer.flush(); // back-pressure: Kafka is slower than the node
                    }
                    settle();
                }
            } catch (InterruptedException stopping) {
                // stop()
            } catch (RuntimeException failed) {
                LOG.error("relay of node {} failed; this instance leaves the relay group so another takes the node", node, failed);
                failedRelay = true;
            }
            if (graceful) {
                finish();
            }
        }

        private void send(NodeLog.Entry entry) {
            Pending sent = new Pending(position, entry.core, entry.sequence);
            RecordHeaders headers = new RecordHeaders();
            headers.add(EventRecords.NODE_HEADER, EventRecords.utf8(node));
            headers.add(EventRecords.CORE_UUID_HEADER, EventRecords.utf8(entry.core));
            headers.add(EventRecords.SEQUENCE_HEADER, EventRecords.utf8(Long.toString(entry.sequence)));
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(options.eventsTopic(), null,
                    EventRecords.keyOf(node, entry.event), FreeSwitchJson.write(entry.event), headers);
            pending.add(sent);
            producer.send(record, (metadata, failure) -> {
                sent.state = failure == null ? 1 : 2;
                if (failure != null) {
                    LOG.warn("relay of node {}: event #{} not published: {}", node, sent.sequence, failure.toString());
                }
            });
        }

        /** Takes the acknowledged prefix, rewinds after a failed send, writes progress when due. */
        private void settle() {
            Pending head;
            while ((head = pending.peek()) != null && head.state != 0) {
                pending.poll();
                if (head.state == 2) {
                    // Publish again from the first failure on; later sends that did succeed
                    // become duplicates, which consumers remove.
                    position = head.position;
                    pending.clear();
                    return;
                }
                lastAcknowledged = head;
                acknowledgedSinceRecord++;
                published.incrementAndGet();
            }
            boolean due = acknowledgedSinceRecord >= options.progressEvery()
                    || System.nanoTime() - lastRecordAt >= options.progressInterval().toNanos();
            if (due) {
                record();
            }
        }

        private void record() {
            Pending last = lastAcknowledged;
            lastRecordAt = System.nanoTime();
            if (last == null || last == lastRecorded) {
                return;
            }
            lastRecorded = last;
            acknowledgedSinceRecord = 0;
            producer.send(new ProducerRecord<>(options.controlTopic(), partition, node,
                    (last.core + " " + last.sequence).getBytes(StandardCharsets.UTF_8)));
        }

        /** A clean hand-over: wait for what is in flight, then record it, so the next relay repeats nothing. */
        private void finish() {
            try {
                producer.flush();
                settle();
                record();
                producer.flush();
            } catch (RuntimeException failed) {
                LOG.warn("relay of node {}: the last progress record was not written: {}", node, failed.toString());
            }
        }
    }

    // ---- lifecycle ----------------------------------------------------------------------------------

    /**
     * Stops relaying: hands this instance's nodes over (their last progress recorded), leaves
     * the relay group and closes the producer. The cluster stays open. Idempotent.
     */
    @Override
    public void close() {
        shutDown(false);
    }

    /**
     * Stops as a killed process would: no last progress record, no LeaveGroup, unsent events
     * dropped. For failure tests.
     */
    void crash() {
        shutDown(true);
    }

    private void shutDown(boolean crash) {
        if (closed) {
            return;
        }
        crashed = crash;
        closed = true;
        stopped.countDown();
        subscription.close();
        KafkaConsumer<String, byte[]> consumer = control;
        if (consumer != null) {
            consumer.wakeup();
        }
        try {
            controlThread.join(STOP_TIMEOUT_MS * 2);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
        producer.close(crash ? Duration.ZERO : Duration.ofSeconds(30));
    }

    @Override
    public String toString() {
        return "EslKafkaRelay{nodes " + nodes + ", relaying " + relayedNodes() + (closed ? ", closed" : "") + "}";
    }
}
