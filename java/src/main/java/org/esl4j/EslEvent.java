package org.esl4j;

import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.esl4j.dial.OutcomeEvent;
import org.esl4j.internal.FrameCodec;
import org.esl4j.internal.WireEvent;

/**
 * One FreeSWITCH event: its headers in the order the server sent them, and an optional body.
 *
 * <p>Immutable and safe to share between threads. Header values read decoded (plain events arrive
 * URL-encoded on the wire; a value is decoded the first time it is read). A header
 * that FreeSWITCH sends as {@code ARRAY::a|:b} appears as one header name with several values, in
 * order: {@link #header(String)} returns the first, {@link #headerValues(String)} all of them.
 * Header names are matched ignoring ASCII case, as FreeSWITCH's {@code strcasecmp} does.
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
 * <p>Build one with {@link #builder()}; building costs one array hand-over and no per-header
 * allocation beyond the strings themselves. An event received from the engine keeps its frame's
 * bytes and makes a header's strings only when that header is read, because the event flood can
 * exceed 250,000 events per second and a consumer typically reads a few of ~90 headers. The
 * events of one poll batch share that batch's byte array (never written after it arrived), so an
 * event kept for long keeps its batch (at most a few hundred KiB) reachable.
 */
public final class EslEvent implements OutcomeEvent {
    private static final byte[] NO_BODY = new byte[0];

    /**
     * Names and values interleaved (name 0, value 0, name 1, ...). A built event fills it at once;
     * an event from the wire makes it when a header other than Event-Name or Unique-ID is first
     * read and fills an entry the first time it is read, from {@link #wire}: most consumers read
     * two or three headers of the ninety an event carries.
     */
    private String[] texts;
    private final int size;
    /** The frame an event from the wire reads its headers from; null for a built event. */
    private final WireEvent wire;
    /** A built event: its body. An event from the wire: its poll batch (never written). */
    private final byte[] bytes;
    private final int bodyStart;
    private final int bodyLength;
    /** Event-Name and Unique-ID of an event from the wire, read by every delivery, once made. */
    private String eventName;
    private String uniqueId;

    private EslEvent(String[] texts, int size, byte[] body) {
        this.texts = texts;
        this.size = size;
        this.wire = null;
        this.bytes = body;
        this.bodyStart = 0;
        this.bodyLength = body.length;
    }

    /**
     * The event of a frame esl4j's own decoder read from the engine. Not API: public only because
     * that decoder lives in {@code org.esl4j.internal}, which is not API either and may change in any
     * release; applications build events with {@link #builder()}.
     *
     * @param frame a checked frame of a poll batch
     * @return the event reading its headers from {@code frame}
     */
    public static EslEvent fromWire(WireEvent frame) {
        return new EslEvent(Objects.requireNonNull(frame, "frame"));
    }

    private EslEvent(WireEvent wire) {
        this.texts = null;
        this.size = wire.headerCount();
        this.wire = wire;
        this.bytes = wire.batch();
        this.bodyStart = wire.bodyStart();
        this.bodyLength = wire.bodyLength();
    }

    /** Text {@code slot} of {@link #texts} (2i: name i, 2i+1: value i), decoded on first use. */
    private String text(int slot) {
        String[] cache = texts;
        if (cache == null) {
            // Racing readers may each make an array; entries lost that way are decoded again.
            cache = new String[size * 2];
            texts = cache;
        }
        String text = cache[slot];
        if (text == null) {
            // Racing readers decode equal strings; String is immutable, so either may win.
            text = (slot & 1) == 0 ? wire.name(slot >> 1) : wire.value(slot >> 1);
            cache[slot] = text;
        }
        return text;
    }

    /** A hot header's value of an event from the wire, made without the {@link #texts} array. */
    private String decodeHot(int which) {
        int index = wire.hotIndex(which);
        return index < 0 ? null : wire.value(index);
    }

    /**
     * The value of a hot header: from the frame's index for an event from the wire, by name
     * otherwise.
     */
    private String hot(int which, String name) {
        if (wire == null) {
            return header(name);
        }
        int index = wire.hotIndex(which);
        return index < 0 ? null : value(index);
    }

    private String name(int header) {
        if (texts == null && wire != null) {
            // A name read by position (compat groups repeated names this way) is made on its own:
            // the text array for it would cost two slots for each of the ~90 headers.
            return wire.name(header);
        }
        return text(header * 2);
    }

    private String value(int header) {
        if (wire != null) {
            // Event-Name and Unique-ID read by position (compat getHeader) without the texts array.
            if (header == wire.hotIndex(FrameCodec.HOT_EVENT_NAME)) {
                return eventName();
            }
            if (header == wire.hotIndex(FrameCodec.HOT_UNIQUE_ID)) {
                return uniqueId();
            }
        }
        return text(header * 2 + 1);
    }

