package org.esl4j.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

import org.esl4j.EslEvent;

/**
 * Decodes (and, for frames Java sends, encodes) the batch layout of {@code rust/jni/src/codec.rs}
 * (keep in sync):
 * <pre>
 * batch := count:u32 frame*
 * frame := kind:u8 flags:u8 headers:u32 dataLen:u32 data[dataLen] span{headers}
 *          bodyStart:u32 bodyLen:u32 hot{4}
 * kind  := what the item is: one of the KIND_* constants
 * flags := FLAG_VALUES_ENCODED: values are URL-encoded as received (plain events); a value is
 *          decoded when it is read. The body never is.
 * span  := nameStart nameLen valueStart valueLen    (offsets into data; each a u16 when
 *          dataLen &lt;= 65535, as nearly every event's is, else a u32)
 * hot   := index:i32 of the first Event-Name, Unique-ID, Job-UUID, Event-Subclass header, or -1
 * </pre>
 * Integers are big-endian, text UTF-8 (invalid bytes become U+FFFD, never an error). The events
 * of one batch share the batch array (no copy per event). The layout (counts, lengths, body span,
 * hot indices) is checked here, once per frame; a header's span is checked by {@link WireEvent}
 * when that header is read, because a consumer reads a few of ~90 headers and a pass over every
 * span cost a fifth of the reading thread's time. Not API.
 */
public final class FrameCodec {
    // Item kinds, from the drift-checked NativeContract (appended, never renumbered).
    /** An event (plain, JSON or XML). */
    public static final int KIND_EVENT = NativeContract.KIND_EVENT;
    /** A {@code log/data} line (headers as FreeSWITCH sent them, Content-Type included). */
    public static final int KIND_LOG = NativeContract.KIND_LOG;
    /** A {@code text/disconnect-notice} (headers as sent, Content-Disposition included). */
    public static final int KIND_DISCONNECT_NOTICE = NativeContract.KIND_DISCONNECT_NOTICE;
    /** The engine lost the connection and reconnects (header {@code Disconnect-Reason}). */
    public static final int KIND_DISCONNECTED = NativeContract.KIND_DISCONNECTED;
    /** The engine reconnected ({@code Reconnect-Attempts}, {@code Reconnect-Gap-Micros}). */
    public static final int KIND_RECONNECTED = NativeContract.KIND_RECONNECTED;
    /** A frame of a content type the engine does not know, as received. */
    public static final int KIND_UNKNOWN = NativeContract.KIND_UNKNOWN;
    /** A {@code command/reply} or {@code api/response}. */
    public static final int KIND_REPLY = NativeContract.KIND_REPLY;
    /**
     * The event queue reached its hard cap (headers {@code Overload-Dropped}, {@code
     * Overload-Critical-Dropped}, {@code Overload-Queued}); the connection is closed.
     */
    public static final int KIND_OVERLOADED = NativeContract.KIND_OVERLOADED;
    /** Frame flag: header values are URL-encoded. Keep in sync with codec.rs. */
    private static final int FLAG_VALUES_ENCODED = NativeContract.FLAG_VALUES_ENCODED;
    /** Kind and flags bytes before a frame's header count. */
    private static final int FRAME_HEAD_BYTES = 2;
    /** Position of Event-Name's index among a frame's hot indices. Keep in sync with codec.rs. */
    public static final int HOT_EVENT_NAME = 0;
    /** Position of Unique-ID's index among a frame's hot indices. */
    public static final int HOT_UNIQUE_ID = 1;
    /** Position of Job-UUID's index among a frame's hot indices. */
    public static final int HOT_JOB_UUID = 2;
    /** Position of Event-Subclass's index among a frame's hot indices. */
    public static final int HOT_EVENT_SUBCLASS = 3;
    /** The header names of the hot indices, in layout order. */
    private static final String[] HOT_NAMES = {"Event-Name", "Unique-ID", "Job-UUID", "Event-Subclass"};
    /** Largest data block whose span table holds u16s. Keep in sync with codec.rs. */
    private static final int NARROW_DATA_MAX = 0xffff;
    private static final int NARROW_SPAN_BYTES = 8;
    private static final int WIDE_SPAN_BYTES = 16;
    /** The hot indices at a frame's end. */
    static final int HOT_INDEX_BYTES = HOT_NAMES.length * 4;
    /** Body span and hot indices after a frame's span table. */
    private static final int FRAME_TAIL_BYTES = 8 + HOT_INDEX_BYTES;

