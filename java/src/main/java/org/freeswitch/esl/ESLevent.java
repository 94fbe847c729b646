package org.freeswitch.esl;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.esl4j.EslEvent;
import org.esl4j.internal.EventSerializer;

/**
 * A FreeSWITCH event with the public API of the SWIG-generated {@code org.freeswitch.esl.ESLevent}
 * of libesl, implemented in Java (no native memory, so nothing can crash and {@link #delete()} is
 * optional).
 *
 * <p>Kept from libesl: header names are case-insensitive; {@code getHeader(name, -1)} returns the
 * whole value, {@code ARRAY::a|:b} for a multi-value header; {@code getHeader("_body", -1)} is the
 * body; {@link #addBody(String)} replaces the body; {@code addHeader(name, "")} deletes the header;
 * a value starting with {@code ARRAY::} becomes a multi-value header; {@code name[3]} addresses
 * element 3; unknown event type names become {@code MESSAGE}; a subclass forces {@code CUSTOM}.
 *
 * <p>Fixed libesl bugs: {@code getHeader(name, 0)} on a single value returns that value (libesl:
 * null); {@link #unshiftHeader(String, String)} really prepends (libesl appends);
 * {@link #delHeader(String)} returns false when nothing was deleted (libesl: always true);
 * {@link #ESLevent(ESLevent)} copies instead of stealing the other event's contents; an outbound
 * channel-data event keeps its own {@code Event-Name: CHANNEL_DATA} (libesl reports
 * {@code SOCKET_DATA}); text is real UTF-8 (no modified-UTF-8 corruption of emoji).
 *
 * <p>Thread safety: methods are synchronized; the {@link #firstHeader()}/{@link #nextHeader()}
 * cursor is per object, as in libesl.
 *
 * <p>A received event reads straight from the engine's immutable {@link EslEvent} (no header is
 * copied or decoded until it is read) and copies its headers into its own list only on the first
 * change ({@code addHeader}, {@code delHeader}, {@code pushHeader}, ...) or serialization.
 */
public class ESLevent {
    /** libesl's name for envelopes (replies, notices) that carry no Event-Name of their own. */
    static final String SOCKET_DATA = "SOCKET_DATA";
    private static final String ARRAY_PREFIX = "ARRAY::";
    private static final String ARRAY_SEPARATOR = "|:";
    private static final String SWITCH_EVENT_PREFIX = "SWITCH_EVENT_";

    /** One header: a name and one value, or several for a multi-value ({@code ARRAY::}) header. */
    private static final class Header {
        final String name;
        final List<String> values = new ArrayList<>(1);
        boolean array;

        Header(String name) {
            this.name = name;
        }

        String joined() {
            return array ? EventSerializer.arrayValue(values) : values.get(0);
        }
    }

    private final List<Header> headers = new ArrayList<>();
    /**
     * The received event this one still reads from, or null once its headers are in
     * {@link #headers}. Consecutive headers of one name are one (multi-value) header, as the
     * engine splits an {@code ARRAY::} value into repeats of its name.
     */
    private EslEvent received;
    /** While {@link #received} is set: the position there of the cursor's header. */
    private int receivedCursor;
    private String body;
    /** The iteration cursor, counted in headers (a multi-value header counts once); -1: none. */
    private int cursor = -1;
    private String serializedString;
    private int mine = 1;

    /**
     * Creates an event of a type, as libesl's {@code esl_event_create_subclass}.
     *
     * <p>{@code type} is an event name such as {@code CHANNEL_ANSWER} (any case, with or without
     * the {@code SWITCH_EVENT_} prefix; unknown names become {@code MESSAGE}). A non-null subclass
     * makes the event {@code CUSTOM} with an {@code Event-Subclass} header. Special case, as in
     * libesl: {@code type = "json"} parses {@code subclass_name} as a JSON event.
     *
     * @param type the event name, or {@code "json"}
     * @param subclass_name the CUSTOM subclass, the JSON text, or null
     * @throws IllegalArgumentException if {@code type} is {@code "json"} and the text is not a JSON object
     */
    public ESLevent(String type, String subclass_name) {
        if ("json".equalsIgnoreCase(type)) {
            MiniJson.parseEvent(subclass_name == null ? "" : subclass_name, this);
            return;
        }
        String name = EventNames.canonical(type);
        if (subclass_name != null && !subclass_name.isEmpty()) {
            name = "CUSTOM";
        }
        addValue("Event-Name", name);
        if (subclass_name != null && !subclass_name.isEmpty()) {
            addValue("Event-Subclass", subclass_name);
        }
    }

