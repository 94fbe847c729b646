package org.esl4j.kafka;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.esl4j.EslEvent;
import org.esl4j.cluster.ClusterOptions;
import org.esl4j.cluster.EslCluster;
import org.esl4j.testing.EslSimulator;
import org.junit.After;
import org.junit.Before;
import org.junit.ClassRule;
import org.junit.Test;

/**
 * Three application instances, each running an {@link EslCluster} on three FreeSWITCH simulators,
 * an {@link EslKafkaRelay} and an {@link EslKafkaConsumer}, against a real Kafka broker. Every
 * event the simulators sent (their Event-Sequence, as the test kit's own connection saw it) must
 * reach a listener, in order per channel, when an instance or a relay is killed midway.
 */
public class KafkaFailoverTest {
    private static final Duration DEADLINE = Duration.ofMinutes(3);
    private static final String[] NODES = {"fs1", "fs2", "fs3"};
    private static final String EXTENSION = "answered";
    private static final int PARTITIONS = 6;

    @ClassRule
    public static final KafkaBrokerResource BROKER = new KafkaBrokerResource();

    private final List<EslSimulator> simulators = new ArrayList<>();
    private final List<Instance> instances = new ArrayList<>();
    private final Deliveries deliveries = new Deliveries();
    /** Per node: the Event-Sequence of every event the simulator sent, as the kit's connection saw it. */
    private final Map<String, Set<Long>> sent = new ConcurrentHashMap<>();
    private KafkaOptions options;

    @Before
    public void startSimulators() {
        for (String node : NODES) {
            EslSimulator simulator = EslSimulator.builder().heartbeat(Duration.ZERO).start();
            simulator.route(EXTENSION, "answer", "hangup NORMAL_CLEARING");
            simulators.add(simulator);
            Set<Long> sequences = ConcurrentHashMap.newKeySet();
            sent.put(node, sequences);
            simulator.onEvent(event -> sequences.add(NodeLog.parseSequence(event.header("Event-Sequence"))));
        }
    }

    @After
    public void stopEverything() {
        for (Instance instance : instances) {
            instance.close();
        }
        for (EslSimulator simulator : simulators) {
            simulator.close();
        }
    }

    private KafkaOptions.Builder options() {
        String run = UUID.randomUUID().toString().substring(0, 8);
        return KafkaOptions.builder().bootstrapServers(BROKER.bootstrapServers())
                .eventsTopic("events-" + run).eventsPartitions(PARTITIONS).controlTopic("relay-" + run)
                .relayGroup("relay-" + run).consumerGroup("consumer-" + run)
                .sessionTimeout(Duration.ofSeconds(6)).dedupWindow(50_000).consumerThreads(4);
    }

    private void startInstances(KafkaOptions kafka) {
        options = kafka;
        for (int i = 0; i < 3; i++) {
            instances.add(new Instance(i));
        }
        // Every instance holds partitions before calls are placed: when the group has settled
        // with only two members, the third could join after the calls' events were all consumed,
        // and an instance to be killed "midway" would have handled nothing.
        await("every node relayed and every partition consumed by all instances", () -> {
            Set<String> relayed = new HashSet<>();
            int consumed = 0;
            boolean everyInstanceConsumes = true;
            for (Instance instance : instances) {
                relayed.addAll(instance.relay.relayedNodes());
                int assigned = instance.consumer.assignedPartitions().size();
                consumed += assigned;
                everyInstanceConsumes &= assigned > 0;
            }
            return relayed.size() == NODES.length && consumed == PARTITIONS && everyInstanceConsumes;
        });
    }

    /** Places calls round robin over the simulators; each is answered and hung up by the dialplan. */
    private void placeCalls(int count) {
        for (int i = 0; i < count; i++) {
            simulators.get(i % simulators.size()).call(EXTENSION);
        }
    }

    /** A marker event on every node, once its calls ended; returns its Event-Sequence by node. */
    private Map<String, Long> markEveryNode() {
        Map<String, Long> markers = new HashMap<>();
        for (int i = 0; i < NODES.length; i++) {
            EslSimulator simulator = simulators.get(i);
            await("the calls of " + NODES[i] + " ended", () -> simulator.channelCount() == 0);
            String marker = UUID.randomUUID().toString();
            simulator.fireEvent(EslEvent.builder().header("Event-Name", "CUSTOM")
                    .header("Event-Subclass", "esl4j::marker").header("Marker", marker).build());
            EslEvent fired = simulator.awaitEvent(event -> marker.equals(event.header("Marker")), DEADLINE);
            markers.put(NODES[i], NodeLog.parseSequence(fired.header("Event-Sequence")));
        }
        return markers;
    }

