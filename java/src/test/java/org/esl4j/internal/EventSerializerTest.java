package org.esl4j.internal;

import static org.junit.Assert.assertEquals;

import java.util.Arrays;
import java.util.Collections;

import org.junit.Test;

/** The layouts of the CLI's printer; the compat ones are pinned by {@code ESLeventTest}. */
public class EventSerializerTest {
    private static EventSerializer event(String body) {
        return new EventSerializer(2).header("Event-Name", Collections.singletonList("CUSTOM"), false)
                .header("Multi", Arrays.asList("a\"", "b\u0001"), false).body(body);
    }

    @Test
    public void oneLineJsonHasArraysAndTheBodyButNoContentLength() {
        assertEquals("{\"Event-Name\":\"CUSTOM\",\"Multi\":[\"a\\\"\",\"b\\u0001\"],\"_body\":\"x\\ny\"}",
                event("x\ny").json(EventSerializer.JsonLayout.ONE_LINE));
        assertEquals("{\"_body\":\"x\"}", new EventSerializer(0).body("x").json(EventSerializer.JsonLayout.ONE_LINE));
    }

    @Test
    public void readablePlainEndsTheBodyWithABlankLine() {
        assertEquals("Event-Name: CUSTOM\nMulti: a\"\nMulti: b\u0001\nContent-Length: 3\n\nx\ny\n\n",
                event("x\ny").plain(EventSerializer.PlainStyle.READABLE));
        assertEquals("A: 1\\n2\n\n", new EventSerializer(1).header("A", Collections.singletonList("1\n2"), false)
                .plain(EventSerializer.PlainStyle.READABLE));
    }

    @Test
    public void freeswitchPlainJoinsArraysAndUrlEncodes() {
        assertEquals("Event-Name: CUSTOM\nMulti: ARRAY%3A%3Aa%22%7C%3Ab%01\nContent-Length: 3\n\nx\ny",
                event("x\ny").plain(EventSerializer.PlainStyle.FREESWITCH));
    }
}
