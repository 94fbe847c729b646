package org.esl4j.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one event as text: plain, JSON or XML. The one place that knows these layouts and their
 * escaping, used by the compat {@code ESLevent.serialize} and the CLI's event printer.
 *
 * <p>Callers add the headers in order ({@link #header}), then the body, then ask for a layout.
 * Not thread-safe; one instance per serialization.
 */
public final class EventSerializer {
    /** How a JSON object is laid out. */
    public enum JsonLayout {
        /** All on one line, no spaces: one event a line for a terminal or a log. */
        ONE_LINE,
        /**
         * libesl's {@code esl_event_serialize_json} printed by {@code cJSON_Print}: one member a
         * line, a tab before it and after the colon, array items joined by {@code ", "}, and a
         * {@code Content-Length} member before {@code _body}.
         */
        CJSON_PRINT
    }

    /** How plain {@code Name: value} text is written. */
    public enum PlainStyle {
        /**
         * libesl's {@code esl_event_serialize}: values url-encoded, a multi-value header as one
         * {@code ARRAY::a|:b} line, a header {@code Content-Length} left out when the body's own
         * is written, the body last as it is.
         */
        FREESWITCH,
        /**
         * For a terminal: values as they are with line breaks escaped (one header a line), each
         * value its own line, a blank line after the event.
         */
        READABLE
    }

    private static final String ARRAY_PREFIX = "ARRAY::";
    private static final String ARRAY_SEPARATOR = "|:";

    private final List<String> names;
    private final List<List<String>> values;
    private final List<Boolean> arrays;
    private String body;

    /**
     * Starts an event.
     *
     * @param expectedHeaders how many headers will be added (a sizing hint)
     */
    public EventSerializer(int expectedHeaders) {
        names = new ArrayList<>(expectedHeaders);
        values = new ArrayList<>(expectedHeaders);
        arrays = new ArrayList<>(expectedHeaders);
    }

    /**
     * Adds a header.
     *
     * @param name the header name
     * @param headerValues its values, at least one
     * @param array whether it is written as an array (JSON) or {@code ARRAY::} value (plain) even
     *     with one value; a header of several values always is
     * @return this
     */
    public EventSerializer header(String name, List<String> headerValues, boolean array) {
        names.add(name);
        values.add(headerValues);
        arrays.add(array || headerValues.size() > 1);
        return this;
    }

    /**
     * Sets the body.
     *
     * @param text the body, or null for none
     * @return this
     */
    public EventSerializer body(String text) {
        body = text;
        return this;
    }

    /**
     * The event as plain text.
     *
     * @param style which plain layout
     * @return the text
     */
    public String plain(PlainStyle style) {
        StringBuilder out = new StringBuilder(64 * (names.size() + 1));
        boolean freeswitch = style == PlainStyle.FREESWITCH;
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            if (!freeswitch) {
                for (String value : values.get(i)) {
                    out.append(name).append(": ").append(oneLine(value)).append('\n');
                }
            } else if (body == null || !name.equalsIgnoreCase("Content-Length")) {
                out.append(name).append(": ").append(UrlCodec.encode(joined(i))).append('\n');
            }
        }
        if (body == null) {
            return out.append('\n').toString();
        }
        out.append("Content-Length: ").append(bodyLength()).append("\n\n").append(body);
        if (!freeswitch) {
            if (!body.endsWith("\n")) {
                out.append('\n');
            }
            out.append('\n');
        }
        return out.toString();
    }

    /**
     * The event as a JSON object: each header a string member (an array of strings when it has
     * several values), the body as {@code _body}.
     *
     * @param layout which JSON layout
     * @return the text
     */
    public String json(JsonLayout layout) {
        boolean cjson = layout == JsonLayout.CJSON_PRINT;
        String memberStart = cjson ? "\n\t" : "";
        String nameEnd = cjson ? ":\t" : ":";
        String itemSeparator = cjson ? ", " : ",";
        StringBuilder out = new StringBuilder(64 * (names.size() + 1)).append('{');
        for (int i = 0; i < names.size(); i++) {
            member(out, names.get(i), i == 0, memberStart, nameEnd);
            List<String> headerValues = values.get(i);
            if (arrays.get(i)) {
                out.append('[');
                for (int v = 0; v < headerValues.size(); v++) {
                    if (v > 0) {
                        out.append(itemSeparator);
                    }
                    quote(headerValues.get(v), out);
                }
                out.append(']');
            } else {
                quote(headerValues.get(0), out);
            }
        }
        if (body != null) {
            if (cjson) {
                member(out, "Content-Length", names.isEmpty(), memberStart, nameEnd);
                quote(String.valueOf(bodyLength()), out);
            }
            member(out, "_body", names.isEmpty() && !cjson, memberStart, nameEnd);
            quote(body, out);
        }
        // cJSON ends even an empty object with a line break: "{\n}".
        return out.append(cjson ? "\n}" : "}").toString();
    }

    private static void member(StringBuilder out, String name, boolean first, String memberStart, String nameEnd) {
        if (!first) {
            out.append(',');
        }
        out.append(memberStart);
        quote(name, out);
        out.append(nameEnd);
    }

    /**
     * The event in FreeSWITCH's {@code <event>} XML layout: values url-encoded, a multi-value
     * header repeated once per value.
     *
     * @return the text
     */
    public String xml() {
        StringBuilder out = new StringBuilder(64 * (names.size() + 1)).append("<event>\n  <headers>\n");
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            for (String value : values.get(i)) {
                out.append("    <").append(name).append('>').append(xmlEscape(UrlCodec.encode(value)))
                        .append("</").append(name).append(">\n");
            }
        }
        out.append("  </headers>\n");
        if (body != null) {
            out.append("  <Content-Length>").append(bodyLength()).append("</Content-Length>\n  <body>")
                    .append(xmlEscape(body)).append("</body>\n");
        }
        return out.append("</event>").toString();
    }

    /**
     * Appends {@code value} as a JSON string literal, escaped as cJSON does.
     *
     * @param value the text
     * @param out where to append
     */
    public static void quote(String value, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                case '\b':
                    out.append("\\b");
                    break;
                case '\f':
                    out.append("\\f");
                    break;
                default:
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }

    /** A header's value as one plain line: the value, or {@code ARRAY::a|:b} for an array. */
    private String joined(int header) {
        return arrays.get(header) ? arrayValue(values.get(header)) : values.get(header).get(0);
    }

    /**
     * Several values as one FreeSWITCH {@code ARRAY::a|:b} value.
     *
     * @param items the values
     * @return the joined value
     */
    public static String arrayValue(List<String> items) {
        StringBuilder text = new StringBuilder(ARRAY_PREFIX);
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                text.append(ARRAY_SEPARATOR);
            }
            text.append(items.get(i));
        }
        return text.toString();
    }

    private int bodyLength() {
        return body.getBytes(StandardCharsets.UTF_8).length;
    }

    /** A decoded header value may hold line breaks; keep one header a line. */
    private static String oneLine(String value) {
        return value.indexOf('\n') < 0 && value.indexOf('\r') < 0 ? value : value.replace("\r", "\\r").replace("\n", "\\n");
    }

    private static String xmlEscape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<':
                    out.append("&lt;");
                    break;
                case '>':
                    out.append("&gt;");
                    break;
                case '&':
                    out.append("&amp;");
                    break;
                case '"':
                    out.append("&quot;");
                    break;
                case '\'':
                    out.append("&apos;");
                    break;
                default:
                    out.append(c);
            }
        }
        return out.toString();
    }
}