    /** The events each node sent between its two markers, both included. */
    private Map<String, Set<Long>> expected(Map<String, Long> from, Map<String, Long> to) {
        Map<String, Set<Long>> expected = new HashMap<>();
        for (String node : NODES) {
            Set<Long> range = new TreeSet<>();
            for (long sequence : sent.get(node)) {
                if (sequence >= from.get(node) && sequence <= to.get(node)) {
                    range.add(sequence);
                }
            }
            assertEquals(node + ": the kit saw every event between the markers", to.get(node) - from.get(node) + 1, range.size());
            expected.put(node, range);
        }
        return expected;
    }

    @Test
    public void anInstanceKilledMidwayLosesNoCallAndItsCallsAreTakenOver() {
        startInstances(options().build());
        Map<String, Long> start = markEveryNode();
        placeCalls(500);
        Instance victim = instances.get(1);
        await("the victim handled events", () -> deliveries.countAt(victim.index) > 1_000);
        victim.crash();
        placeCalls(500);
        Map<String, Long> end = markEveryNode();
        Map<String, Set<Long>> expected = expected(start, end);
        await("every event delivered", () -> deliveries.missing(expected).isEmpty(), () -> describeMissing(expected));

        deliveries.assertInOrderPerChannel();
        // At least once: an event twice only when the killed instance had it and had not committed it.
        for (Map.Entry<String, List<Integer>> twice : deliveries.repeated().entrySet()) {
            List<Integer> at = twice.getValue();
            assertTrue("delivered twice but not redelivered after the crash: " + twice,
                    at.size() == 2 && at.contains(victim.index) && at.get(0) == victim.index);
        }
        assertTrue("the killed instance's calls were taken over by the others", deliveries.callsMovedFrom(victim.index) > 0);
        assertTrue("after the takeover every node is relayed", relayedNodes().containsAll(List.of(NODES)));
    }

    @Test
    public void aRelayKilledMidwayIsReplacedWithoutGapAndItsDuplicatesAreRemoved() {
        // Progress every 200 events: the new relay republishes what came after the last record.
        startInstances(options().progressEvery(200).progressInterval(Duration.ofHours(1)).build());
        Map<String, Long> start = markEveryNode();
        placeCalls(150);
        Instance victim = null;
        for (Instance instance : instances) {
            if (instance.relay.relayedNodes().contains("fs1")) {
                victim = instance;
            }
        }
        Instance relayOfFs1 = victim;
        await("fs1's relay published events", () -> relayOfFs1.relay.published() > 500);
        relayOfFs1.relay.crash();
        placeCalls(150);
        await("another instance relays fs1", () -> relayedNodes().contains("fs1"));
        Map<String, Long> end = markEveryNode();
        Map<String, Set<Long>> expected = expected(start, end);
        await("every event delivered", () -> deliveries.missing(expected).isEmpty(), () -> describeMissing(expected));

        deliveries.assertInOrderPerChannel();
        assertEquals("no consumer died: every event exactly once", Collections.emptyMap(), deliveries.repeated());
        long removed = 0;
        for (Instance instance : instances) {
            removed += instance.consumer.duplicatesRemoved();
        }
        Map<String, Integer> copies = publishedCopies("fs1");
        assertTrue("the new relay republished the overlap (" + copies.size() + " events of fs1 in the topic)",
                copies.values().stream().anyMatch(n -> n > 1));
        assertTrue("the consumers removed the republished events", removed > 0);
        for (long sequence : expected.get("fs1")) {
            assertTrue("fs1 #" + sequence + " is in the topic", copies.containsKey(Long.toString(sequence)));
        }
    }

    /** The missing events, and how many of them are in the topic (lost by a consumer) or not (by a relay). */
    private String describeMissing(Map<String, Set<Long>> expected) {
        List<String> missing = deliveries.missing(expected);
        Map<String, Map<String, Integer>> topic = new HashMap<>();
        int published = 0;
        for (String event : missing) {
            String[] nodeAndSequence = event.split("#");
            if (topic.computeIfAbsent(nodeAndSequence[0], this::publishedCopies).containsKey(nodeAndSequence[1])) {
                published++;
            }
        }
        return missing.size() + " missing (" + published + " of them in the topic), e.g. "
                + missing.subList(0, Math.min(10, missing.size()));
    }

    @Test
    public void aListenerOnAnyInstanceControlsTheCallThroughItsCluster() {
        startInstances(options().build());
        for (EslSimulator simulator : simulators) {
            simulator.route("parked", "park");
        }
        Set<String> hungUp = ConcurrentHashMap.newKeySet();
        for (Instance instance : instances) {
            // Whichever instance gets the call's park hangs it up, on the node the record names.
            instance.consumer.onClusterEvent("CHANNEL_PARK", park -> instance.cluster.client(park.node())
                    .api("uuid_kill " + park.event().uniqueId())
                    .thenRun(() -> hungUp.add(park.node() + "/" + park.event().uniqueId())));
        }
        for (int i = 0; i < 30; i++) {
            simulators.get(i % simulators.size()).call("parked");
        }
        for (int i = 0; i < NODES.length; i++) {
            EslSimulator simulator = simulators.get(i);
            await("every parked call of " + NODES[i] + " hung up by a listener", () -> simulator.channelCount() == 0,
                    () -> simulator.channelCount() + " channels left");
        }
        assertTrue("hang-ups went to every node: " + hungUp, hungUp.stream().map(id -> id.split("/")[0])
                .collect(Collectors.toSet()).containsAll(List.of(NODES)));
    }

