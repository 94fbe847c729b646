package org.esl4j;

/** A snapshot of an {@link EslOutboundServer}'s counters. */
public final class OutboundStats {
    private final long sessions;
    private final long rejectedOverCap;
    private final long handshakeFailures;
    private final long active;
    private final long handlerFailures;
    private final long overloadedSessions;
    private final long criticalDropped;

    OutboundStats(long sessions, long rejectedOverCap, long handshakeFailures, long active, long handlerFailures,
            long overloadedSessions, long criticalDropped) {
        this.sessions = sessions;
        this.rejectedOverCap = rejectedOverCap;
        this.handshakeFailures = handshakeFailures;
        this.active = active;
        this.handlerFailures = handlerFailures;
        this.overloadedSessions = overloadedSessions;
        this.criticalDropped = criticalDropped;
    }

    /**
     * Sessions accepted (handshake done).
     *
     * @return the count
     */
    public long sessions() {
        return sessions;
    }

    /**
     * Connections closed at once because the session cap was reached (FreeSWITCH then tries the
     * next {@code socket} target or continues the dialplan).
     *
     * @return the count
     */
    public long rejectedOverCap() {
        return rejectedOverCap;
    }

    /**
     * Connections whose {@code connect} handshake failed or timed out.
     *
     * @return the count
     */
    public long handshakeFailures() {
        return handshakeFailures;
    }

    /**
     * Sessions alive now.
     *
     * @return the count
     */
    public long active() {
        return active;
    }

    /**
     * Handlers that failed (threw, or returned a stage that failed) while their call was up; see
     * {@link AsyncSessionHandler} for what happens to the call.
     *
     * @return the count
     */
    public long handlerFailures() {
        return handlerFailures;
    }

    /**
     * Sessions whose event queue reached its hard cap ({@link ConnectionOptions#spillMaxEvents()},
     * {@link ConnectionOptions#spillMaxBytes()}): the engine closed the call's socket, its pending
     * commands failed with {@code OVERLOADED}, and a WARN line gave the counts.
     *
     * @return the count
     */
    public long overloadedSessions() {
        return overloadedSessions;
    }

    /**
     * Call-ending events ({@code CHANNEL_HANGUP}, {@code CHANNEL_HANGUP_COMPLETE}, ...) that
     * overloaded sessions lost past their hard cap, summed over those sessions.
     *
     * @return the count
     */
    public long criticalDropped() {
        return criticalDropped;
    }

    @Override
    public String toString() {
        return "OutboundStats{sessions=" + sessions + ", rejectedOverCap=" + rejectedOverCap + ", handshakeFailures="
                + handshakeFailures + ", active=" + active + ", handlerFailures=" + handlerFailures
                + ", overloadedSessions=" + overloadedSessions + ", criticalDropped=" + criticalDropped + "}";
    }
}
