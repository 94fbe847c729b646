package org.esl4j.cluster;

/** The health of one node of an {@link EslCluster}, from its client's connection events. */
public enum NodeState {
    /** Connected and subscribed: the node takes originates and commands. */
    UP,
    /**
     * The connection dropped and the node's client is reconnecting by its own {@link
     * org.esl4j.ReconnectPolicy} (and, once connected, the call map is corrected from the node's
     * channel list); the node takes no originates meanwhile, and commands for its calls fail
     * (they are never sent to another node).
     */
    RECONNECTING,
    /**
     * No client: not connected yet, the connect failed, or the client gave up reconnecting. The
     * cluster connects again in the background every {@link ClusterOptions#retryInterval()}.
     */
    DOWN
}
