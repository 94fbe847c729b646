package org.esl4j.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.esl4j.EslEvent;

/**
 * One event frame of a poll batch, read in place: the header spans, names and values of the
 * layout {@link FrameCodec} checked, decoded only when asked for. An {@link EslEvent} from the
 * engine reads its headers through one of these, because a consumer typically reads a few of ~90
 * headers and the flood can exceed 250,000 events per second. Immutable; the batch array is shared
 * with the other frames of its batch and never written while an {@link EslEvent} reads it (a
 * reused array is written again only once no event was made from it, see {@code EventView}). Not
 * API.
 */
public final class WireEvent {
    private final byte[] batch;
    private final boolean valuesEncoded;
    private final int dataStart;
    private final int dataLength;
    private final int headers;
    private final int spansAt;
    private final int bodyStart;
    private final int bodyLength;
    private final int hotAt;

    /**
     * A frame whose layout has already been checked apart from the header spans.
     *
     * @param valuesEncoded whether header values are URL-encoded, to decode when read
     * @param batch the batch array, shared by every event of the batch and never changed
     * @param dataStart where the frame's data block starts; span offsets are relative to it
     * @param dataLength the length of the data block, which every span must stay in
     * @param headers the number of spans
     * @param spansAt where the span table starts (big-endian nameStart, nameLength, valueStart,
     *     valueLength per header)
     * @param bodyStart where the body starts in {@code batch}
     * @param bodyLength the body length
     * @param hotAt where the frame's hot header indices start ({@link FrameCodec#HOT_EVENT_NAME} ...)
     */
    WireEvent(boolean valuesEncoded, byte[] batch, int dataStart, int dataLength, int headers, int spansAt,
            int bodyStart, int bodyLength, int hotAt) {
        this.valuesEncoded = valuesEncoded;
        this.batch = batch;
        this.dataStart = dataStart;
        this.dataLength = dataLength;
        this.headers = headers;
        this.spansAt = spansAt;
        this.bodyStart = bodyStart;
        this.bodyLength = bodyLength;
        this.hotAt = hotAt;
    }

    /**
     * The number of headers.
     *
     * @return the count
     */
    public int headerCount() {
        return headers;
    }

    /**
     * The batch array the body lies in.
     *
     * @return the shared array; never to be written
     */
    public byte[] batch() {
        return batch;
    }

    /**
     * Where the body starts in {@link #batch()}.
     *
     * @return the offset
     */
    public int bodyStart() {
        return bodyStart;
    }

    /**
     * The body length.
     *
     * @return the length in bytes
     */
    public int bodyLength() {
        return bodyLength;
    }

    /**
     * The position of a hot header.
     *
     * @param which {@link FrameCodec#HOT_EVENT_NAME} ...
     * @return the index of its first header, or -1 when absent
     */
    public int hotIndex(int which) {
        return intAt(hotAt + which * 4);
    }

    /**
     * A header's name, as a new string (names are never URL-decoded, as in libesl).
     *
     * @param header the position
     * @return the name
     */
    public String name(int header) {
        return decode(header, 0);
    }

    /**
     * A header's value, as a new string, URL-decoded when the frame's values are encoded.
     *
     * @param header the position
     * @return the value
     */
    public String value(int header) {
        return decode(header, 2);
    }

    /**
     * Whether header {@code header}'s name is {@code name}, ignoring ASCII case like FreeSWITCH's
     * {@code strcasecmp}, compared with the frame's bytes so that no string is made.
     *
     * @param header the position
     * @param name the name looked for
     * @param key {@link #key(String)} of {@code name}
     * @return true when they match
     */
    public boolean nameIs(int header, String name, byte[] key) {
        int length = span(header, 1);
        if (length != (key == null ? name.length() : key.length)) {
            return false;
        }
        int start = partStart(header, 0);
        for (int i = 0; i < length; i++) {
            if (!sameIgnoringAsciiCase(batch[start + i], key == null ? name.charAt(i) : key[i])) {
                return false;
            }
        }
        return true;
    }

