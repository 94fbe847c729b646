package org.esl4j;

import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One FreeSWITCH event: its headers in the order the server sent them, and an optional body.
 *
 * <p>Immutable and safe to share between threads. Header values are already decoded (plain events
 * arrive URL-encoded on the wire; the engine decodes them before building this object). A header
 * that FreeSWITCH sends as {@code ARRAY::a|:b} appears as one header name with several values, in
 * order: {@link #header(String)} returns the first, {@link #headerValues(String)} all of them.
 * Header names are matched case-insensitively, as FreeSWITCH does.
 *
 * <p>The typed accessors cover the headers call-control code reads; each returns null when the
 * event lacks the header. For example, the outcome of a bridge with a no-answer timeout is read
 * from its {@code CHANNEL_EXECUTE_COMPLETE}:
 *
 * <pre>{@code
 * if ("CHANNEL_EXECUTE_COMPLETE".equals(event.eventName()) && "bridge".equals(event.application())) {
 *     String dialStatus = event.variable("DIALSTATUS");                 // e.g. "NOANSWER"
 *     String disposition = event.variable("originate_disposition");     // e.g. "NO_ANSWER"
 * }
 * }</pre>
 *
 * <p>Build one with {@link #builder()}; building costs two array hand-overs and no per-header
 * allocation beyond the strings themselves, because the event flood can exceed 250,000 events per
 * second.
 */
public final class EslEvent {
    private static final String VARIABLE_PREFIX = "variable_";
    private static final byte[] NO_BODY = new byte[0];

    private final String[] names;
    private final String[] values;
    private final int size;
    private final byte[] body;

    private EslEvent(String[] names, String[] values, int size, byte[] body) {
        this.names = names;
        this.values = values;
        this.size = size;
        this.body = body;
    }

    /**
     * Starts a new event.
     *
     * @return an empty builder
     */
    public static Builder builder() {
        return new Builder(16);
    }

    /**
     * Starts a new event, sized for the expected number of headers so no array is regrown.
     *
     * @param expectedHeaders how many headers the event will likely have
     * @return an empty builder
     */
    public static Builder builder(int expectedHeaders) {
        return new Builder(Math.max(1, expectedHeaders));
    }

    /**
     * The first value of a header.
     *
     * @param name the header name, any case
     * @return the value, or null when the event has no such header
     */
    public String header(String name) {
        for (int i = 0; i < size; i++) {
            if (names[i].equalsIgnoreCase(name)) {
                return values[i];
            }
        }
        return null;
    }

    /**
     * Every value of a header, in order. A multi-value header ({@code ARRAY::} on the wire) yields
     * several values.
     *
     * @param name the header name, any case
     * @return the values, empty when the event has no such header; never null
     */
    public List<String> headerValues(String name) {
        List<String> found = null;
        for (int i = 0; i < size; i++) {
            if (names[i].equalsIgnoreCase(name)) {
                if (found == null) {
                    found = new ArrayList<>(2);
                }
                found.add(values[i]);
            }
        }
        return found == null ? Collections.<String>emptyList() : Collections.unmodifiableList(found);
    }

    /**
     * Whether the event has a header of that name.
     *
     * @param name the header name, any case
     * @return true when present
     */
    public boolean hasHeader(String name) {
        return header(name) != null;
    }

    /**
     * All headers in the order received; a multi-value header appears once per value.
     *
     * @return an unmodifiable list of name/value pairs
     */
    public List<Map.Entry<String, String>> headers() {
        List<Map.Entry<String, String>> entries = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            entries.add(new AbstractMap.SimpleImmutableEntry<>(names[i], values[i]));
        }
        return Collections.unmodifiableList(entries);
    }

    /**
     * The number of header entries (each value of a multi-value header counts once).
     *
     * @return the header count
     */
    public int headerCount() {
        return size;
    }

    /**
     * Whether the event carries a body (for example a BACKGROUND_JOB's API output).
     *
     * @return true when the body is not empty
     */
    public boolean hasBody() {
        return body.length > 0;
    }

    /**
     * The body decoded as UTF-8.
     *
     * @return the body text, empty when there is none
     */
    public String body() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /**
     * The body as raw bytes.
     *
     * @return a copy of the body bytes, empty when there is none
     */
    public byte[] bodyBytes() {
        return body.clone();
    }

    /**
     * {@code Event-Name}, e.g. {@code CHANNEL_ANSWER}, {@code BACKGROUND_JOB}, {@code CUSTOM}.
     *
     * @return the event name, or null
     */
    public String eventName() {
        return header("Event-Name");
    }

    /**
     * {@code Event-Subclass} of a CUSTOM event, e.g. {@code sofia::register}.
     *
     * @return the subclass, or null
     */
    public String eventSubclass() {
        return header("Event-Subclass");
    }

    /**
     * {@code Unique-ID}: the UUID of the channel the event is about.
     *
     * @return the channel UUID, or null
     */
    public String uniqueId() {
        return header("Unique-ID");
    }

    /**
     * {@code Channel-Call-UUID}: shared by the legs of one call.
     *
     * @return the call UUID, or null
     */
    public String channelCallUuid() {
        return header("Channel-Call-UUID");
    }

    /**
     * {@code Job-UUID} of a BACKGROUND_JOB (or of a {@code bgapi} reply).
     *
     * @return the job UUID, or null
     */
    public String jobUuid() {
        return header("Job-UUID");
    }

    /**
     * {@code Application} of a CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE, e.g. {@code bridge}.
     *
     * @return the application name, or null
     */
    public String application() {
        return header("Application");
    }

    /**
     * {@code Application-Data}: the argument the application ran with.
     *
     * @return the argument, or null
     */
    public String applicationData() {
        return header("Application-Data");
    }

    /**
     * {@code Application-Response}; {@code bridge} always reports {@code _none_} here, so read its
     * outcome from the variables instead (see {@code BridgeResult}).
     *
     * @return the response, or null
     */
    public String applicationResponse() {
        return header("Application-Response");
    }

    /**
     * {@code Application-UUID}: the {@code Event-UUID} sent with the {@code execute}, which ties a
     * CHANNEL_EXECUTE_COMPLETE to the command that caused it.
     *
     * @return the application UUID, or null
     */
    public String applicationUuid() {
        return header("Application-UUID");
    }

    /**
     * {@code Hangup-Cause}, parsed.
     *
     * @return the cause; {@link HangupCause#UNKNOWN} for a name this library does not know; null
     *     when the header is absent
     */
    public HangupCause hangupCause() {
        return HangupCause.fromName(header("Hangup-Cause"));
    }

    /**
     * {@code Answer-State}: {@code ringing}, {@code early}, {@code answered} or {@code hangup}.
     *
     * @return the answer state, or null
     */
    public String answerState() {
        return header("Answer-State");
    }

    /**
     * {@code Channel-State}, e.g. {@code CS_EXECUTE}, {@code CS_HANGUP}.
     *
     * @return the channel state, or null
     */
    public String channelState() {
        return header("Channel-State");
    }

    /**
     * A channel variable, carried as the {@code variable_<name>} header on extended events
     * (CHANNEL_CREATE, ANSWER, EXECUTE_COMPLETE, HANGUP_COMPLETE, CHANNEL_DATA, ...).
     *
     * @param name the variable name without the {@code variable_} prefix
     * @return the first value, or null when the event does not carry it
     */
    public String variable(String name) {
        return header(VARIABLE_PREFIX + name);
    }

    /**
     * Every value of a multi-value channel variable, e.g. {@code originate_causes}.
     *
     * @param name the variable name without the {@code variable_} prefix
     * @return the values, empty when absent
     */
    public List<String> variableValues(String name) {
        return headerValues(VARIABLE_PREFIX + name);
    }

    @Override
    public boolean equals(Object other) {
        if (this == other) {
            return true;
        }
        if (!(other instanceof EslEvent)) {
            return false;
        }
        EslEvent that = (EslEvent) other;
        if (size != that.size || !Arrays.equals(body, that.body)) {
            return false;
        }
        for (int i = 0; i < size; i++) {
            if (!names[i].equals(that.names[i]) || !values[i].equals(that.values[i])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int hash = Arrays.hashCode(body);
        for (int i = 0; i < size; i++) {
            hash = 31 * hash + Objects.hash(names[i], values[i]);
        }
        return hash;
    }

    @Override
    public String toString() {
        return "EslEvent{" + eventName() + ", " + size + " headers, " + body.length + " body bytes}";
    }

    /**
     * Collects headers and a body, then {@link #build()}s an immutable {@link EslEvent}. Not
     * thread-safe; may be reused after {@code build()} to make another event.
     */
    public static final class Builder {
        private final int initialCapacity;
        private String[] names;
        private String[] values;
        private int size;
        private byte[] body = NO_BODY;

        private Builder(int initialCapacity) {
            this.initialCapacity = initialCapacity;
            reset();
        }

        private void reset() {
            names = new String[initialCapacity];
            values = new String[initialCapacity];
            size = 0;
            body = NO_BODY;
        }

        /**
         * Appends a header. Repeating a name adds another value of a multi-value header.
         *
         * @param name the header name, not null
         * @param value the decoded value, not null
         * @return this builder
         */
        public Builder header(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (size == names.length) {
                int grown = names.length * 2;
                names = Arrays.copyOf(names, grown);
                values = Arrays.copyOf(values, grown);
            }
            names[size] = name;
            values[size] = value;
            size++;
            return this;
        }

        /**
         * Sets the body bytes (copied).
         *
         * @param bytes the body, or null for none
         * @return this builder
         */
        public Builder body(byte[] bytes) {
            body = bytes == null || bytes.length == 0 ? NO_BODY : bytes.clone();
            return this;
        }

        /**
         * Sets the body as UTF-8 text.
         *
         * @param text the body, or null for none
         * @return this builder
         */
        public Builder body(String text) {
            body = text == null || text.isEmpty() ? NO_BODY : text.getBytes(StandardCharsets.UTF_8);
            return this;
        }

        /**
         * Makes the event and leaves this builder empty for the next one.
         *
         * @return the immutable event
         */
        public EslEvent build() {
            // The arrays are handed over, not copied; reset() gives the builder fresh ones.
            EslEvent event = new EslEvent(names, values, size, body);
            reset();
            return event;
        }
    }
}