    @Test
    public void recordsOfFreeSwitchsOwnPublisherAreConsumedTheSameWay() throws Exception {
        // mod_event_kafka's records: the JSON value only, no key, no headers; one sent twice.
        options = options().build();
        KafkaClients.ensureTopic(options, options.eventsTopic(), 1, Collections.emptyMap());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaClients.producer(options, "fs-module"))) {
            for (long sequence : new long[] {1, 2, 2, 3}) {
                EslEvent event = EslEvent.builder().header("Event-Name", "CHANNEL_ANSWER").header("Core-UUID", "core-1")
                        .header("Event-Sequence", Long.toString(sequence)).header("Unique-ID", "leg-a").build();
                producer.send(new ProducerRecord<>(options.eventsTopic(),
                        FreeSwitchJson.write(event))).get(30, TimeUnit.SECONDS);
            }
        }
        List<String> received = Collections.synchronizedList(new ArrayList<>());
        try (EslKafkaConsumer consumer = EslKafkaConsumer.create(options)) {
            consumer.onEvent("CHANNEL_ANSWER", event -> received.add(event.uniqueId() + "#" + event.header("Event-Sequence")));
            consumer.start();
            await("the module's events delivered", () -> received.size() >= 3 && consumer.duplicatesRemoved() == 1,
                    () -> received.toString());
            assertEquals(List.of("leg-a#1", "leg-a#2", "leg-a#3"), received);
        }
    }

    private Set<String> relayedNodes() {
        Set<String> relayed = new HashSet<>();
        for (Instance instance : instances) {
            if (!instance.dead) {
                relayed.addAll(instance.relay.relayedNodes());
            }
        }
        return relayed;
    }

    /** How many records of the topic carry each Event-Sequence of a node. */
    private Map<String, Integer> publishedCopies(String node) {
        Map<String, Integer> copies = new HashMap<>();
        try (KafkaConsumer<String, byte[]> reader = new KafkaConsumer<>(KafkaClients.consumer(options, "test-reader", null))) {
            List<TopicPartition> all = new ArrayList<>();
            for (PartitionInfo info : reader.partitionsFor(options.eventsTopic())) {
                all.add(new TopicPartition(info.topic(), info.partition()));
            }
            reader.assign(all);
            reader.seekToBeginning(all);
            Map<TopicPartition, Long> ends = reader.endOffsets(all);
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (all.stream().anyMatch(p -> reader.position(p) < ends.get(p))) {
                assertTrue("read the topic in time", System.nanoTime() < deadline);
                for (ConsumerRecord<String, byte[]> record : reader.poll(Duration.ofMillis(200))) {
                    if (node.equals(EventRecords.header(record.headers(), EventRecords.NODE_HEADER))) {
                        copies.merge(EventRecords.header(record.headers(), EventRecords.SEQUENCE_HEADER), 1, Integer::sum);
                    }
                }
            }
        }
        return copies;
    }

    private static void await(String what, BooleanSupplier condition) {
        await(what, condition, () -> "");
    }

    private static void await(String what, BooleanSupplier condition, Supplier<String> detail) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + DEADLINE + ": " + what + " " + detail.get());
            }
            try {
                // Polling a condition, not synchronising on time: any interval works.
                TimeUnit.MILLISECONDS.sleep(50);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                fail("interrupted while waiting: " + what);
            }
        }
    }

    /** One application instance: cluster, relay and consumer. */
    private final class Instance {
        final int index;
        final EslCluster cluster;
        final EslKafkaRelay relay;
        final EslKafkaConsumer consumer;
        volatile boolean dead;

        Instance(int index) {
            this.index = index;
            ClusterOptions.Builder nodes = ClusterOptions.builder();
            for (int i = 0; i < NODES.length; i++) {
                nodes.node(NODES[i], simulators.get(i).clientOptions().build());
            }
            cluster = EslCluster.start(nodes.build());
            cluster.subscribe("ALL");
            assertTrue("instance " + index + " connected", cluster.awaitUp(NODES.length, DEADLINE));
            relay = EslKafkaRelay.start(cluster, options);
            consumer = EslKafkaConsumer.create(options);
            // crash() returns once no listener runs: what is recorded here was delivered before the crash.
            consumer.onAnyClusterEvent(event -> deliveries.record(index, event.node(), event.event()));
            consumer.start();
        }

        void crash() {
            dead = true;
            consumer.crash();
            relay.crash();
            cluster.close();
        }

        void close() {
            consumer.close();
            relay.close();
            cluster.close();
        }
    }
}