    /**
     * Where a header is, by name.
     *
     * @param name the header name, any case (ASCII letters only are folded)
     * @param from the first position to look at
     * @return the position of the first header of that name at or after {@code from}, or -1
     */
    public int indexOf(String name, int from) {
        byte[] key = key(name);
        for (int i = Math.max(0, from); i < headers; i++) {
            if (nameIs(i, name, key)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Whether header {@code header}'s value, decoded, equals {@code expected}; compared with the
     * frame's bytes, so that no string is made unless the value holds a {@code %} to decode.
     *
     * @param header the position
     * @param expected the value looked for
     * @return true when they are equal
     */
    public boolean valueIs(int header, String expected) {
        int start = partStart(header, 2);
        int length = span(header, 3);
        for (int i = start; valuesEncoded && i < start + length; i++) {
            if (batch[i] == '%') {
                return expected.equals(value(header));
            }
        }
        byte[] key = key(expected);
        if (length != (key == null ? expected.length() : key.length)) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (batch[start + i] != (key == null ? (byte) expected.charAt(i) : key[i])) {
                return false;
            }
        }
        return true;
    }

    /**
     * This frame in an array of its own, for an event that must outlive a reused batch array.
     *
     * @return a frame reading a copy of this one's bytes
     */
    public WireEvent standalone() {
        int end = hotAt + FrameCodec.HOT_INDEX_BYTES;
        byte[] copy = Arrays.copyOfRange(batch, dataStart, end);
        return new WireEvent(valuesEncoded, copy, 0, dataLength, headers, spansAt - dataStart, bodyStart - dataStart,
                bodyLength, hotAt - dataStart);
    }

    /**
     * The UTF-8 bytes {@link #nameIs} compares; null for an ASCII name, whose chars are its bytes
     * (no array per lookup).
     *
     * @param name the name looked for
     * @return its bytes, or null
     */
    public static byte[] key(String name) {
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) >= 0x80) {
                return name.getBytes(StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    /**
     * Equal, or the same ASCII letter in either case (non-ASCII UTF-8 bytes never fold).
     *
     * @param a a char or byte
     * @param b another
     * @return true when they match
     */
    public static boolean sameIgnoringAsciiCase(int a, int b) {
        if (a == b) {
            return true;
        }
        int lower = a | 0x20;
        return lower == (b | 0x20) && lower >= 'a' && lower <= 'z';
    }

    private int intAt(int at) {
        return ((batch[at] & 0xff) << 24) | ((batch[at + 1] & 0xff) << 16) | ((batch[at + 2] & 0xff) << 8)
                | (batch[at + 3] & 0xff);
    }

    /**
     * Entry {@code index} of the span table: 0 name start, 1 name length, 2 value start, 3 value
     * length; u16s for a data block that fits them ({@link FrameCodec#hasNarrowSpans}), else u32s.
     */
    private int span(int header, int index) {
        if (FrameCodec.hasNarrowSpans(dataLength)) {
            int at = spansAt + header * 8 + index * 2;
            return ((batch[at] & 0xff) << 8) | (batch[at + 1] & 0xff);
        }
        return intAt(spansAt + header * 16 + index * 4);
    }

    /**
     * Where the name ({@code part} 0) or value (2) of a header starts in {@link #batch}; its
     * length is {@code span(header, part + 1)}. Checked when read, so that a faulty span can
     * never reach another frame's bytes ({@link FrameCodec} checks the rest of the layout).
     */
    private int partStart(int header, int part) {
        int start = span(header, part);
        int length = span(header, part + 1);
        if (start < 0 || length < 0 || start > dataLength - length) {
            throw new IllegalStateException("header span " + start + "+" + length + " outside its frame of "
                    + dataLength + " bytes");
        }
        return dataStart + start;
    }

    /** The name ({@code part} 0) or value (2) of a header as a new string. */
    private String decode(int header, int part) {
        int start = partStart(header, part);
        int length = span(header, part + 1);
        if (valuesEncoded && part == 2) {
            return UrlCodec.decode(batch, start, length);
        }
        return new String(batch, start, length, StandardCharsets.UTF_8);
    }
}
