package org.esl4j.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
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
 * frame := headers:u32 dataLen:u32 data[dataLen] span{headers} bodyStart:u32 bodyLen:u32
 * span  := nameStart:u32 nameLen:u32 valueStart:u32 valueLen:u32    (offsets into data)
 * </pre>
 * Integers are big-endian, text UTF-8 (invalid bytes become U+FFFD, never an error); every span
 * is checked against its frame's data block. Not API.
 */
public final class FrameCodec {
    /** Makes an {@link EslEvent} that keeps a frame's bytes; installed by {@code EslEvent}. */
    public interface WireEvents {
        /**
         * An event over {@code frame}: its data block from offset 0, its span table at
         * {@code spansAt}, both already checked.
         *
         * @param frame the data block followed by the span table; owned by the event
         * @param headers the number of spans
         * @param spansAt where the span table starts
         * @param bodyStart where the body starts in the data block
         * @param bodyLength the body length
         * @return the event
         */
        EslEvent create(byte[] frame, int headers, int spansAt, int bodyStart, int bodyLength);
    }

    private static WireEvents wireEvents;

    static {
        // EslEvent's initializer installs the factory; make sure it ran.
        EslEvent.builder(1);
    }

    private final byte[] batch;
    /** Big-endian view of {@link #batch}; its absolute {@code getInt} is one load, not four. */
    private final ByteBuffer view;
    private int pos;

    /**
     * Called once by {@code EslEvent}'s initializer, which is the only class that can make events
     * over frame bytes.
     *
     * @param factory the factory
     * @throws IllegalStateException when one is already installed
     */
    public static synchronized void installWireEvents(WireEvents factory) {
        if (wireEvents != null) {
            throw new IllegalStateException("already installed");
        }
        wireEvents = factory;
    }

    private FrameCodec(byte[] batch) {
        this.batch = batch;
        this.view = ByteBuffer.wrap(batch);
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
        int count = decoder.readCount(16);
        List<EslEvent> events = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            events.add(decoder.readFrame());
        }
        if (decoder.pos != batch.length) {
            throw new IllegalArgumentException((batch.length - decoder.pos) + " trailing bytes in batch");
        }
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
     * Encodes one event as a one-frame batch (for {@code sendevent}, {@code sendmsg} and the
     * simulator).
     *
     * @param event the headers, in order, and body to send
     * @return the batch bytes
     */
    public static byte[] encodeSingle(EslEvent event) {
        List<Map.Entry<String, String>> headers = event.headers();
        ByteArrayOutputStream data = new ByteArrayOutputStream(256);
        int[] spans = new int[headers.size() * 4];
        int i = 0;
        for (Map.Entry<String, String> header : headers) {
            i = append(data, header.getKey().getBytes(StandardCharsets.UTF_8), spans, i);
            i = append(data, header.getValue().getBytes(StandardCharsets.UTF_8), spans, i);
        }
        int[] body = new int[2];
        append(data, event.bodyBytes(), body, 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.size() + spans.length * 4 + 24);
        writeInt(out, 1);
        writeInt(out, headers.size());
        writeInt(out, data.size());
        out.write(data.toByteArray(), 0, data.size());
        for (int value : spans) {
            writeInt(out, value);
        }
        writeInt(out, body[0]);
        writeInt(out, body[1]);
        return out.toByteArray();
    }

    private static int append(ByteArrayOutputStream data, byte[] bytes, int[] spans, int at) {
        spans[at] = data.size();
        spans[at + 1] = bytes.length;
        data.write(bytes, 0, bytes.length);
        return at + 2;
    }

    private static void writeInt(ByteArrayOutputStream out, int value) {
        out.write(value >>> 24);
        out.write(value >>> 16);
        out.write(value >>> 8);
        out.write(value);
    }

    /**
     * Checks every span, then hands the event one copy of the frame's data block and span table
     * (not the whole batch, which a single kept event would otherwise hold in memory).
     */
    private EslEvent readFrame() {
        int headers = readCount(16);
        int dataLength = readCount(1);
        int base = pos;
        pos += dataLength;
        for (int i = 0; i < headers; i++) {
            checkSpan(readInt(), readInt(), dataLength);
            checkSpan(readInt(), readInt(), dataLength);
        }
        int spansEnd = pos;
        int bodyStart = readInt();
        int bodyLength = readInt();
        checkSpan(bodyStart, bodyLength, dataLength);
        byte[] frame = Arrays.copyOfRange(batch, base, spansEnd);
        return wireEvents.create(frame, headers, dataLength, bodyStart, bodyLength);
    }

    private static void checkSpan(int start, int length, int dataLength) {
        if (start < 0 || length < 0 || start > dataLength - length) {
            throw new IllegalArgumentException("span " + start + "+" + length + " outside a frame of " + dataLength);
        }
    }

    /** A count of items of at least {@code minBytes} each, checked against what is left. */
    private int readCount(int minBytes) {
        int value = readInt();
        if (value < 0 || value > (batch.length - pos) / minBytes) {
            throw new IllegalArgumentException("count " + value + " overruns the batch at byte " + pos);
        }
        return value;
    }

    private int readInt() {
        if (batch.length - pos < 4) {
            throw new IllegalArgumentException("truncated batch at byte " + pos);
        }
        int value = view.getInt(pos);
        pos += 4;
        return value;
    }
}