    /**
     * Creates an event of a type with no subclass; same as {@code ESLevent(type, null)}.
     *
     * @param type the event name
     */
    public ESLevent(String type) {
        this(type, null);
    }

    /**
     * Copies another event. Unlike libesl, {@code me} is left intact.
     *
     * @param me the event to copy
     */
    public ESLevent(ESLevent me) {
        synchronized (me) {
            copyFrom(me);
        }
    }

    /**
     * Wraps an event handle obtained from {@link #getEvent()}, kept for SWIG signature
     * compatibility; the contents are copied.
     *
     * @param wrap_me the handle
     * @param free_me ignored (there is no native memory to free)
     */
    public ESLevent(SWIGTYPE_p_esl_event_t wrap_me, int free_me) {
        if (wrap_me != null && wrap_me.event() != null) {
            ESLevent source = wrap_me.event();
            synchronized (source) {
                copyFrom(source);
            }
        }
    }

    /** An empty event, filled by the package (received frames). */
    ESLevent() {
    }

    /**
     * Builds the compat view of a received frame; repeated header names become one multi-value
     * header, as libesl shows {@code ARRAY::} values.
     *
     * @param event the received event or reply envelope
     * @return a new mutable event
     */
    static ESLevent fromEvent(EslEvent event) {
        ESLevent result = new ESLevent();
        result.received = event;
        if (event.hasBody()) {
            result.body = event.body();
        }
        return result;
    }

    /** Copies the received headers into {@link #headers}, before a change or a serialization. */
    private void own() {
        EslEvent source = received;
        if (source == null) {
            return;
        }
        received = null;
        for (int start = 0; start < source.headerCount(); ) {
            int end = sameNameEnd(source, start);
            headers.add(group(source, start, end));
            start = end;
        }
    }

    /** Headers {@code start} to {@code end - 1} of a received event as one header. */
    private static Header group(EslEvent event, int start, int end) {
        Header header = new Header(event.headerName(start));
        header.array = end - start > 1;
        for (int i = start; i < end; i++) {
            header.values.add(event.headerValue(i));
        }
        return header;
    }

    /** One past the last of the consecutive headers named exactly like header {@code start}. */
    private static int sameNameEnd(EslEvent event, int start) {
        String name = event.headerName(start);
        int end = start + 1;
        while (end < event.headerCount() && name.equals(event.headerName(end))) {
            end++;
        }
        return end;
    }

    private void copyFrom(ESLevent other) {
        if (other.received != null) {
            // Immutable, so both events may read it; either copies on its own first change.
            received = other.received;
            body = other.body;
            return;
        }
        for (Header header : other.headers) {
            Header copy = new Header(header.name);
            copy.values.addAll(header.values);
            copy.array = header.array;
            headers.add(copy);
        }
        body = other.body;
    }

    /** Frees nothing (no native memory); kept for SWIG compatibility. Idempotent. */
    public synchronized void delete() {
        cursor = -1;
    }

    /**
     * A handle to this event, for {@link #ESLevent(SWIGTYPE_p_esl_event_t, int)}.
     *
     * @return a handle referring to this event
     */
    public synchronized SWIGTYPE_p_esl_event_t getEvent() {
        return new SWIGTYPE_p_esl_event_t(this);
    }

    /**
     * Replaces this event's contents with a copy of the event behind a handle.
     *
     * @param value a handle from {@link #getEvent()}; null clears the event
     */
    public void setEvent(SWIGTYPE_p_esl_event_t value) {
        ESLevent source = value == null ? null : value.event();
        ESLevent copy = source == null ? new ESLevent() : new ESLevent(source);
        synchronized (this) {
            headers.clear();
            received = null;
            body = null;
            cursor = -1;
            copyFrom(copy);
        }
    }

    /**
     * The text of the last {@link #serialize(String)}.
     *
     * @return the last serialization, or null
     */
    public synchronized String getSerialized_string() {
        return serializedString;
    }

