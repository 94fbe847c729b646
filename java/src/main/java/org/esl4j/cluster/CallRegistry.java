package org.esl4j.cluster;

import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which node owns each call UUID, and how many channels each node has: learnt from originates
 * (their leg UUIDs are chosen before sending) and from {@code CHANNEL_CREATE} / {@code
 * CHANNEL_HANGUP_COMPLETE}. Bounded: beyond the cap the oldest entry is forgotten. Thread-safe;
 * one lock, held only for map updates.
 */
final class CallRegistry {
    /** An owned UUID; {@code confirmed} once the channel is known to exist. */
    private static final class Entry {
        final String node;
        boolean confirmed;

        Entry(String node, boolean confirmed) {
            this.node = node;
            this.confirmed = confirmed;
        }
    }

    private final int cap;
    /** Insertion order, so the eldest entry is the one forgotten first. */
    private final LinkedHashMap<String, Entry> owners = new LinkedHashMap<>();
    private final Map<String, Integer> channelsByNode = new HashMap<>();

    CallRegistry(int cap) {
        this.cap = cap;
    }

    /** The legs of an originate about to be sent to {@code node}: owned, not yet confirmed. */
    synchronized void expect(Collection<String> uuids, String node) {
        for (String uuid : uuids) {
            put(uuid, node, false);
        }
    }

    /** A channel that exists on {@code node} (its CHANNEL_CREATE, or an originate's +OK). */
    synchronized void created(String uuid, String node) {
        put(uuid, node, true);
    }

    /** A channel of {@code node} is gone; an entry of another node is left alone. */
    synchronized void hungUp(String uuid, String node) {
        Entry entry = owners.get(uuid);
        if (entry != null && entry.node.equals(node)) {
            remove(uuid);
        }
    }

    /**
     * Forgets the legs of a finished or unsent originate that never showed up as channels. A leg
     * whose CHANNEL_CREATE is merely still on its way is added again by that event.
     */
    synchronized void dropUnconfirmed(Collection<String> uuids, String node) {
        for (String uuid : uuids) {
            Entry entry = owners.get(uuid);
            if (entry != null && !entry.confirmed && entry.node.equals(node)) {
                remove(uuid);
            }
        }
    }

    synchronized String ownerOf(String uuid) {
        Entry entry = owners.get(uuid);
        return entry == null ? null : entry.node;
    }

    synchronized int channels(String node) {
        Integer count = channelsByNode.get(node);
        return count == null ? 0 : count;
    }

    synchronized int size() {
        return owners.size();
    }

    private void put(String uuid, String node, boolean confirmed) {
        Entry existing = owners.get(uuid);
        if (existing != null && existing.node.equals(node)) {
            existing.confirmed |= confirmed;
            return;
        }
        if (existing != null) {
            remove(uuid);
        }
        owners.put(uuid, new Entry(node, confirmed));
        channelsByNode.merge(node, 1, Integer::sum);
        Iterator<Map.Entry<String, Entry>> eldest = owners.entrySet().iterator();
        while (owners.size() > cap) {
            Map.Entry<String, Entry> evicted = eldest.next();
            eldest.remove();
            uncount(evicted.getValue().node);
        }
    }

    private void remove(String uuid) {
        Entry removed = owners.remove(uuid);
        if (removed != null) {
            uncount(removed.node);
        }
    }

    private void uncount(String node) {
        channelsByNode.computeIfPresent(node, (name, count) -> count <= 1 ? null : count - 1);
    }
}
