package org.esl4j.kafka;

import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.esl4j.EslEvent;

/** What the listeners of several application instances received, for the failover tests. */
final class Deliveries {
    /** node#sequence -> the instances it was delivered to, in delivery order. */
    private final Map<String, List<Integer>> byEvent = new HashMap<>();
    /** instance/node/Unique-ID -> the last Event-Sequence delivered there. */
    private final Map<String, Long> lastOfChannel = new HashMap<>();
    /** record key (call) -> the instances that handled its events. */
    private final Map<String, Set<Integer>> byCall = new HashMap<>();
    private final Map<Integer, Integer> countByInstance = new HashMap<>();
    private final List<String> outOfOrder = new ArrayList<>();

    synchronized void record(int instance, String node, EslEvent event) {
        long sequence = NodeLog.parseSequence(event.header("Event-Sequence"));
        byEvent.computeIfAbsent(node + "#" + sequence, k -> new ArrayList<>(1)).add(instance);
        countByInstance.merge(instance, 1, Integer::sum);
        String channel = event.uniqueId();
        if (channel != null) {
            Long previous = lastOfChannel.put(instance + "/" + node + "/" + channel, sequence);
            if (previous != null && previous >= sequence) {
                outOfOrder.add("instance " + instance + " got " + node + " #" + sequence + " of " + channel
                        + " after #" + previous);
            }
        }
        byCall.computeIfAbsent(EventRecords.keyOf(node, event), k -> new HashSet<>()).add(instance);
    }

    synchronized int countAt(int instance) {
        return countByInstance.getOrDefault(instance, 0);
    }

    /** The expected events delivered nowhere, as node#sequence. */
    synchronized List<String> missing(Map<String, Set<Long>> expected) {
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, Set<Long>> node : expected.entrySet()) {
            for (long sequence : node.getValue()) {
                if (!byEvent.containsKey(node.getKey() + "#" + sequence)) {
                    missing.add(node.getKey() + "#" + sequence);
                }
            }
        }
        return missing;
    }

    /** Events delivered more than once, with the instances in delivery order. */
    synchronized Map<String, List<Integer>> repeated() {
        Map<String, List<Integer>> repeated = new HashMap<>();
        for (Map.Entry<String, List<Integer>> event : byEvent.entrySet()) {
            if (event.getValue().size() > 1) {
                repeated.put(event.getKey(), new ArrayList<>(event.getValue()));
            }
        }
        return repeated;
    }

    /** Calls handled by {@code instance} and by another one. */
    synchronized int callsMovedFrom(int instance) {
        int moved = 0;
        for (Set<Integer> handlers : byCall.values()) {
            if (handlers.contains(instance) && handlers.size() > 1) {
                moved++;
            }
        }
        return moved;
    }

    synchronized void assertInOrderPerChannel() {
        assertEquals("events of a channel delivered out of order", Collections.emptyList(), outOfOrder);
    }
}
