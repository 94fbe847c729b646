package org.esl4j;

/**
 * A snapshot of the event-delivery counters.
 *
 * <pre>{@code
 * DeliveryStats stats = client.deliveryStats();
 * if (stats.dropped() > 0) log.warn("listeners too slow: {}", stats);
 * }</pre>
 */
public final class DeliveryStats {
    private final int queueDepth;
    private final long delivered;
    private final long dropped;
    private final long keptOverBound;
    private final long listenerFailures;
    private final long maxLagMicros;

    DeliveryStats(int queueDepth, long delivered, long dropped, long keptOverBound, long listenerFailures, long maxLagMicros) {
        this.queueDepth = queueDepth;
        this.delivered = delivered;
        this.dropped = dropped;
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
     * Events handed to listeners so far.
     *
     * @return the count
     */
    public long delivered() {
        return delivered;
    }

    /**
     * Events dropped because the queue was full.
     *
     * @return the count
     */
    public long dropped() {
        return dropped;
    }

    /**
     * Call-ending events queued above the bound instead of being dropped.
     *
     * @return the count
     */
    public long keptOverBound() {
        return keptOverBound;
    }

    /**
     * Exceptions thrown by listeners.
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
                + ", keptOverBound=" + keptOverBound + ", listenerFailures=" + listenerFailures
                + ", maxLag=" + maxLagMicros + "us}";
    }
}
