package org.freeswitch.esl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Events whose frames straddle the 65,535-byte limit between the batch layout's u16 and u32 span
 * tables, and a 1 MiB one, through the native engine to {@code recvEvent()}: the engine stores
 * each event's span table in the layout's form and the poll copies it as it is, so a table of the
 * wrong width or with a truncated offset shows here as a wrong header or a refused batch.
 */
public class SpanTableBoundaryTest {
    /** Frame lengths swept across the narrow/wide limit, then one far above it. */
    private static final int FIRST_LENGTH = 65_500;
    private static final int LAST_LENGTH = 65_570;
    private static final int HUGE_LENGTH = 1 << 20;
    private static final String BODY = "body";

    private FakeFreeSwitch fake;
    private ESLconnection con;
    private final List<Integer> lengths = new ArrayList<>();
    /** The length of each event's padding value. */
    private final List<Integer> paddings = new ArrayList<>();

    @Before
    public void start() throws Exception {
        FakeFreeSwitch.Script main = FakeFreeSwitch.load("01_auth_api.txt").get("in");
        List<String> frames = new ArrayList<>();
        frames.add("Content-Type: api/response\nContent-Length: 2\n\nOK");
        for (int length = FIRST_LENGTH; length <= LAST_LENGTH; length++) {
            lengths.add(length);
        }
        lengths.add(HUGE_LENGTH);
        for (int i = 0; i < lengths.size(); i++) {
            frames.add(eventFrame(lengths.get(i), i));
        }
        main.answer("api fire", frames.toArray(new String[0]));
        fake = FakeFreeSwitch.inbound(Collections.singletonList(main));
        con = new ESLconnection("127.0.0.1", fake.port(), "ClueCon");
    }

    @After
    public void stop() throws Exception {
        con.disconnect();
        fake.close();
    }

    /**
     * A {@code text/event-plain} frame of exactly {@code length} bytes (ASCII): its last headers
     * come after a padding value, so their offsets pass 65,535 once the frame does.
     */
    private String eventFrame(int length, int id) {
        String tail = "\nUnique-ID: u-" + id + "\nCaller: a%20b%25\nContent-Length: " + BODY.length() + "\n\n" + BODY;
        String envelope = "Content-Length: " + (length - 50) + "\nContent-Type: text/event-plain\n\n";
        String head = "Event-Name: CUSTOM\nPad: ";
        int padding = length - envelope.length() - head.length() - tail.length();
        paddings.add(padding);
        String eventText = head + repeat('x', padding) + tail;
        String frame = "Content-Length: " + eventText.length() + "\nContent-Type: text/event-plain\n\n" + eventText;
        assertEquals("the envelope's length guess", length, frame.length());
        return frame;
    }

    private static String repeat(char c, int count) {
        StringBuilder text = new StringBuilder(count);
        for (int i = 0; i < count; i++) {
            text.append(c);
        }
        return text.toString();
    }

    @Test
    public void eventsOnBothSidesOfTheNarrowSpanLimitReadBackWhole() {
        assertEquals("OK", con.api("fire", null).getBody());
        for (int i = 0; i < lengths.size(); i++) {
            ESLevent event = con.recvEventTimed(10_000);
            assertNotNull("event of " + lengths.get(i) + " bytes", event);
            String which = "frame of " + lengths.get(i) + " bytes";
            assertEquals(which, "CUSTOM", event.getHeader("Event-Name", -1));
            assertEquals(which, "u-" + i, event.getHeader("Unique-ID", -1));
            assertEquals(which, "a b%", event.getHeader("Caller", -1));
            assertEquals(which, BODY, event.getBody());
            assertEquals(which, paddings.get(i).intValue(), event.getHeader("Pad", -1).length());
        }
    }
}