    /**
     * Sets the field libesl uses to keep the last serialization.
     *
     * @param value the text
     */
    public synchronized void setSerialized_string(String value) {
        serializedString = value;
    }

    /**
     * libesl's ownership flag, kept for signature compatibility.
     *
     * @return 1 (Java always owns the event)
     */
    public synchronized int getMine() {
        return mine;
    }

    /**
     * libesl's ownership flag, kept for signature compatibility; has no effect.
     *
     * @param value ignored apart from being returned by {@link #getMine()}
     */
    public synchronized void setMine(int value) {
        mine = value;
    }

    /**
     * Serializes the event.
     *
     * @param format {@code "json"} (JSON object; multi-value headers as arrays; body as
     *     {@code _body}), {@code "xml"} (FreeSWITCH's {@code <event>} layout), anything else or null:
     *     plain text ({@code Name: url-encoded value} lines, then {@code Content-Length} and the
     *     body when there is one)
     * @return the text
     */
    public synchronized String serialize(String format) {
        own();
        String text;
        if ("json".equalsIgnoreCase(format)) {
            text = serializer().json(EventSerializer.JsonLayout.CJSON_PRINT);
        } else if ("xml".equalsIgnoreCase(format)) {
            text = serializer().xml();
        } else {
            text = serializer().plain(EventSerializer.PlainStyle.FREESWITCH);
        }
        serializedString = text;
        return text;
    }

    /**
     * Serializes as plain text; same as {@code serialize(null)}.
     *
     * @return the text
     */
    public String serialize() {
        return serialize(null);
    }

    private EventSerializer serializer() {
        EventSerializer serializer = new EventSerializer(headers.size());
        for (Header header : headers) {
            serializer.header(header.name, header.values, header.array);
        }
        return serializer.body(body);
    }

    /**
     * Adds a {@code priority} header at the top, as libesl does.
     *
     * @param priority {@link SWIGTYPE_p_esl_priority_t#NORMAL}, {@code LOW} or {@code HIGH}
     * @return true when set; false for null (libesl would throw NullPointerException)
     */
    public synchronized boolean setPriority(SWIGTYPE_p_esl_priority_t priority) {
        if (priority == null) {
            return false;
        }
        own();
        removeAll("priority");
        Header header = new Header("priority");
        header.values.add(priority.name());
        headers.add(0, header);
        return true;
    }

    /**
     * A header value.
     *
     * @param header_name the name, any case; {@code "_body"} returns the body
     * @param idx -1 for the whole value ({@code ARRAY::a|:b} for a multi-value header); 0.. for one
     *     element of a multi-value header, where a single value counts as element 0 (libesl
     *     returned null there)
     * @return the value, or null when absent or {@code idx} is out of range
     */
    public synchronized String getHeader(String header_name, int idx) {
        if (header_name == null) {
            return null;
        }
        if (header_name.equals("_body")) {
            return body;
        }
        if (received != null) {
            int start = received.headerIndex(header_name, 0);
            if (start < 0) {
                return null;
            }
            int end = sameNameEnd(received, start);
            if (idx < 0) {
                return end - start == 1 ? received.headerValue(start) : group(received, start, end).joined();
            }
            return idx < end - start ? received.headerValue(start + idx) : null;
        }
        Header header = find(header_name);
        if (header == null) {
            return null;
        }
        if (idx < 0) {
            return header.joined();
        }
        return idx < header.values.size() ? header.values.get(idx) : null;
    }

    /**
     * The whole value of a header; same as {@code getHeader(name, -1)}.
     *
     * @param header_name the name, any case
     * @return the value, or null
     */
    public String getHeader(String header_name) {
        return getHeader(header_name, -1);
    }

    /**
     * The body.
     *
     * @return the body text, or null when there is none
     */
    public synchronized String getBody() {
        return body;
    }

    /**
     * The event type: the {@code Event-Name} header, or {@code SOCKET_DATA} for envelopes
     * (command replies, API responses, disconnect notices) as in libesl.
     *
     * @return the type name
     */
    public synchronized String getType() {
        if (received != null) {
            String name = received.eventName();
            return name == null ? SOCKET_DATA : name;
        }
        Header name = find("Event-Name");
        return name == null ? SOCKET_DATA : name.values.get(0);
    }

