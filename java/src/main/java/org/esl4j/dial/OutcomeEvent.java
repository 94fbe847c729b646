package org.esl4j.dial;

import java.util.List;

/**
 * What {@link BridgeResult} and {@link OriginateResult} read of a FreeSWITCH event: its name,
 * headers and body, and the channel fields derived from them. {@code org.esl4j.EslEvent} implements it, so an event received from a client
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

    /**
     * {@code Hangup-Cause}, parsed.
     *
     * @return the cause; {@link HangupCause#UNKNOWN} for a name this library does not know; null
     *     when the header is absent
     */
    default HangupCause hangupCause() {
        return HangupCause.fromName(header("Hangup-Cause"));
    }

    /**
     * {@code Answer-State}: {@code ringing}, {@code early}, {@code answered} or {@code hangup}.
     *
     * @return the answer state, or null
     */
    default String answerState() {
        return header("Answer-State");
    }

    /**
     * A channel variable, carried as the {@code variable_<name>} header on extended events
     * (CHANNEL_CREATE, ANSWER, EXECUTE_COMPLETE, HANGUP_COMPLETE, CHANNEL_DATA, ...).
     *
     * @param name the variable name without the {@code variable_} prefix
     * @return the first value, or null when the event does not carry it
     */
    default String variable(String name) {
        return header("variable_" + name);
    }

    /**
     * Every value of a multi-value channel variable, e.g. {@code originate_causes}.
     *
     * @param name the variable name without the {@code variable_} prefix
     * @return the values, empty when absent
     */
    default List<String> variableValues(String name) {
        return headerValues("variable_" + name);
    }
}
