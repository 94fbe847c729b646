package org.esl4j.cluster;

/** How {@link EslCluster#originate(org.esl4j.dial.OriginateRequest)} picks a node among the healthy ones. */
public enum Placement {
    /** Each originate goes to the next healthy node, in the order the nodes were configured. */
    ROUND_ROBIN,
    /**
     * Each originate goes to the healthy node with the fewest active channels: channels seen in
     * {@code CHANNEL_CREATE} and not yet in {@code CHANNEL_HANGUP_COMPLETE}, plus the legs of
     * originates sent there and not yet finished. A bridged call counts two channels. Ties go to
     * the node configured first.
     */
    LEAST_ACTIVE_CALLS
}
