package org.freeswitch.esl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.esl4j.EslEvent;
import org.esl4j.internal.FrameCodec;
import org.esl4j.internal.UrlCodec;
import org.junit.Test;

public class ESLeventTest {
    @Test
    public void typeNamesFollowLibeslLookup() {
        assertEquals("CHANNEL_ANSWER", new ESLevent("channel_answer", null).getType());
        assertEquals("CHANNEL_ANSWER", new ESLevent("SWITCH_EVENT_CHANNEL_ANSWER").getType());
        assertEquals("MESSAGE", new ESLevent("no_such_event", null).getType());
        ESLevent custom = new ESLevent("MESSAGE", "conference::maintenance");
        assertEquals("CUSTOM", custom.getType());
        assertEquals("conference::maintenance", custom.getHeader("event-subclass", -1));
    }

    @Test
    public void arraysSingleValuesAndBody() {
        ESLevent event = new ESLevent("CUSTOM", "x::y");
        assertTrue(event.addHeader("Multi", "ARRAY::a|:b|:c"));
        assertTrue(event.addHeader("Single", "one"));
        assertEquals("ARRAY::a|:b|:c", event.getHeader("multi", -1));
        assertEquals("b", event.getHeader("MULTI", 1));
        assertNull(event.getHeader("Multi", 3));
        // Fixed libesl bug: element 0 of a single value is the value.
        assertEquals("one", event.getHeader("Single", 0));
        assertNull(event.getHeader("Single", 1));
        assertTrue(event.addHeader("Multi[1]", "B"));
        assertEquals("ARRAY::a|:B|:c", event.getHeader("Multi"));
        assertFalse(event.addHeader("Multi[9]", "x"));
        assertNull(event.getBody());
        event.addBody("first");
        event.addBody("second");
        assertEquals("second", event.getBody());
        assertEquals("second", event.getHeader("_body", -1));
    }

    @Test
    public void pushUnshiftAndDelete() {
        ESLevent event = new ESLevent("MESSAGE", null);
        assertTrue(event.pushHeader("List", "b"));
        assertTrue(event.pushHeader("List", "c"));
        // Fixed libesl bug: unshift prepends.
        assertTrue(event.unshiftHeader("List", "a"));
        assertEquals("ARRAY::a|:b|:c", event.getHeader("List", -1));
        assertTrue(event.delHeader("list"));
        // Fixed libesl bug: deleting nothing reports false.
        assertFalse(event.delHeader("list"));
        event.addHeader("Gone", "x");
        assertTrue(event.addHeader("Gone", ""));
        assertNull(event.getHeader("Gone", -1));
    }

    @Test
    public void headerIterationVisitsEveryNameInOrder() {
        ESLevent event = new ESLevent("HEARTBEAT", null);
        event.addHeader("A", "1");
        event.addHeader("B", "2");
        List<String> names = new ArrayList<>();
        for (String name = event.firstHeader(); name != null; name = event.nextHeader()) {
            names.add(name);
        }
        assertEquals(java.util.Arrays.asList("Event-Name", "A", "B"), names);
        assertNull(event.nextHeader());
    }

    @Test
    public void plainSerializationIsUrlEncodedAndCountsUtf8Bytes() {
        ESLevent event = new ESLevent("CUSTOM", "a::b");
        event.addHeader("Caller", "\u4f60 +1");
        event.addBody("h\u00e9");
        assertEquals("Event-Name: CUSTOM\nEvent-Subclass: a%3A%3Ab\nCaller: %E4%BD%A0%20%2B1\n"
                + "Content-Length: 3\n\nh\u00e9", event.serialize("plain"));
        assertEquals(event.serialize("plain"), event.getSerialized_string());
        ESLevent noBody = new ESLevent("HEARTBEAT", null);
        assertEquals("Event-Name: HEARTBEAT\n\n", noBody.serialize(null));
    }

    @Test
    public void jsonRoundTripKeepsArraysBodyAndUnicode() {
        ESLevent event = new ESLevent("CUSTOM", "a::b");
        event.addHeader("Quote", "say \"hi\"\n\ud83d\ude00");
        event.pushHeader("Multi", "x");
        event.pushHeader("Multi", "y");
        event.addBody("line1\nline2");
        String json = event.serialize("json");
        ESLevent parsed = new ESLevent("json", json);
        assertEquals("CUSTOM", parsed.getType());
        assertEquals("say \"hi\"\n\ud83d\ude00", parsed.getHeader("Quote", -1));
        assertEquals("ARRAY::x|:y", parsed.getHeader("Multi", -1));
        assertEquals("line1\nline2", parsed.getBody());
    }

