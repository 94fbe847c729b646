package org.esl4j.cluster;

import java.util.Objects;
import org.esl4j.dial.OriginateResult;

/** The outcome of {@link EslCluster#originate(org.esl4j.dial.OriginateRequest)} and the node that ran it. */
public final class PlacedOriginate {
    private final String node;
    private final OriginateResult result;

    PlacedOriginate(String node, OriginateResult result) {
        this.node = Objects.requireNonNull(node, "node");
        this.result = Objects.requireNonNull(result, "result");
    }

    /**
     * The node the originate was sent to; commands for the call go there.
     *
     * @return the node's name
     */
    public String node() {
        return node;
    }

    /**
     * The typed outcome, as {@link org.esl4j.EslClient#originate(org.esl4j.dial.OriginateRequest)} reports it.
     *
     * @return the outcome
     */
    public OriginateResult result() {
        return result;
    }

    @Override
    public String toString() {
        return node + ": " + result;
    }
}