    /**
     * Sets the body, replacing any previous one (libesl semantics despite the name).
     *
     * @param value the body; null removes it
     * @return true
     */
    public synchronized boolean addBody(String value) {
        body = value;
        return true;
    }

    /**
     * Appends a header, with libesl's rules: an empty value deletes the header; a value starting
     * with {@code ARRAY::} becomes a multi-value header; {@code name[i]} replaces element i of an
     * existing multi-value header.
     *
     * @param header_name the name
     * @param value the value
     * @return false for a null name or value, or an {@code [i]} that does not exist
     */
    public synchronized boolean addHeader(String header_name, String value) {
        if (header_name == null || value == null) {
            return false;
        }
        own();
        if (value.isEmpty()) {
            removeAll(header_name);
            return true;
        }
        int bracket = header_name.indexOf('[');
        if (bracket > 0 && header_name.endsWith("]")) {
            return setElement(header_name.substring(0, bracket),
                    header_name.substring(bracket + 1, header_name.length() - 1), value);
        }
        if (value.startsWith(ARRAY_PREFIX)) {
            Header header = new Header(header_name);
            header.array = true;
            Collections.addAll(header.values, splitArray(value.substring(ARRAY_PREFIX.length())));
            headers.add(header);
        } else {
            addValue(header_name, value);
        }
        return true;
    }

    private boolean setElement(String name, String index, String value) {
        Header header = find(name);
        int at;
        try {
            at = Integer.parseInt(index);
        } catch (NumberFormatException e) {
            return false;
        }
        if (header == null || at < 0 || at >= header.values.size()) {
            return false;
        }
        header.values.set(at, value);
        return true;
    }

    /**
     * Appends a value to a multi-value header, creating it if needed.
     *
     * @param header_name the name
     * @param value the value to append
     * @return false for a null name or value
     */
    public synchronized boolean pushHeader(String header_name, String value) {
        return stack(header_name, value, false);
    }

    /**
     * Prepends a value to a multi-value header, creating it if needed (libesl appended instead).
     *
     * @param header_name the name
     * @param value the value to prepend
     * @return false for a null name or value
     */
    public synchronized boolean unshiftHeader(String header_name, String value) {
        return stack(header_name, value, true);
    }

    private boolean stack(String name, String value, boolean front) {
        if (name == null || value == null) {
            return false;
        }
        own();
        Header header = find(name);
        if (header == null) {
            header = new Header(name);
            headers.add(header);
        }
        header.array = true;
        if (front) {
            header.values.add(0, value);
        } else {
            header.values.add(value);
        }
        return true;
    }

    /**
     * Deletes every header with this name.
     *
     * @param header_name the name, any case
     * @return true when a header was deleted (libesl always returned true)
     */
    public synchronized boolean delHeader(String header_name) {
        if (header_name == null) {
            return false;
        }
        own();
        return removeAll(header_name);
    }

    /**
     * Starts iterating over header names.
     *
     * @return the first header name, or null when there is none
     */
    public synchronized String firstHeader() {
        cursor = 0;
        receivedCursor = 0;
        return currentName();
    }

    /**
     * The next header name; call {@link #firstHeader()} first.
     *
     * @return the next header name, or null at the end
     */
    public synchronized String nextHeader() {
        if (cursor < 0) {
            return null;
        }
        cursor++;
        if (received != null) {
            receivedCursor = sameNameEnd(received, receivedCursor);
        }
        return currentName();
    }

    private String currentName() {
        if (received != null) {
            if (receivedCursor >= received.headerCount()) {
                cursor = -1;
                return null;
            }
            return received.headerName(receivedCursor);
        }
        if (cursor >= headers.size()) {
            cursor = -1;
            return null;
        }
        return headers.get(cursor).name;
    }

    private Header find(String name) {
        for (Header header : headers) {
            if (header.name.equalsIgnoreCase(name)) {
                return header;
            }
        }
        return null;
    }

    private boolean removeAll(String name) {
        boolean removed = false;
        for (int i = headers.size() - 1; i >= 0; i--) {
            if (headers.get(i).name.equalsIgnoreCase(name)) {
                headers.remove(i);
                removed = true;
            }
        }
        return removed;
    }

