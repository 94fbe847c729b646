package org.esl4j.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which node owns each call UUID, and how many channels each node has: learnt from originates
 * (their leg UUIDs are chosen before sending) and from {@code CHANNEL_CREATE} / {@code
 * CHANNEL_HANGUP_COMPLETE}. Bounded: beyond the cap the oldest entry is forgotten. Thread-safe;
 * one lock, held only for map updates.
 */
final class CallRegistry {
    /** An owned UUID; {@code confirmed} once the channel is known to exist, at {@code version}. */
    private static final class Entry {
        final String node;
        boolean confirmed;
        long version;

        Entry(String node, boolean confirmed, long version) {
            this.node = node;
            this.confirmed = confirmed;
            this.version = version;
        }
    }

    private final int cap;
    /** Insertion order, so the eldest entry is the one forgotten first. */
    private final LinkedHashMap<String, Entry> owners = new LinkedHashMap<>();
    private final Map<String, Integer> channelsByNode = new HashMap<>();
    /** Counts every change, so a reconcile can tell entries older than its snapshot. */
    private long version;
    /**
     * The most recent hang-ups with their versions, so a reconcile does not bring back a call
     * that hung up after its channel list was made. Bounded like the map.
     */
    private final LinkedHashMap<String, Long> hungUpAt = new LinkedHashMap<>();

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
        hungUpAt.remove(uuid);
        hungUpAt.put(uuid, ++version);
        Iterator<String> eldest = hungUpAt.keySet().iterator();
        while (hungUpAt.size() > cap) {
            eldest.next();
            eldest.remove();
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

    /** The current version, taken just before asking a node for its channel list. */
    synchronized long version() {
        return version;
    }

    /**
     * Brings one node's entries in line with its channel list (after a connect or a reconnect,
     * whose gap may have hidden hang-ups and creations): confirmed entries of the node that are
     * not in the list and did not change since {@code asOf} are dropped; listed channels the map
     * lacks are added. Entries that changed after {@code asOf} are left alone: their events are
     * newer than the list.
     */
    synchronized void reconcile(String node, Set<String> live, long asOf) {
        List<String> gone = new ArrayList<>();
        for (Map.Entry<String, Entry> owned : owners.entrySet()) {
            Entry entry = owned.getValue();
            if (entry.node.equals(node) && entry.confirmed && entry.version <= asOf && !live.contains(owned.getKey())) {
                gone.add(owned.getKey());
            }
        }
        for (String uuid : gone) {
            remove(uuid);
        }
        for (String uuid : live) {
            Long hungUp = hungUpAt.get(uuid);
            if (!owners.containsKey(uuid) && (hungUp == null || hungUp <= asOf)) {
                put(uuid, node, true);
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
        version++;
        Entry existing = owners.get(uuid);
        if (existing != null && existing.node.equals(node)) {
            existing.confirmed |= confirmed;
            existing.version = version;
            return;
        }
        if (existing != null) {
            remove(uuid);
        }
        owners.put(uuid, new Entry(node, confirmed, version));
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
