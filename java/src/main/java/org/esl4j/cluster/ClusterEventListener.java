package org.esl4j.cluster;

/**
 * Receives the events of every node of an {@link EslCluster}. Called on the delivery threads of
 * the node the event came from: events of one channel arrive in order, one at a time; different
 * channels and different nodes in parallel. Exceptions are caught and counted by the node's
 * client ({@link org.esl4j.DeliveryStats#listenerFailures()}).
 */
@FunctionalInterface
public interface ClusterEventListener {
    /**
     * Handles one event.
     *
     * @param event the event and the node it came from
     */
    void onEvent(ClusterEvent event);
}
