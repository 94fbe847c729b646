package org.esl4j;

/**
 * A snapshot of the event-delivery counters. For an {@link EslClient} the drop counts include the
 * engine's event queue in front of delivery; for an {@link EslOutboundServer}, delivery alone.
 *
 * <p>Call-ending events ({@code CHANNEL_HANGUP}, {@code CHANNEL_HANGUP_COMPLETE}, {@code
 * CHANNEL_DESTROY}, {@code CHANNEL_EXECUTE_COMPLETE}, {@code BACKGROUND_JOB}) are counted apart:
 * they are dropped only when the connection is overloaded (its queue reached its hard cap, see
 * {@link ConnectionEvent.Type#OVERLOADED}) or delivery is closed.
 *
 * <pre>{@code
 * DeliveryStats stats = client.deliveryStats();
 * if (stats.dropped() > 0) log.warn("listeners too slow: {}", stats);
 * if (stats.criticalDropped() > 0) log.error("call outcomes lost: reconcile with show channels");
 * }</pre>
 */
public final class DeliveryStats {
    private final int queueDepth;
    private final long delivered;
    private final long dropped;
    private final long criticalDropped;
    private final long overloads;
    private final long keptOverBound;
    private final long listenerFailures;
    private final long maxLagMicros;

    DeliveryStats(int queueDepth, long delivered, long dropped, long criticalDropped, long overloads, long keptOverBound,
            long listenerFailures, long maxLagMicros) {
        this.queueDepth = queueDepth;
        this.delivered = delivered;
        this.dropped = dropped;
        this.criticalDropped = criticalDropped;
        this.overloads = overloads;
        this.keptOverBound = keptOverBound;
        this.listenerFailures = listenerFailures;
        this.maxLagMicros = maxLagMicros;
    }

    /**
     * Events queued and not yet delivered.
     *
     * @return the current depth
     */
    public int queueDepth() {
        return queueDepth;
    }

    /**
     * Events handed to listeners so far, each counted once, before its listeners run (an event
     * that {@link EventViewListener}s read and no regular listener wants counts before the views
     * get it).
     *
     * @return the count
     */
    public long delivered() {
        return delivered;
    }

    /**
     * Ordinary events dropped because a queue was full.
     *
     * @return the count
     */
    public long dropped() {
        return dropped;
    }

    /**
     * Call-ending events dropped: only at an overload, or after delivery was closed.
     *
     * @return the count
     */
    public long criticalDropped() {
        return criticalDropped;
    }

    /**
     * Times the connection's event queue reached its hard cap, which closed the connection (the
     * reconnect policy then applies).
     *
     * @return the count
     */
    public long overloads() {
        return overloads;
    }

    /**
     * Call-ending events queued above the bound instead of being dropped (including those that
     * waited for room in the reserve).
     *
     * @return the count
     */
    public long keptOverBound() {
        return keptOverBound;
    }

    /**
     * Exceptions thrown by listeners, {@link EventViewListener}s included.
     *
     * @return the count
     */
    public long listenerFailures() {
        return listenerFailures;
    }

    /**
     * The longest time an event waited between arrival and delivery.
     *
     * @return microseconds
     */
    public long maxLagMicros() {
        return maxLagMicros;
    }

    @Override
    public String toString() {
        return "DeliveryStats{queueDepth=" + queueDepth + ", delivered=" + delivered + ", dropped=" + dropped
                + ", criticalDropped=" + criticalDropped + ", overloads=" + overloads + ", keptOverBound=" + keptOverBound + ", listenerFailures=" + listenerFailures
                + ", maxLag=" + maxLagMicros + "us}";
    }
}