    /** Every header value in order, a multi-value header once per value (package use). */
    synchronized List<Map.Entry<String, String>> entries() {
        own();
        List<Map.Entry<String, String>> entries = new ArrayList<>(headers.size());
        for (Header header : headers) {
            for (String value : header.values) {
                entries.add(new java.util.AbstractMap.SimpleImmutableEntry<>(header.name, value));
            }
        }
        return entries;
    }

    /** Appends a single-value header (package use: parsers). */
    void addValue(String name, String value) {
        Header header = new Header(name);
        header.values.add(value);
        headers.add(header);
    }

    /** Appends a multi-value header (package use: parsers). */
    void addArray(String name, List<String> values) {
        Header header = new Header(name);
        header.array = true;
        header.values.addAll(values);
        headers.add(header);
    }

    private static String[] splitArray(String items) {
        List<String> parts = new ArrayList<>();
        int start = 0;
        while (true) {
            int at = items.indexOf(ARRAY_SEPARATOR, start);
            if (at < 0) {
                parts.add(items.substring(start));
                return parts.toArray(new String[0]);
            }
            parts.add(items.substring(start, at));
            start = at + ARRAY_SEPARATOR.length();
        }
    }

    @Override
    public synchronized String toString() {
        own();
        return serializer().plain(EventSerializer.PlainStyle.FREESWITCH);
    }

    /** FreeSWITCH's event names, for libesl's type lookup. */
    static final class EventNames {
        private static final String[] NAMES = ("CUSTOM CLONE CHANNEL_CREATE CHANNEL_DESTROY CHANNEL_STATE"
                + " CHANNEL_CALLSTATE CHANNEL_ANSWER CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_EXECUTE"
                + " CHANNEL_EXECUTE_COMPLETE CHANNEL_HOLD CHANNEL_UNHOLD CHANNEL_BRIDGE CHANNEL_UNBRIDGE"
                + " CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_OUTGOING CHANNEL_PARK CHANNEL_UNPARK"
                + " CHANNEL_APPLICATION CHANNEL_ORIGINATE CHANNEL_UUID API LOG INBOUND_CHAN OUTBOUND_CHAN STARTUP"
                + " SHUTDOWN PUBLISH UNPUBLISH TALK NOTALK SESSION_CRASH MODULE_LOAD MODULE_UNLOAD DTMF MESSAGE"
                + " PRESENCE_IN NOTIFY_IN PRESENCE_OUT PRESENCE_PROBE MESSAGE_WAITING MESSAGE_QUERY ROSTER CODEC"
                + " BACKGROUND_JOB DETECTED_SPEECH DETECTED_TONE PRIVATE_COMMAND HEARTBEAT TRAP ADD_SCHEDULE"
                + " DEL_SCHEDULE EXE_SCHEDULE RE_SCHEDULE RELOADXML NOTIFY PHONE_FEATURE PHONE_FEATURE_SUBSCRIBE"
                + " SEND_MESSAGE RECV_MESSAGE REQUEST_PARAMS CHANNEL_DATA GENERAL COMMAND SESSION_HEARTBEAT"
                + " CLIENT_DISCONNECTED SERVER_DISCONNECTED SEND_INFO RECV_INFO RECV_RTCP_MESSAGE"
                + " SEND_RTCP_MESSAGE CALL_SECURE NAT RECORD_START RECORD_STOP PLAYBACK_START PLAYBACK_STOP"
                + " CALL_UPDATE FAILURE SOCKET_DATA MEDIA_BUG_START MEDIA_BUG_STOP CONFERENCE_DATA_QUERY"
                + " CONFERENCE_DATA CALL_SETUP_REQ CALL_SETUP_RESULT CALL_DETAIL DEVICE_STATE TEXT"
                + " SHUTDOWN_REQUESTED CERT_RELOAD ALL").split(" ");

        private EventNames() {
        }

        /** The canonical upper-case name; unknown or null names become MESSAGE, as in libesl. */
        static String canonical(String type) {
            if (type == null) {
                return "MESSAGE";
            }
            String upper = type.trim().toUpperCase(Locale.ROOT);
            if (upper.startsWith(SWITCH_EVENT_PREFIX)) {
                upper = upper.substring(SWITCH_EVENT_PREFIX.length());
            }
            for (String name : NAMES) {
                if (name.equals(upper)) {
                    return name;
                }
            }
            return "MESSAGE";
        }
    }
}
