package org.esl4j.internal;

import java.nio.charset.StandardCharsets;

/**
 * FreeSWITCH's percent-encoding of plain event header values ({@code switch_url_encode}), and
 * libesl's decoding ({@code esl_url_decode}: {@code %XX} in any case becomes a byte, anything else
 * stays, {@code +} included). Not API.
 */
public final class UrlCodec {
    /** Characters FreeSWITCH always encodes, besides bytes below 0x20 and above 0x7E. */
    private static final String UNSAFE = "\r\n #%&+:;<=>?@[\\]^`{|}\"";
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private UrlCodec() {
    }

    /**
     * Encodes UTF-8 bytes; upper-case hex; {@code +} becomes {@code %2B}.
     *
     * @param value the text
     * @return the encoded text
     */
    public static String encode(String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length + 16);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c < 0x20 || c > 0x7e || UNSAFE.indexOf(c) >= 0) {
                out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
            } else {
                out.append((char) c);
            }
        }
        return out.toString();
    }

    /**
     * Decodes {@code %XX} (any case) to bytes, then UTF-8; leaves {@code +} alone.
     *
     * @param value the encoded text
     * @return the decoded text
     */
    public static String decode(String value) {
        if (value.indexOf('%') < 0) {
            return value;
        }
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        return decode(bytes, 0, bytes.length);
    }

    /**
     * Decodes {@code length} encoded bytes at {@code start} to text: {@code %XX} (any case) to a
     * byte, then UTF-8 with invalid sequences replaced. Makes no copy when there is no escape.
     *
     * @param bytes the buffer
     * @param start where the value starts
     * @param length its length
     * @return the decoded text
     */
    public static String decode(byte[] bytes, int start, int length) {
        int end = start + length;
        int escape = start;
        while (escape < end && bytes[escape] != '%') {
            escape++;
        }
        if (escape == end) {
            return new String(bytes, start, length, StandardCharsets.UTF_8);
        }
        byte[] out = new byte[length];
        int written = escape - start;
        System.arraycopy(bytes, start, out, 0, written);
        for (int i = escape; i < end; i++) {
            int high;
            int low;
            if (bytes[i] == '%' && i + 2 < end && (high = hex(bytes[i + 1])) >= 0 && (low = hex(bytes[i + 2])) >= 0) {
                out[written++] = (byte) (high << 4 | low);
                i += 2;
            } else {
                out[written++] = bytes[i];
            }
        }
        return new String(out, 0, written, StandardCharsets.UTF_8);
    }

    private static int hex(byte b) {
        return Character.digit((char) b, 16);
    }
}
