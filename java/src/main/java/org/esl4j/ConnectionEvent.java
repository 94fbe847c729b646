package org.esl4j;

import java.time.Duration;

/**
 * A change of an {@link EslClient}'s connection: lost, restored (with the gap during which events
 * were lost), or closed for good.
 */
public final class ConnectionEvent {
    /** What happened. */
    public enum Type {
        /** The connection dropped; the client is reconnecting (if its policy allows). */
        DISCONNECTED,
        /** The connection is back and subscriptions were sent again; events of the gap are lost. */
        RECONNECTED,
        /** The client is closed: by {@link EslClient#close()}, or because reconnecting gave up. */
        CLOSED
    }

    private final Type type;
    private final String reason;
    private final Duration gap;
    private final int attempts;

    ConnectionEvent(Type type, String reason, Duration gap, int attempts) {
        this.type = type;
        this.reason = reason;
        this.gap = gap;
        this.attempts = attempts;
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

    @Override
    public String toString() {
        return "ConnectionEvent{" + type + ", " + reason + (type == Type.RECONNECTED ? ", gap=" + gap : "") + "}";
    }
}
