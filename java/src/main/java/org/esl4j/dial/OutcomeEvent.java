package org.esl4j.dial;

import java.util.List;

/**
 * What {@link BridgeResult} and {@link OriginateResult} read of a FreeSWITCH event: its name,
 * headers and body. {@code org.esl4j.EslEvent} implements it, so an event received from a client
 * or a session is passed as is; this package names no type of the client package, which builds
 * on this one.
 */
public interface OutcomeEvent {
    /**
     * {@code Event-Name}.
     *
     * @return the event name, or null
     */
    String eventName();

    /**
     * The first value of a header.
     *
     * @param name the header name, any case
     * @return the value, or null when absent
     */
    String header(String name);

    /**
     * Every value of a header, in order; a multi-value header ({@code ARRAY::} on the wire) yields
     * several values.
     *
     * @param name the header name, any case
     * @return the values, empty when absent
     */
    List<String> headerValues(String name);

    /**
     * The body as UTF-8 text.
     *
     * @return the body, empty when there is none
     */
    String body();
}