    @Test
    public void jsonIsLaidOutLikeCJsonPrint() {
        ESLevent event = new ESLevent("HEARTBEAT", null);
        event.pushHeader("Multi", "x");
        event.pushHeader("Multi", "y");
        event.addHeader("Ctl", "a\bb\fc");
        event.addBody("hi");
        // libesl: esl_event_serialize_json -> cJSON_Print (tabs, ", " in arrays, body last).
        assertEquals("{\n\t\"Event-Name\":\t\"HEARTBEAT\",\n\t\"Multi\":\t[\"x\", \"y\"],"
                + "\n\t\"Ctl\":\t\"a\\bb\\fc\",\n\t\"Content-Length\":\t\"2\",\n\t\"_body\":\t\"hi\"\n}",
                event.serialize("json"));
    }

    @Test(expected = IllegalArgumentException.class)
    public void malformedJsonIsRejected() {
        new ESLevent("json", "{\"a\": ");
    }

    @Test
    public void xmlSerializationEscapesAndRepeatsMultiValues() {
        ESLevent event = new ESLevent("MESSAGE", null);
        event.pushHeader("M", "a<b");
        event.pushHeader("M", "c");
        event.addBody("x&y");
        String xml = event.serialize("xml");
        assertTrue(xml, xml.contains("<M>a%3Cb</M>"));
        assertTrue(xml, xml.contains("<M>c</M>"));
        assertTrue(xml, xml.contains("<body>x&amp;y</body>"));
        assertTrue(xml, xml.startsWith("<event>") && xml.endsWith("</event>"));
    }

    @Test
    public void copyConstructorLeavesTheSourceIntact() {
        ESLevent source = new ESLevent("DTMF", null);
        source.addHeader("DTMF-Digit", "5");
        ESLevent copy = new ESLevent(source);
        copy.addHeader("Extra", "1");
        assertEquals("5", source.getHeader("DTMF-Digit", -1));
        assertEquals("5", copy.getHeader("DTMF-Digit", -1));
        assertNull(source.getHeader("Extra", -1));
        ESLevent wrapped = new ESLevent(source.getEvent(), 1);
        assertEquals("DTMF", wrapped.getType());
    }

    @Test
    public void priorityGoesOnTop() {
        ESLevent event = new ESLevent("MESSAGE", null);
        assertTrue(event.setPriority(SWIGTYPE_p_esl_priority_t.HIGH));
        assertEquals("priority", event.firstHeader());
        assertEquals("HIGH", event.getHeader("priority", -1));
        assertFalse(event.setPriority(null));
    }

    @Test
    public void receivedEventsMergeSplitArraysAndEnvelopesAreSocketData() {
        EslEvent received = EslEvent.builder().header("Event-Name", "CHANNEL_DATA").header("V", "a")
                .header("V", "b").header("Unique-ID", "u1").body("payload").build();
        ESLevent event = ESLevent.fromEvent(received);
        assertEquals("CHANNEL_DATA", event.getType());
        assertEquals("ARRAY::a|:b", event.getHeader("V", -1));
        assertEquals("payload", event.getBody());
        ESLevent reply = ESLevent.fromEvent(EslEvent.builder().header("Content-Type", "command/reply")
                .header("Reply-Text", "+OK").build());
        assertEquals("SOCKET_DATA", reply.getType());
    }

    /** A received event's compat view, and its twin built header by header as before. */
    private static EslEvent sample() {
        return EslEvent.builder().header("Event-Name", "CHANNEL_ANSWER").header("Unique-ID", "u1").header("V", "a")
                .header("V", "b").header("X", "1 & <2>").header("v", "separate").body("pay\nload").build();
    }

