package org.esl4j.cluster;

/**
 * Told when a node's {@link NodeState} changes. Called in order per node, on a library thread (the
 * node client's reader or the cluster's connector): return quickly and do not wait there for
 * anything the cluster does.
 */
@FunctionalInterface
public interface NodeStateListener {
    /**
     * Handles one change.
     *
     * @param node the node's name
     * @param previous the state before
     * @param current the state now
     */
    void onNodeState(String node, NodeState previous, NodeState current);
}
