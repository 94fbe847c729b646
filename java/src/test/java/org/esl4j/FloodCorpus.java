package org.esl4j;

import java.nio.charset.StandardCharsets;

/** Event frames for {@code EslSimulator.flood}: a {@code CUSTOM esl4j::flood} event, tiny or of a realistic size. */
public final class FloodCorpus {
    private FloodCorpus() {}

    /**
     * One small event frame.
     *
     * @return the frame bytes
     */
    public static byte[] tiny() {
        return frame("");
    }

    /**
     * One event frame of about a kilobyte, as FreeSWITCH's are (at a few dozen bytes each, the
     * kernel's socket buffers alone would hold more events than a connection's hard cap).
     *
     * @return the frame bytes
     */
    public static byte[] padded() {
        StringBuilder padding = new StringBuilder("Padding: ");
        while (padding.length() < 1_000) {
            padding.append("padding");
        }
        return frame(padding.append('\n').toString());
    }

    private static byte[] frame(String extraHeaders) {
        String body = "Event-Name: CUSTOM\nEvent-Subclass: esl4j%3A%3Aflood\n" + extraHeaders + "\n";
        String frame = "Content-Length: " + body.length() + "\nContent-Type: text/event-plain\n\n" + body;
        return frame.getBytes(StandardCharsets.UTF_8);
    }
}