    /**
     * Whether header {@code header}'s name is {@code name}, ignoring ASCII case like FreeSWITCH's
     * {@code strcasecmp}; an event from the wire compares its bytes with {@code key}
     * ({@link WireEvent#key}).
     */
    private boolean nameIs(int header, String name, byte[] key) {
        if (wire != null) {
            return wire.nameIs(header, name, key);
        }
        String own = texts[header * 2];
        if (own.length() != name.length()) {
            return false;
        }
        for (int i = 0; i < own.length(); i++) {
            if (!WireEvent.sameIgnoringAsciiCase(own.charAt(i), name.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** What {@link #nameIs} compares a wire event's name bytes with; null for a built event. */
    private byte[] key(String name) {
        return wire == null ? null : WireEvent.key(name);
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
    @Override
    public String header(String name) {
        int index = headerIndex(name, 0);
        return index < 0 ? null : value(index);
    }

    /**
     * Where a header is, for reading headers by position without making a list.
     *
     * @param name the header name, any case (ASCII letters only are folded)
     * @param from the first position to look at
     * @return the position of the first header of that name at or after {@code from}, or -1
     */
    public int headerIndex(String name, int from) {
        if (name == null) {
            return -1;
        }
        byte[] key = key(name);
        for (int i = Math.max(0, from); i < size; i++) {
            if (nameIs(i, name, key)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The name of the header at a position, as received (not case-folded).
     *
     * @param index 0 to {@link #headerCount()} - 1
     * @return the name
     * @throws IndexOutOfBoundsException for any other index
     */
    public String headerName(int index) {
        return name(checkedIndex(index));
    }

    /**
     * The value of the header at a position.
     *
     * @param index 0 to {@link #headerCount()} - 1
     * @return the value
     * @throws IndexOutOfBoundsException for any other index
     */
    public String headerValue(int index) {
        return value(checkedIndex(index));
    }

    private int checkedIndex(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("header " + index + " of " + size);
        }
        return index;
    }

    /**
     * Every value of a header, in order. A multi-value header ({@code ARRAY::} on the wire) yields
     * several values.
     *
     * @param name the header name, any case
     * @return the values, empty when the event has no such header; never null
     */
    @Override
    public List<String> headerValues(String name) {
        if (name == null) {
            return Collections.emptyList();
        }
        byte[] key = key(name);
        List<String> found = null;
        for (int i = 0; i < size; i++) {
            if (nameIs(i, name, key)) {
                if (found == null) {
                    found = new ArrayList<>(2);
                }
                found.add(value(i));
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
            entries.add(new AbstractMap.SimpleImmutableEntry<>(name(i), value(i)));
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
        return bodyLength > 0;
    }

    /**
     * The body decoded as UTF-8.
     *
     * @return the body text, empty when there is none
     */
    @Override
    public String body() {
        return new String(bytes, bodyStart, bodyLength, StandardCharsets.UTF_8);
    }

    /**
     * The body as raw bytes.
     *
     * @return a copy of the body bytes, empty when there is none
     */
    public byte[] bodyBytes() {
        return Arrays.copyOfRange(bytes, bodyStart, bodyStart + bodyLength);
    }

    /**
     * {@code Event-Name}, e.g. {@code CHANNEL_ANSWER}, {@code BACKGROUND_JOB}, {@code CUSTOM}.
     *
     * @return the event name, or null
     */
    @Override
    public String eventName() {
        if (wire == null) {
            return header("Event-Name");
        }
        String name = eventName;
        if (name == null) {
            name = decodeHot(FrameCodec.HOT_EVENT_NAME);
            eventName = name;
        }
        return name;
    }

    /**
     * {@code Event-Subclass} of a CUSTOM event, e.g. {@code sofia::register}.
     *
     * @return the subclass, or null
     */
    public String eventSubclass() {
        return hot(FrameCodec.HOT_EVENT_SUBCLASS, "Event-Subclass");
    }

    /**
     * {@code Unique-ID}: the UUID of the channel the event is about.
     *
     * @return the channel UUID, or null
     */
    public String uniqueId() {
        if (wire == null) {
            return header("Unique-ID");
        }
        String id = uniqueId;
        if (id == null) {
            id = decodeHot(FrameCodec.HOT_UNIQUE_ID);
            uniqueId = id;
        }
        return id;
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
        return hot(FrameCodec.HOT_JOB_UUID, "Job-UUID");
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
     * {@code Channel-State}, e.g. {@code CS_EXECUTE}, {@code CS_HANGUP}.
     *
     * @return the channel state, or null
     */
    public String channelState() {
        return header("Channel-State");
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
        if (size != that.size || !sameBody(that)) {
            return false;
        }
        for (int i = 0; i < size; i++) {
            if (!name(i).equals(that.name(i)) || !value(i).equals(that.value(i))) {
                return false;
            }
        }
        return true;
    }

    private boolean sameBody(EslEvent that) {
        if (bodyLength != that.bodyLength) {
            return false;
        }
        for (int i = 0; i < bodyLength; i++) {
            if (bytes[bodyStart + i] != that.bytes[that.bodyStart + i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int hash = 1;
        for (int i = 0; i < bodyLength; i++) {
            hash = 31 * hash + bytes[bodyStart + i];
        }
        for (int i = 0; i < size; i++) {
            hash = 31 * hash + Objects.hash(name(i), value(i));
        }
        return hash;
    }

    @Override
    public String toString() {
        return "EslEvent{" + eventName() + ", " + size + " headers, " + bodyLength + " body bytes}";
    }

    /**
     * Collects headers and a body, then {@link #build()}s an immutable {@link EslEvent}. Not
     * thread-safe; may be reused after {@code build()} to make another event.
     */
    public static final class Builder {
        private final int initialCapacity;
        private String[] texts;
        private int size;
        private byte[] body = NO_BODY;

        private Builder(int initialCapacity) {
            this.initialCapacity = initialCapacity;
            reset();
        }

        private void reset() {
            texts = new String[initialCapacity * 2];
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
            if (size * 2 == texts.length) {
                texts = Arrays.copyOf(texts, texts.length * 2);
            }
            texts[size * 2] = name;
            texts[size * 2 + 1] = value;
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
            // The array is handed over, not copied; reset() gives the builder a fresh one.
            EslEvent event = new EslEvent(texts, size, body);
            reset();
            return event;
        }
    }
}
