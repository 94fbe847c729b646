package org.esl4j;

import java.time.Duration;

/**
 * A change of an {@link EslClient}'s connection: lost, restored (with the gap during which events
 * were lost), overloaded (events were lost, with counts), or closed for good.
 */
public final class ConnectionEvent {
    /** What happened. */
    public enum Type {
        /**
         * The first connection of {@link EslClient#connectInBackground(ClientOptions)} is up and
         * the subscriptions and filters asked for before it were sent.
         */
        CONNECTED,
        /** The connection dropped; the client is reconnecting (if its policy allows). */
        DISCONNECTED,
        /** The connection is back and subscriptions were sent again; events of the gap are lost. */
        RECONNECTED,
        /**
         * Listeners fell so far behind that the connection's event queue reached its hard cap
         * ({@link ClientOptions.Builder#spill(int, long)}): the connection was closed, commands
         * pending then failed with {@link EslOverloadedException}, and the events FreeSWITCH sent
         * after the ones already delivered are lost, call-ending ones included ({@link
         * #droppedCriticalEvents()}). {@link #DISCONNECTED} follows, then RECONNECTED if the policy
         * allows; reconcile call state with {@code show channels}.
         */
        OVERLOADED,
        /** The client is closed: by {@link EslClient#close()}, or because reconnecting gave up. */
        CLOSED
    }

    private final Type type;
    private final String reason;
    private final Duration gap;
    private final int attempts;
    private final long droppedEvents;
    private final long droppedCriticalEvents;

    ConnectionEvent(Type type, String reason, Duration gap, int attempts) {
        this(type, reason, gap, attempts, 0, 0);
    }

    ConnectionEvent(Type type, String reason, Duration gap, int attempts, long droppedEvents, long droppedCriticalEvents) {
        this.type = type;
        this.reason = reason;
        this.gap = gap;
        this.attempts = attempts;
        this.droppedEvents = droppedEvents;
        this.droppedCriticalEvents = droppedCriticalEvents;
    }

    /** The notice of an overloaded connection, from the engine's overload item (kind {@code KIND_OVERLOADED} in the poll batch). */
    static ConnectionEvent overloaded(long droppedEvents, long droppedCriticalEvents, long queued) {
        return new ConnectionEvent(Type.OVERLOADED, "event queue reached its hard cap with " + queued
                + " events waiting; connection closed", Duration.ZERO, 0, droppedEvents, droppedCriticalEvents);
    }

    /**
     * What happened.
     *
     * @return the type
     */
    public Type type() {
        return type;
    }

    /**
     * Why, in words.
     *
     * @return the reason
     */
    public String reason() {
        return reason;
    }

    /**
     * For {@link Type#RECONNECTED}: how long the client had no connection, so events of that
     * period (including hang-ups) are missing; reconcile with {@code show channels} if needed.
     *
     * @return the gap, zero for other types
     */
    public Duration gap() {
        return gap;
    }

    /**
     * For {@link Type#RECONNECTED}: connection attempts it took.
     *
     * @return the attempts, 0 for other types
     */
    public int attempts() {
        return attempts;
    }

    /**
     * For {@link Type#OVERLOADED}: ordinary events the connection's queue dropped so far.
     *
     * @return the count, 0 for other types
     */
    public long droppedEvents() {
        return droppedEvents;
    }

    /**
     * For {@link Type#OVERLOADED}: call-ending events the connection's queue dropped so far
     * (read from the socket but not queued; events still unread when the connection closed are
     * not counted).
     *
     * @return the count, 0 for other types
     */
    public long droppedCriticalEvents() {
        return droppedCriticalEvents;
    }

    @Override
    public String toString() {
        return "ConnectionEvent{" + type + ", " + reason + (type == Type.RECONNECTED ? ", gap=" + gap : "")
                + (type == Type.OVERLOADED ? ", dropped=" + droppedEvents + ", criticalDropped=" + droppedCriticalEvents : "")
                + "}";
    }
}
