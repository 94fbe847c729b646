package org.esl4j.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
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
            String[] headers = headersPerFrame[f];
            out.writeInt(headers.length / 2);
            for (String text : headers) {
                byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
                out.writeInt(utf8.length);
                out.write(utf8);
            }
            byte[] body = bodies[f].getBytes(StandardCharsets.UTF_8);
            out.writeInt(body.length);
            out.write(body);
        }
        return bytes.toByteArray();
    }

    @Test
    public void decodesHeadersInOrderWithRepeatsAndUtf8() throws IOException {
        byte[] data = batch(new String[][] {
            {"Event-Name", "CUSTOM", "Caller-Caller-ID-Name", "\u4f60\u597d \ud83d\ude00", "X", "a", "X", "b"},
            {"Content-Type", "api/response"}
        }, new String[] {"", "+OK\n\nsecond paragraph"});
        List<EslEvent> events = FrameCodec.decodeBatch(data);
        assertEquals(2, events.size());
        EslEvent first = events.get(0);
        assertEquals("CUSTOM", first.eventName());
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
        out.writeInt(1);
        out.writeInt(1);
        out.write('H');
        out.writeInt(2);
        out.write(new byte[] {(byte) 0xc3, (byte) 0x28});
        out.writeInt(0);
        EslEvent event = FrameCodec.decodeSingle(bytes.toByteArray());
        assertEquals("\ufffd(", event.header("H"));
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
}
