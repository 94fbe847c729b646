package org.esl4j.kafka;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.esl4j.EslEvent;
import org.esl4j.internal.EventSerializer;

/**
 * FreeSWITCH's JSON event format, as {@code switch_event_serialize_json} writes it and FreeSWITCH's
 * own Kafka publishers put it in a record's value: one object, a member per header (a string, or an
 * array of strings for a multi-value header), and for an event with a body a {@code Content-Length}
 * member and the body as {@code _body}. Written compact ({@code cJSON_PrintUnformatted}); read in
 * any layout.
 */
public final class FreeSwitchJson {
    private static final String BODY = "_body";
    private static final String CONTENT_LENGTH = "Content-Length";

    private FreeSwitchJson() {
    }

    /**
     * Writes an event.
     *
     * @param event the event
     * @return the UTF-8 JSON text
     */
    public static byte[] write(EslEvent event) {
        Map<String, List<String>> members = new LinkedHashMap<>();
        for (int i = 0; i < event.headerCount(); i++) {
            members.computeIfAbsent(event.headerName(i), name -> new ArrayList<>(1)).add(event.headerValue(i));
        }
        if (event.hasBody()) {
            String body = event.body();
            members.putIfAbsent(CONTENT_LENGTH, List.of(Integer.toString(event.bodyBytes().length)));
            members.put(BODY, List.of(body));
        }
        StringBuilder out = new StringBuilder(64 + event.headerCount() * 48);
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, List<String>> member : members.entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            EventSerializer.quote(member.getKey(), out);
            out.append(':');
            List<String> values = member.getValue();
            if (values.size() == 1) {
                EventSerializer.quote(values.get(0), out);
            } else {
                out.append('[');
                for (int i = 0; i < values.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    EventSerializer.quote(values.get(i), out);
                }
                out.append(']');
            }
        }
        out.append('}');
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Reads an event.
     *
     * @param json UTF-8 JSON text in FreeSWITCH's event format
     * @return the event: headers in the order of the members, arrays as multi-value headers
     * @throws IllegalArgumentException when the text is not such an object
     */
    public static EslEvent read(byte[] json) {
        return new Reader(new String(json, StandardCharsets.UTF_8)).event();
    }

    /** A strict reader of one object whose members are strings or arrays of strings. */
    private static final class Reader {
        private final String text;
        private int at;

        Reader(String text) {
            this.text = text;
        }

        EslEvent event() {
            EslEvent.Builder event = EslEvent.builder(96);
            expect('{');
            if (!peek('}')) {
                do {
                    String name = string();
                    expect(':');
                    if (peek('[')) {
                        expect('[');
                        if (!peek(']')) {
                            do {
                                event.header(name, string());
                            } while (comma());
                        }
                        expect(']');
                    } else if (BODY.equals(name)) {
                        event.body(string());
                    } else {
                        event.header(name, string());
                    }
                } while (comma());
            }
            expect('}');
            skipBlanks();
            if (at != text.length()) {
                throw fail("text after the event object");
            }
            return event.build();
        }

        private boolean comma() {
            if (peek(',')) {
                at++;
                return true;
            }
            return false;
        }

        private boolean peek(char c) {
            skipBlanks();
            return at < text.length() && text.charAt(at) == c;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw fail("'" + c + "' expected");
            }
            at++;
        }

        private void skipBlanks() {
            while (at < text.length() && " \t\r\n".indexOf(text.charAt(at)) >= 0) {
                at++;
            }
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (true) {
                if (at >= text.length()) {
                    throw fail("unterminated string");
                }
                char c = text.charAt(at++);
                if (c == '"') {
                    return out.toString();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                if (at >= text.length()) {
                    throw fail("unterminated escape");
                }
                char escaped = text.charAt(at++);
                switch (escaped) {
                    case '"': case '\\': case '/': out.append(escaped); break;
                    case 'b': out.append('\b'); break;
                    case 'f': out.append('\f'); break;
                    case 'n': out.append('\n'); break;
                    case 'r': out.append('\r'); break;
                    case 't': out.append('\t'); break;
                    case 'u':
                        if (at + 4 > text.length()) {
                            throw fail("short \\u escape");
                        }
                        try {
                            out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        } catch (NumberFormatException bad) {
                            throw fail("bad \\u escape");
                        }
                        at += 4;
                        break;
                    default:
                        throw fail("bad escape \\" + escaped);
                }
            }
        }

        private IllegalArgumentException fail(String what) {
            return new IllegalArgumentException("not a FreeSWITCH JSON event: " + what + " at character " + at);
        }
    }
}