    private static ESLevent eagerTwin() {
        ESLevent twin = new ESLevent();
        twin.addValue("Event-Name", "CHANNEL_ANSWER");
        twin.addValue("Unique-ID", "u1");
        List<String> values = new ArrayList<>();
        values.add("a");
        values.add("b");
        twin.addArray("V", values);
        twin.addValue("X", "1 & <2>");
        twin.addValue("v", "separate");
        twin.addBody("pay\nload");
        return twin;
    }

    private static List<String> names(ESLevent event) {
        List<String> names = new ArrayList<>();
        for (String name = event.firstHeader(); name != null; name = event.nextHeader()) {
            names.add(name);
        }
        return names;
    }

    private static EslEvent[] receivedSamples() {
        // Built, and decoded from the engine's wire layout (lazy, sharing the batch bytes).
        return new EslEvent[] {sample(), FrameCodec.decodeSingle(FrameCodec.encodeSingle(sample()))};
    }

    @Test
    public void receivedEventsReadLikeTheirEagerTwin() {
        for (EslEvent received : receivedSamples()) {
            ESLevent event = ESLevent.fromEvent(received);
            ESLevent twin = eagerTwin();
            assertEquals(names(twin), names(event));
            assertEquals(java.util.Arrays.asList("Event-Name", "Unique-ID", "V", "X", "v"), names(event));
            for (String name : new String[] {"v", "V", "x", "EVENT-NAME", "unique-id", "missing", "_body"}) {
                for (int idx = -1; idx < 3; idx++) {
                    assertEquals(name + "[" + idx + "]", twin.getHeader(name, idx), event.getHeader(name, idx));
                }
            }
            assertEquals("CHANNEL_ANSWER", event.getType());
            for (String format : new String[] {"plain", "json", "xml"}) {
                assertEquals(format, twin.serialize(format), event.serialize(format));
            }
            assertEquals(twin.toString(), event.toString());
            assertEquals(twin.entries(), event.entries());
        }
    }

    @Test
    public void changesAfterReceiveCopyOnceAndLeaveTheReceivedEventAndCopiesAlone() {
        for (EslEvent received : receivedSamples()) {
            ESLevent event = ESLevent.fromEvent(received);
            ESLevent copy = new ESLevent(event);
            ESLevent twin = eagerTwin();
            // A change in the middle of an iteration: the cursor goes on where it was.
            assertEquals("Event-Name", event.firstHeader());
            assertEquals("Unique-ID", event.nextHeader());
            assertTrue(event.addHeader("New", "n"));
            assertEquals("V", event.nextHeader());
            for (ESLevent target : new ESLevent[] {event, twin}) {
                if (target == twin) {
                    assertTrue(target.addHeader("New", "n"));
                }
                assertTrue(target.pushHeader("V", "c"));
                assertTrue(target.unshiftHeader("V", "z"));
                assertTrue(target.addHeader("V[1]", "A"));
                assertTrue(target.delHeader("x"));
                assertFalse(target.delHeader("X"));
                assertTrue(target.setPriority(SWIGTYPE_p_esl_priority_t.HIGH));
                assertTrue(target.addBody("other"));
            }
            assertEquals("ARRAY::z|:A|:b|:c", event.getHeader("V"));
            assertEquals("n", event.getHeader("new"));
            assertEquals(twin.serialize("json"), event.serialize("json"));
            assertEquals(names(twin), names(event));
            // The copy and the received event did not change.
            assertEquals("ARRAY::a|:b", copy.getHeader("V"));
            assertEquals("1 & <2>", copy.getHeader("X"));
            assertNull(copy.getHeader("New"));
            assertEquals("pay\nload", copy.getBody());
            assertEquals(eagerTwin().serialize("plain"), copy.serialize("plain"));
            assertEquals(java.util.Arrays.asList("a", "b", "separate"), received.headerValues("V"));
            assertNull(received.header("New"));
            assertEquals("pay\nload", received.body());
            // And a copy changes alone too.
            assertTrue(copy.addHeader("Only-Copy", "1"));
            assertNull(event.getHeader("Only-Copy"));
        }
    }

    @Test
    public void urlCodecRoundTripsAndKeepsPlus() {
        String text = "a+b %41 \u4f60\ud83d\ude00:;";
        assertEquals(text, UrlCodec.decode(UrlCodec.encode(text)));
        assertEquals("1+2", UrlCodec.decode("1+2"));
        assertEquals("%", UrlCodec.decode("%"));
    }
}
