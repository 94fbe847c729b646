package org.esl4j.spring;

/** Where an inbound connection stands, as the health indicator reports it. */
public enum ConnectionState {
    /** Not connected yet: connecting in the background ({@code esl4j.inbound.connect-in-background}). */
    CONNECTING,
    /** Connected and authenticated. */
    CONNECTED,
    /** The connection was lost; the reconnect policy is trying again. */
    RECONNECTING,
    /** Lost for good (no reconnect, or reconnect gave up) or closed. */
    DOWN
}
