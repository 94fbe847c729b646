package org.esl4j.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.esl4j.EslEvent;
import org.junit.Test;

public class FrameCodecTest {
    /** Writes the layout of codec.rs independently of the decoder under test. */
    private static byte[] batch(String[][] headersPerFrame, String[] bodies) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(headersPerFrame.length);
        for (int f = 0; f < headersPerFrame.length; f++) {
            List<byte[]> parts = new java.util.ArrayList<>();
            for (String text : headersPerFrame[f]) {
                parts.add(text.getBytes(StandardCharsets.UTF_8));
            }
            parts.add(bodies[f].getBytes(StandardCharsets.UTF_8));
            frame(out, parts);
        }
        return bytes.toByteArray();
    }

    private static final String[] HOT = {"event-name", "unique-id", "job-uuid", "event-subclass"};

    /** An event frame with literal values; see {@link #frame(DataOutputStream, int, int, List)}. */
    private static void frame(DataOutputStream out, List<byte[]> parts) throws IOException {
        frame(out, FrameCodec.KIND_EVENT, 0, parts);
    }

    /**
     * One frame: its kind and flags, then parts: name, value, name, value, ..., body; the data
     * block stores them in order; the hot indices follow.
     */
    private static void frame(DataOutputStream out, int kind, int flags, List<byte[]> parts) throws IOException {
        out.writeByte(kind);
        out.writeByte(flags);
        int total = 0;
        for (byte[] part : parts) {
            total += part.length;
        }
        out.writeInt((parts.size() - 1) / 2);
        out.writeInt(total);
        for (byte[] part : parts) {
            out.write(part);
        }
        int at = 0;
        for (byte[] part : parts.subList(0, parts.size() - 1)) {
            out.writeShort(at); // every test frame is small: u16 spans
            out.writeShort(part.length);
            at += part.length;
        }
        out.writeInt(at);
        out.writeInt(parts.get(parts.size() - 1).length);
        for (String hot : HOT) {
            int index = -1;
            for (int h = (parts.size() - 1) / 2 - 1; h >= 0; h--) {
                if (new String(parts.get(2 * h), StandardCharsets.US_ASCII).toLowerCase(java.util.Locale.ROOT).equals(hot)) {
                    index = h;
                }
            }
            out.writeInt(index);
        }
    }

    @Test
    public void decodesHeadersInOrderWithRepeatsAndUtf8() throws IOException {
        byte[] data = batch(new String[][] {
            {"Event-Name", "CUSTOM", "Caller-Caller-ID-Name", "\u4f60\u597d \ud83d\ude00", "X", "a", "X", "b"},
            {"Content-Type", "api/response"}
        }, new String[] {"", "+OK\n\nsecond paragraph"});
        List<EslEvent> events = FrameCodec.decodeBatch(data).items();
        assertEquals(2, events.size());
        EslEvent first = events.get(0);
        assertEquals("CUSTOM", first.eventName());
        assertEquals(null, first.uniqueId());
        assertEquals(null, events.get(1).eventName());
        assertEquals("\u4f60\u597d \ud83d\ude00", first.header("caller-caller-id-name"));
        assertEquals(java.util.Arrays.asList("a", "b"), first.headerValues("X"));
        assertFalse(first.hasBody());
        assertEquals("+OK\n\nsecond paragraph", events.get(1).body());
    }

    @Test
    public void invalidUtf8BecomesReplacementCharacter() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(1);
        frame(out, java.util.Arrays.asList(new byte[] {'H'}, new byte[] {(byte) 0xc3, (byte) 0x28}, new byte[0]));
        EslEvent event = FrameCodec.decodeSingle(bytes.toByteArray());
        assertEquals("\ufffd(", event.header("H"));
    }

    @Test
    public void encodedFramesDecodeToTheSameEvent() {
        EslEvent event = EslEvent.builder().header("Event-Name", "CUSTOM").header("Multi", "a").header("Multi", "b")
                .header("Text", "\u4f60\u597d").body("line1\n\nline2").build();
        EslEvent back = FrameCodec.decodeSingle(FrameCodec.encodeSingle(event));
        assertEquals(event.headers(), back.headers());
        assertEquals(event.body(), back.body());
    }

    /** One frame whose header span is {@code headerValueLength} long and body span {@code bodyLength}. */
    private static byte[] frameWithSpans(int headerValueLength, int bodyLength) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(1);
        out.writeByte(FrameCodec.KIND_EVENT);
        out.writeByte(0);
        out.writeInt(1);
        out.writeInt(2);
        out.write(new byte[] {'A', 'b'});
        out.writeShort(0);
        out.writeShort(1);
        out.writeShort(1);
        out.writeShort(headerValueLength);
        out.writeInt(0);
        out.writeInt(bodyLength);
        for (int hot = 0; hot < 4; hot++) {
            out.writeInt(-1);
        }
        return bytes.toByteArray();
    }

    @Test
    public void headerSpansOutsideTheFrameFailWhenRead() throws IOException {
        assertEquals("b", FrameCodec.decodeSingle(frameWithSpans(1, 0)).header("A"));
        // The value runs past the 2-byte data block (into what would be the next frame's bytes).
        EslEvent event = FrameCodec.decodeSingle(frameWithSpans(5, 0));
        try {
            event.header("A");
            fail("a span outside the data block was read");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("outside"));
        }
    }

    @Test
    public void bodySpansOutsideTheFrameAreRejected() throws IOException {
        try {
            FrameCodec.decodeBatch(frameWithSpans(1, 3));
            fail("a body outside the data block was accepted");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("outside"));
        }
    }

    @Test
    public void hotIndicesOutsideTheFrameAreRejected() throws IOException {
        for (int bad : new int[] {1, -2, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            byte[] good = batch(new String[][] {{"Event-Name", "CUSTOM"}}, new String[] {""});
            // The Unique-ID index is the 3rd-last word; the frame has one header (index 0).
            java.nio.ByteBuffer.wrap(good).putInt(good.length - 12, bad);
            try {
                FrameCodec.decodeBatch(good);
                fail("accepted hot index " + bad);
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage(), expected.getMessage().contains("outside"));
            }
        }
    }

    @Test
    public void eventsOfOneBatchReadTheirOwnFramesAndLeaveTheBatchUnchanged() throws IOException {
        byte[] data = batch(new String[][] {{"Event-Name", "A", "Unique-ID", "u1"}, {"Event-Name", "B"}},
                new String[] {"one", "two"});
        byte[] original = data.clone();
        List<EslEvent> events = FrameCodec.decodeBatch(data).items();
        assertEquals("batch bytes untouched by decoding", java.util.Arrays.toString(original),
                java.util.Arrays.toString(data));
        assertEquals("u1", events.get(0).uniqueId());
        assertEquals("B", events.get(1).eventName());
        assertEquals("one", events.get(0).body());
        assertEquals("two", events.get(1).body());
    }

    /**
     * Bytes of a one-frame batch: count, kind, flags, headers, dataLen, data, spans, body span,
     * hot indices.
     */
    private static int singleFrameBytes(int dataLength, int headers, int spanBytes) {
        return 14 + dataLength + headers * spanBytes + 8 + 16;
    }

    @Test
    public void spansAreU16UpTo64KibOfDataAndU32Beyond() {
        for (int valueLength : new int[] {1, 65_535 - 20, 65_535 - 19, 70_000}) {
            char[] value = new char[valueLength];
            java.util.Arrays.fill(value, 'x');
            EslEvent event = EslEvent.builder().header("Event-Name", "CUSTOM").header("Big", new String(value))
                    .body("b").build();
            byte[] encoded = FrameCodec.encodeSingle(event);
            int dataLength = 10 + 6 + 3 + valueLength + 1;
            assertEquals("value of " + valueLength, singleFrameBytes(dataLength, 2, dataLength <= 65_535 ? 8 : 16),
                    encoded.length);
            EslEvent back = FrameCodec.decodeSingle(encoded);
            assertEquals(event.headers(), back.headers());
            assertEquals("CUSTOM", back.eventName());
            assertEquals("b", back.body());
        }
    }

    @Test
    public void truncatedOrOverlongBatchesAreRejected() throws IOException {
        byte[] good = batch(new String[][] {{"A", "b"}}, new String[] {"body"});
        for (int cut = 0; cut < good.length; cut++) {
            try {
                FrameCodec.decodeBatch(java.util.Arrays.copyOf(good, cut));
                fail("accepted a batch cut at " + cut);
            } catch (IllegalArgumentException expected) {
                // every prefix is malformed
            }
        }
        try {
            FrameCodec.decodeBatch(java.util.Arrays.copyOf(good, good.length + 1));
            fail("accepted trailing bytes");
        } catch (IllegalArgumentException expected) {
            // trailing garbage is malformed
        }
    }

    private static List<byte[]> parts(String... texts) {
        List<byte[]> parts = new java.util.ArrayList<>();
        for (String text : texts) {
            parts.add(text.getBytes(StandardCharsets.ISO_8859_1));
        }
        return parts;
    }

    @Test
    public void everyItemKeepsItsKind() throws IOException {
        int[] kinds = {FrameCodec.KIND_EVENT, FrameCodec.KIND_LOG, FrameCodec.KIND_DISCONNECT_NOTICE,
            FrameCodec.KIND_DISCONNECTED, FrameCodec.KIND_RECONNECTED, FrameCodec.KIND_UNKNOWN, FrameCodec.KIND_REPLY};
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(kinds.length);
        for (int kind : kinds) {
            frame(out, kind, 0, parts("Kind", Integer.toString(kind), ""));
        }
        FrameCodec.Batch batch = FrameCodec.decodeBatch(bytes.toByteArray());
        assertEquals(kinds.length, batch.size());
        for (int i = 0; i < kinds.length; i++) {
            assertEquals(kinds[i], batch.kind(i));
            assertEquals(Integer.toString(kinds[i]), batch.item(i).header("Kind"));
        }
    }

    /**
     * A plain event's values arrive as FreeSWITCH encoded them and read decoded: escapes in any
     * case, invalid UTF-8 replaced, a lone or short {@code %} kept, {@code +} kept, the items of
     * an ARRAY (each sent encoded) as repeated values; names, the body and literal frames are
     * never decoded.
     */
    @Test
    public void encodedValuesReadDecoded() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(2);
        frame(out, FrameCodec.KIND_EVENT, 1, parts("Event-Name", "CHANNEL%5FANSWER", "Unique-ID", "u%2d1",
                "Caller", "a%20b%2bc+d", "Bad", "%FF%e4%bd%a0", "Percent", "100%", "Short", "%4",
                "Multi", "x%20y", "Multi", "z%25", "Na%20me", "v", "%41%42"));
        frame(out, FrameCodec.KIND_LOG, 0, parts("Content-Type", "log/data", "Literal", "a%20b", ""));
        FrameCodec.Batch batch = FrameCodec.decodeBatch(bytes.toByteArray());
        EslEvent event = batch.item(0);
        assertEquals("CHANNEL_ANSWER", event.eventName());
        assertEquals("u-1", event.uniqueId());
        assertEquals("a b+c+d", event.header("caller"));
        assertEquals("\ufffd\u4f60", event.header("Bad"));
        assertEquals("100%", event.header("Percent"));
        assertEquals("%4", event.header("Short"));
        assertEquals(java.util.Arrays.asList("x y", "z%"), event.headerValues("multi"));
        assertEquals("v", event.header("Na%20me"));
        assertEquals(null, event.header("Na me"));
        assertEquals("%41%42", event.body());
        assertEquals("Na%20me", event.headers().get(8).getKey());
        assertEquals("v", event.headers().get(8).getValue());
        assertEquals("a%20b", batch.item(1).header("Literal"));
    }
}
