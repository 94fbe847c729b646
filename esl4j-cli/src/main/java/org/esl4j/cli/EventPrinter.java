package org.esl4j.cli;

import java.io.PrintStream;
import java.util.Collections;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.esl4j.EslEvent;
import org.esl4j.internal.EventSerializer;

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

    /**
     * Headers as {@code Name: value} lines in the order received (line breaks escaped), the body
     * after a blank line, a blank line after.
     */
    static String plain(EslEvent event) {
        EventSerializer text = new EventSerializer(event.headerCount());
        for (Map.Entry<String, String> header : event.headers()) {
            text.header(header.getKey(), Collections.singletonList(header.getValue()), false);
        }
        return withBody(text, event).plain(EventSerializer.PlainStyle.READABLE);
    }

    /**
     * One JSON object: each header once (repeated headers become an array, as FreeSWITCH's JSON
     * events do), the body as {@code _body}.
     */
    static String json(EslEvent event) {
        EventSerializer text = new EventSerializer(event.headerCount());
        Set<String> written = new HashSet<>();
        for (Map.Entry<String, String> header : event.headers()) {
            String name = header.getKey();
            if (written.add(name.toLowerCase(Locale.ROOT))) {
                text.header(name, event.headerValues(name), false);
            }
        }
        return withBody(text, event).json(EventSerializer.JsonLayout.ONE_LINE);
    }

    private static EventSerializer withBody(EventSerializer text, EslEvent event) {
        return text.body(event.hasBody() ? event.body() : null);
    }
}