    /**
     * Whether a frame's span table holds u16s rather than u32s.
     *
     * @param dataLength the length of the frame's data block
     * @return true for a data block of at most 65,535 bytes
     */
    public static boolean hasNarrowSpans(int dataLength) {
        return dataLength <= NARROW_DATA_MAX;
    }

    private final byte[] batch;
    /** Big-endian view of {@link #batch}; its absolute {@code getInt} is one load, not four. */
    private final ByteBuffer view;
    private int pos;

    private FrameCodec(byte[] batch) {
        this.batch = batch;
        this.view = ByteBuffer.wrap(batch);
    }

    /** A decoded batch: each item's kind and its frame as an event, in stream order. */
    public static final class Batch {
        private final byte[] kinds;
        private final EslEvent[] items;

        /**
         * A batch of the given items (the decoder's, or a test's).
         *
         * @param kinds each item's kind, one of the {@code KIND_*} constants
         * @param items the items, as many as kinds
         */
        public Batch(byte[] kinds, EslEvent[] items) {
            if (kinds.length != items.length) {
                throw new IllegalArgumentException(kinds.length + " kinds for " + items.length + " items");
            }
            this.kinds = kinds;
            this.items = items;
        }

        /**
         * The number of items.
         *
         * @return the count
         */
        public int size() {
            return items.length;
        }

        /**
         * What item {@code index} is.
         *
         * @param index the position
         * @return one of the {@code KIND_*} constants
         */
        public int kind(int index) {
            return kinds[index];
        }

        /**
         * Item {@code index}: an event, or the envelope of a notice (its headers and body).
         *
         * @param index the position
         * @return the item
         */
        public EslEvent item(int index) {
            return items[index];
        }

        /**
         * Every item, whatever its kind.
         *
         * @return a fixed-size view of the items
         */
        public List<EslEvent> items() {
            return Arrays.asList(items);
        }
    }

    /**
     * Decodes every frame of a batch. The events share {@code batch}, which the caller must
     * therefore never change afterwards.
     *
     * @param batch the bytes from native code
     * @return the frames as events with their kinds, in order
     * @throws IllegalArgumentException if the batch is truncated or malformed
     */
    public static Batch decodeBatch(byte[] batch) {
        Frames frames = new Frames(batch);
        int count = frames.remaining();
        byte[] kinds = new byte[count];
        EslEvent[] events = new EslEvent[count];
        for (int i = 0; i < count; i++) {
            events[i] = EslEvent.fromWire(frames.next());
            kinds[i] = (byte) frames.kindRead();
        }
        frames.requireEnd();
        return new Batch(kinds, events);
    }

    /**
     * Reads the frames of a batch one at a time, each checked as {@link #decodeBatch} checks it,
     * without making an event of each: for a batch in a reused array, which holds the batch from
     * its first byte and a previous batch's bytes after it (never read).
     */
    public static final class Frames {
        private final FrameCodec decoder;
        private int remaining;
        /** Where the kind byte of the frame read last is; -1 before the first. */
        private int kindAt = -1;

        /**
         * The frames of {@code batch}.
         *
         * @param batch a batch from its first byte
         * @throws IllegalArgumentException if the frame count overruns the array
         */
        public Frames(byte[] batch) {
            decoder = new FrameCodec(batch);
            remaining = decoder.readCount(FRAME_HEAD_BYTES + 8 + FRAME_TAIL_BYTES);
        }

        /**
         * The array the frames are read from.
         *
         * @return the batch array
         */
        public byte[] batch() {
            return decoder.batch;
        }

        /**
         * The number of frames not read yet.
         *
         * @return the count
         */
        public int remaining() {
            return remaining;
        }

