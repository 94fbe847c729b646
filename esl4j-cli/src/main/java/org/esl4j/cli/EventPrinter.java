package org.esl4j.cli;

import java.io.PrintStream;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.esl4j.EslEvent;

/** Prints events for {@code esl4j events}: FreeSWITCH's plain layout, or one JSON object a line. */
final class EventPrinter {
    private final PrintStream out;
    private final boolean json;

    EventPrinter(PrintStream out, boolean json) {
        this.out = out;
        this.json = json;
    }

    void print(EslEvent event) {
        out.print(json ? json(event) + "\n" : plain(event));
        out.flush();
    }

    /** Headers as {@code Name: value} lines, the body after a blank line, a blank line after. */
    static String plain(EslEvent event) {
        StringBuilder text = new StringBuilder(1024);
        for (Map.Entry<String, String> header : event.headers()) {
            text.append(header.getKey()).append(": ").append(oneLine(header.getValue())).append('\n');
        }
        if (event.hasBody()) {
            String body = event.body();
            text.append("Content-Length: ").append(event.bodyBytes().length).append("\n\n").append(body);
            if (!body.endsWith("\n")) {
                text.append('\n');
            }
        }
        return text.append('\n').toString();
    }

    /**
     * One JSON object: each header once (repeated headers become an array, as FreeSWITCH's JSON
     * events do), the body as {@code _body}.
     */
    static String json(EslEvent event) {
        StringBuilder text = new StringBuilder(1024).append('{');
        Set<String> written = new HashSet<>();
        boolean first = true;
        for (Map.Entry<String, String> header : event.headers()) {
            String name = header.getKey();
            if (!written.add(name.toLowerCase(Locale.ROOT))) {
                continue;
            }
            if (!first) {
                text.append(',');
            }
            first = false;
            quote(text, name).append(':');
            List<String> values = event.headerValues(name);
            if (values.size() == 1) {
                quote(text, values.get(0));
            } else {
                text.append('[');
                for (int i = 0; i < values.size(); i++) {
                    if (i > 0) {
                        text.append(',');
                    }
                    quote(text, values.get(i));
                }
                text.append(']');
            }
        }
        if (event.hasBody()) {
            if (!first) {
                text.append(',');
            }
            quote(text, "_body").append(':');
            quote(text, event.body());
        }
        return text.append('}').toString();
    }

    private static StringBuilder quote(StringBuilder text, String value) {
        text.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"':
                    text.append("\\\"");
                    break;
                case '\\':
                    text.append("\\\\");
                    break;
                case '\n':
                    text.append("\\n");
                    break;
                case '\r':
                    text.append("\\r");
                    break;
                case '\t':
                    text.append("\\t");
                    break;
                default:
                    if (c < 0x20) {
                        text.append(String.format("\\u%04x", (int) c));
                    } else {
                        text.append(c);
                    }
            }
        }
        return text.append('"');
    }

    /** A decoded header value may hold line breaks; keep one header a line. */
    private static String oneLine(String value) {
        return value.indexOf('\n') < 0 && value.indexOf('\r') < 0 ? value : value.replace("\r", "\\r").replace("\n", "\\n");
    }
}
