package org.esl4j;

/**
 * Told when an {@link EslClient}'s connection drops, comes back (with the gap during which events
 * were lost) or closes. Called on the client's reader thread: return quickly.
 */
@FunctionalInterface
public interface ConnectionListener {
    /**
     * Handles one connection change.
     *
     * @param event what happened
     */
    void onConnectionEvent(ConnectionEvent event);
}