        /**
         * The kind of the frame {@link #next()} read last.
         *
         * @return one of the {@code KIND_*} constants
         * @throws NoSuchElementException before the first frame is read
         */
        public int kindRead() {
            if (kindAt < 0) {
                throw new NoSuchElementException("no frame read yet");
            }
            return decoder.batch[kindAt];
        }

        /**
         * Reads the next frame.
         *
         * @return the frame, reading the batch array in place
         * @throws IllegalArgumentException if the frame is truncated or malformed
         * @throws NoSuchElementException when every frame has been read
         */
        public WireEvent next() {
            if (remaining == 0) {
                throw new NoSuchElementException("no frame left in the batch");
            }
            remaining--;
            kindAt = decoder.pos;
            return decoder.readFrame();
        }

        /**
         * Checks that the batch ends with its last frame, for a batch in an array of its own.
         *
         * @throws IllegalArgumentException if frames are left or bytes follow the last one
         */
        public void requireEnd() {
            int trailing = decoder.batch.length - decoder.pos;
            if (remaining != 0 || trailing != 0) {
                throw new IllegalArgumentException(remaining + " frames and " + trailing + " bytes left in batch");
            }
        }

    }

    /**
     * Decodes a batch that must hold exactly one frame (a command reply).
     *
     * @param batch the bytes from native code
     * @return the frame
     * @throws IllegalArgumentException if the batch does not hold exactly one frame
     */
    public static EslEvent decodeSingle(byte[] batch) {
        Batch decoded = decodeBatch(batch);
        if (decoded.size() != 1) {
            throw new IllegalArgumentException("expected one frame, got " + decoded.size());
        }
        return decoded.item(0);
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
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.size() + spans.length * 4 + 26);
        writeInt(out, 1);
        // Values as they are (the engine encodes what it sends); the kind is not read back.
        out.write(KIND_EVENT);
        out.write(0);
        writeInt(out, headers.size());
        writeInt(out, data.size());
        out.write(data.toByteArray(), 0, data.size());
        boolean narrow = hasNarrowSpans(data.size());
        for (int value : spans) {
            if (narrow) {
                out.write(value >>> 8);
                out.write(value);
            } else {
                writeInt(out, value);
            }
        }
        writeInt(out, body[0]);
        writeInt(out, body[1]);
        for (String hot : HOT_NAMES) {
            writeInt(out, event.headerIndex(hot, 0));
        }
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

    /** Reads the frame at {@link #pos}, sharing the batch array. */
    private WireEvent readFrame() {
        skip(FRAME_HEAD_BYTES);
        boolean valuesEncoded = (batch[pos - 1] & FLAG_VALUES_ENCODED) != 0;
        int headers = readCount(NARROW_SPAN_BYTES);
        int dataLength = readCount(1);
        int dataStart = pos;
        pos += dataLength;
        int spansAt = pos;
        skip((long) headers * (hasNarrowSpans(dataLength) ? NARROW_SPAN_BYTES : WIDE_SPAN_BYTES) + FRAME_TAIL_BYTES);
        int tail = pos - FRAME_TAIL_BYTES;
        int bodyStart = view.getInt(tail);
        int bodyLength = view.getInt(tail + 4);
        // Longs: no sum can overflow; negative means outside.
        long bad = bodyStart | bodyLength | ((long) dataLength - bodyStart - bodyLength);
        for (int at = tail + 8; at < pos; at += 4) {
            long index = view.getInt(at);
            // -1 (absent) .. headers - 1
            bad |= (index + 1) | (headers - 1 - index);
        }
        if (bad < 0) {
            throw new IllegalArgumentException("body span or hot index outside the frame at byte " + dataStart);
        }
        return new WireEvent(valuesEncoded, batch, dataStart, dataLength, headers, spansAt, dataStart + bodyStart,
                bodyLength, tail + 8);
    }

    private void skip(long bytes) {
        if (batch.length - pos < bytes) {
            throw new IllegalArgumentException("truncated batch at byte " + pos);
        }
        pos += (int) bytes;
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
