package org.esl4j.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.esl4j.EslEvent;

/**
 * Decodes (and, for frames Java sends, encodes) the batch layout of {@code rust/jni/src/codec.rs}
 * (keep in sync):
 * <pre>
 * batch := count:u32 frame*
 * frame := headers:u32 (nameLen:u32 name valueLen:u32 value)* bodyLen:u32 body
 * </pre>
 * Integers are big-endian, strings UTF-8 (invalid bytes become U+FFFD, never an error). Not API.
 */
public final class FrameCodec {
    private final byte[] data;
    private int pos;

    private FrameCodec(byte[] data) {
        this.data = data;
    }

    /**
     * Decodes every frame of a batch.
     *
     * @param batch the bytes from native code
     * @return the frames as events, in order
     * @throws IllegalArgumentException if the batch is truncated or malformed
     */
    public static List<EslEvent> decodeBatch(byte[] batch) {
        FrameCodec decoder = new FrameCodec(batch);
        int count = decoder.readLength();
        List<EslEvent> events = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            events.add(decoder.readFrame());
        }
        decoder.expectEnd();
        return events;
    }

    /**
     * Decodes a batch that must hold exactly one frame (a command reply).
     *
     * @param batch the bytes from native code
     * @return the frame
     * @throws IllegalArgumentException if the batch does not hold exactly one frame
     */
    public static EslEvent decodeSingle(byte[] batch) {
        List<EslEvent> events = decodeBatch(batch);
        if (events.size() != 1) {
            throw new IllegalArgumentException("expected one frame, got " + events.size());
        }
        return events.get(0);
    }

    /**
     * Encodes one event as a one-frame batch (for {@code sendevent} and {@code sendmsg}).
     *
     * @param event the headers, in order, and body to send
     * @return the batch bytes
     */
    public static byte[] encodeSingle(EslEvent event) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(1);
            List<Map.Entry<String, String>> headers = event.headers();
            out.writeInt(headers.size());
            for (Map.Entry<String, String> header : headers) {
                writeBytes(out, header.getKey().getBytes(StandardCharsets.UTF_8));
                writeBytes(out, header.getValue().getBytes(StandardCharsets.UTF_8));
            }
            writeBytes(out, event.bodyBytes());
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory cannot fail", e);
        }
        return bytes.toByteArray();
    }

    private static void writeBytes(DataOutputStream out, byte[] data) throws IOException {
        out.writeInt(data.length);
        out.write(data);
    }

    private EslEvent readFrame() {
        int headers = readLength();
        EslEvent.Builder builder = EslEvent.builder(headers);
        for (int i = 0; i < headers; i++) {
            String name = readString();
            builder.header(name, readString());
        }
        int bodyLength = readLength();
        if (bodyLength > 0) {
            builder.body(Arrays.copyOfRange(data, pos, pos + bodyLength));
            pos += bodyLength;
        }
        return builder.build();
    }

    private String readString() {
        int length = readLength();
        String text = new String(data, pos, length, StandardCharsets.UTF_8);
        pos += length;
        return text;
    }

    private int readLength() {
        if (data.length - pos < 4) {
            throw new IllegalArgumentException("truncated batch at byte " + pos);
        }
        int value = ((data[pos] & 0xff) << 24) | ((data[pos + 1] & 0xff) << 16) | ((data[pos + 2] & 0xff) << 8)
                | (data[pos + 3] & 0xff);
        pos += 4;
        if (value < 0 || value > data.length - pos) {
            throw new IllegalArgumentException("length " + value + " overruns the batch at byte " + pos);
        }
        return value;
    }

    private void expectEnd() {
        if (pos != data.length) {
            throw new IllegalArgumentException((data.length - pos) + " trailing bytes in batch");
        }
    }
}
