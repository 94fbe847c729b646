package org.esl4j.cluster;

import java.util.Objects;
import org.esl4j.EslEvent;

/** An event of one FreeSWITCH node of an {@link EslCluster}, tagged with the node's name. */
public final class ClusterEvent {
    private final String node;
    private final EslEvent event;

    /**
     * Tags an event with its node; public so that events relayed through another transport
     * (esl4j-kafka) reach the same listeners.
     *
     * @param node the node's name in {@link ClusterOptions}
     * @param event the event
     */
    public ClusterEvent(String node, EslEvent event) {
        this.node = Objects.requireNonNull(node, "node");
        this.event = Objects.requireNonNull(event, "event");
    }

    /**
     * The node the event came from.
     *
     * @return its name in {@link ClusterOptions}
     */
    public String node() {
        return node;
    }

    /**
     * The event.
     *
     * @return the event as the node sent it
     */
    public EslEvent event() {
        return event;
    }

    @Override
    public String toString() {
        return node + ": " + event.eventName() + (event.uniqueId() == null ? "" : " " + event.uniqueId());
    }
}
