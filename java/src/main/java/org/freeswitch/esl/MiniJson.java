package org.freeswitch.esl;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads FreeSWITCH's flat JSON event objects for {@code ESLevent}
 * ({@code {"Name":"value","Multi":["a","b"],"_body":"..."}}; numbers and booleans are kept as
 * their text). Writing them is {@code org.esl4j.internal.EventSerializer}'s.
 */
final class MiniJson {
    private final String text;
    private int pos;

    private MiniJson(String text) {
        this.text = text;
    }

    /**
     * Fills {@code event} from a JSON event object.
     *
     * @throws IllegalArgumentException if the text is not a flat JSON object
     */
    static void parseEvent(String json, ESLevent event) {
        MiniJson parser = new MiniJson(json);
        parser.expect('{');
        if (parser.peek() == '}') {
            parser.pos++;
            parser.expectEnd();
            return;
        }
        while (true) {
            String name = parser.string();
            parser.expect(':');
            if (parser.peek() == '[') {
                parser.pos++;
                List<String> values = new ArrayList<>();
                if (parser.peek() == ']') {
                    parser.pos++;
                } else {
                    while (true) {
                        values.add(parser.scalar());
                        if (parser.next() == ']') {
                            break;
                        }
                        parser.back(',');
                    }
                }
                event.addArray(name, values);
            } else if (name.equals("_body")) {
                event.addBody(parser.scalar());
            } else {
                event.addValue(name, parser.scalar());
            }
            char separator = parser.next();
            if (separator == '}') {
                parser.expectEnd();
                return;
            }
            parser.back(',');
        }
    }

    private String scalar() {
        if (peek() == '"') {
            return string();
        }
        int start = pos;
        while (pos < text.length() && ",}] \t\r\n".indexOf(text.charAt(pos)) < 0) {
            pos++;
        }
        if (start == pos) {
            throw error("value expected");
        }
        return text.substring(start, pos);
    }

    private String string() {
        expect('"');
        StringBuilder out = new StringBuilder();
        while (pos < text.length()) {
            char c = text.charAt(pos++);
            if (c == '"') {
                return out.toString();
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (pos >= text.length()) {
                break;
            }
            char escaped = text.charAt(pos++);
            switch (escaped) {
                case 'n':
                    out.append('\n');
                    break;
                case 'r':
                    out.append('\r');
                    break;
                case 't':
                    out.append('\t');
                    break;
                case 'b':
                    out.append('\b');
                    break;
                case 'f':
                    out.append('\f');
                    break;
                case 'u':
                    if (pos + 4 > text.length()) {
                        throw error("truncated \\u escape");
                    }
                    try {
                        out.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                    } catch (NumberFormatException e) {
                        throw error("bad \\u escape");
                    }
                    pos += 4;
                    break;
                default:
                    out.append(escaped);
            }
        }
        throw error("unterminated string");
    }

    private char peek() {
        skipSpace();
        if (pos >= text.length()) {
            throw error("unexpected end");
        }
        return text.charAt(pos);
    }

    private char next() {
        char c = peek();
        pos++;
        return c;
    }

    private void expect(char wanted) {
        if (next() != wanted) {
            throw error("'" + wanted + "' expected");
        }
    }

    /** The character just read by {@link #next()} must have been {@code wanted}. */
    private void back(char wanted) {
        if (text.charAt(pos - 1) != wanted) {
            throw error("'" + wanted + "' expected");
        }
    }

    private void expectEnd() {
        skipSpace();
        if (pos != text.length()) {
            throw error("trailing text");
        }
    }

    private void skipSpace() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("invalid JSON event at offset " + pos + ": " + what);
    }
}
