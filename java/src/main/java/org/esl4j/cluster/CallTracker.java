package org.esl4j.cluster;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.esl4j.EslEvent;

/**
 * Keeps the {@link CallRegistry} true to what the nodes report: every node's {@code
 * CHANNEL_CREATE} and {@code CHANNEL_HANGUP_COMPLETE}, and after a connect or a gap the node's
 * {@code show channels} list, which corrects the map for what happened while no events came.
 */
final class CallTracker {
    /** Events every node is subscribed to, for the call map and the channel counts. */
    static final List<String> TRACKED_EVENTS = Arrays.asList("CHANNEL_CREATE", "CHANNEL_HANGUP_COMPLETE");
    /** The node's channels, to correct the call map after a connect or a gap. */
    static final String LIST_CHANNELS = "show channels";

    private final CallRegistry calls;

    CallTracker(CallRegistry calls) {
        this.calls = calls;
    }

    /** Learns from one event of {@code node}; installed before any application listener. */
    void track(String node, EslEvent event) {
        String uuid = event.uniqueId();
        if (uuid == null) {
            return;
        }
        String name = event.eventName();
        if ("CHANNEL_CREATE".equals(name)) {
            calls.created(uuid, node);
        } else if ("CHANNEL_HANGUP_COMPLETE".equals(name)) {
            calls.hungUp(uuid, node);
        }
    }

    /** The map's version, taken before asking for a channel list (see {@link #reconcile}). */
    long version() {
        return calls.version();
    }

    /**
     * Hang-ups and new calls during a gap reached no listener: the node's channel list (the first
     * column of {@code show channels}) corrects the call map for entries older than {@code asOf}.
     * A refused list changes nothing.
     */
    void reconcile(String node, String channelList, long asOf) {
        if (channelList.startsWith("-")) {
            return;
        }
        Set<String> live = new HashSet<>();
        for (String line : channelList.split("\n")) {
            int comma = line.indexOf(',');
            String first = (comma < 0 ? line : line.substring(0, comma)).trim();
            if (comma > 0 && !first.equals("uuid") && first.indexOf(' ') < 0) {
                live.add(first);
            }
        }
        calls.reconcile(node, live, asOf);
    }
}
