package org.esl4j;

import java.util.Locale;

/**
 * The wire format FreeSWITCH uses for events. Listeners always receive decoded {@link EslEvent}s;
 * the format only matters for bandwidth and for what FreeSWITCH can encode ({@link #PLAIN} is the
 * fastest to parse).
 */
public enum EventFormat {
    /** {@code text/event-plain}: URL-encoded headers. The default. */
    PLAIN,
    /** {@code text/event-json}. */
    JSON,
    /** {@code text/event-xml}. */
    XML;

    /** The word used in {@code event <format> ...} and {@code myevents <format>}. */
    String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
