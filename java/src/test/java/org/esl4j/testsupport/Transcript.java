package org.esl4j.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.esl4j.EslEvent;

/**
 * The one reader of the frames recorded from a real FreeSWITCH (format in {@code
 * tests/transcripts/README.md}), for every Java test that replays or parses them: the raw frames,
 * and plain events decoded into {@link EslEvent}s so parser tests use real headers.
 *
 * <p>A recording is looked up in the directory named by the {@code esl4j.transcripts} system
 * property (the build sets it to {@code tests/transcripts}), then in {@code tests/transcripts}
 * relative to the working directory, then in the shared copy {@code /work/shared/transcripts}.
 */
public final class Transcript {
    private static final Pattern MARKER = Pattern.compile("#> \\[(\\w+)\\] (C->S|S->C) t=\\+([0-9.]+) len=(\\d+)");
    private static final String LOCAL = "tests/transcripts";
    private static final String SHARED = "/work/shared/transcripts";

    private Transcript() {}

    /** One recorded frame, with its bytes exactly as they were on the wire. */
    public static final class Frame {
        /** The recorded connection's label, e.g. {@code in} or {@code out}. */
        public final String connection;
        /** True for a frame FreeSWITCH sent, false for one the client sent. */
        public final boolean fromServer;
        private final byte[] bytes;

        Frame(String connection, boolean fromServer, byte[] bytes) {
            this.connection = connection;
            this.fromServer = fromServer;
            this.bytes = bytes;
        }

        /** @return a copy of the frame's bytes */
        public byte[] bytes() {
            return bytes.clone();
        }

        /** @return the frame as UTF-8 text */
        public String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        /**
         * @param name a header name, any case
         * @return the first value of that header in the frame's header block, or null
         */
        public String header(String name) {
            for (String line : headerBlock().split("\n")) {
                int colon = line.indexOf(": ");
                if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                    return line.substring(colon + 2);
                }
            }
            return null;
        }

        private String headerBlock() {
            String text = text();
            int blank = text.indexOf("\n\n");
            return blank < 0 ? text : text.substring(0, blank);
        }

        /** @return the text after the first blank line, or "" */
        public String body() {
            String text = text();
            int blank = text.indexOf("\n\n");
            return blank < 0 ? "" : text.substring(blank + 2);
        }
    }

    /**
     * Where a recording is (see the class comment); the first candidate when none has it, so a
     * failure names the configured place.
     *
     * @param file the recording's file name, e.g. {@code 01_auth_api.txt}
     * @return its path
     */
    public static Path locate(String file) {
        List<Path> candidates = new ArrayList<>();
        String configured = System.getProperty("esl4j.transcripts");
        if (configured != null) {
            candidates.add(Paths.get(configured, file));
        }
        candidates.add(Paths.get(LOCAL, file));
        candidates.add(Paths.get(SHARED, file));
        for (Path candidate : candidates) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        return candidates.get(0);
    }

    /**
     * @param files recording file names
     * @return whether every one of them can be found
     */
    public static boolean available(String... files) {
        for (String file : files) {
            if (!Files.isRegularFile(locate(file))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Every frame of a recording, in recorded order; {@code ##} comments and blank lines skipped.
     *
     * @param file the recording's file name
     * @return its frames
     * @throws IOException when it cannot be read
     */
    public static List<Frame> frames(String file) throws IOException {
        byte[] all = Files.readAllBytes(locate(file));
        List<Frame> frames = new ArrayList<>();
        int position = 0;
        while (position < all.length) {
            int lineEnd = indexOf(all, (byte) '\n', position);
            if (lineEnd < 0) {
                break;
            }
            String line = new String(all, position, lineEnd - position, StandardCharsets.UTF_8);
            position = lineEnd + 1;
            Matcher marker = MARKER.matcher(line);
            if (!marker.matches()) {
                continue;
            }
            int length = Integer.parseInt(marker.group(4));
            byte[] frame = Arrays.copyOfRange(all, position, position + length);
            frames.add(new Frame(marker.group(1), marker.group(2).equals("S->C"), frame));
            position += length + 1;
        }
        return Collections.unmodifiableList(frames);
    }

    /**
     * Every plain event the server sent on a connection, decoded as the engine does.
     *
     * @param file the recording's file name
     * @param connection the connection's label
     * @return the events, in recorded order
     * @throws IOException when the recording cannot be read
     */
    public static List<EslEvent> events(String file, String connection) throws IOException {
        List<EslEvent> events = new ArrayList<>();
        for (String body : serverBodies(file, connection, "text/event-plain")) {
            events.add(parsePlainEvent(body));
        }
        return events;
    }

    /**
     * The bodies of every {@code api/response} on a connection.
     *
     * @param file the recording's file name
     * @param connection the connection's label
     * @return the bodies, in recorded order
     * @throws IOException when the recording cannot be read
     */
    public static List<String> apiResponses(String file, String connection) throws IOException {
        return serverBodies(file, connection, "api/response");
    }

    private static List<String> serverBodies(String file, String connection, String contentType) throws IOException {
        List<String> bodies = new ArrayList<>();
        for (Frame frame : frames(file)) {
            if (frame.fromServer && frame.connection.equals(connection) && contentType.equals(frame.header("Content-Type"))) {
                bodies.add(frame.body());
            }
        }
        return bodies;
    }

    private static EslEvent parsePlainEvent(String inner) {
        int blank = inner.indexOf("\n\n");
        String headers = blank < 0 ? inner : inner.substring(0, blank);
        EslEvent.Builder builder = EslEvent.builder(128);
        boolean hasBody = false;
        for (String line : headers.split("\n")) {
            int colon = line.indexOf(": ");
            if (colon <= 0) {
                continue;
            }
            String name = line.substring(0, colon);
            String value = urlDecode(line.substring(colon + 2));
            if (name.equals("Content-Length")) {
                hasBody = true;
            }
            if (value.startsWith("ARRAY::")) {
                for (String item : value.substring("ARRAY::".length()).split("\\|:", -1)) {
                    builder.header(name, item);
                }
            } else {
                builder.header(name, value);
            }
        }
        if (hasBody && blank >= 0) {
            builder.body(inner.substring(blank + 2));
        }
        return builder.build();
    }

    private static String urlDecode(String value) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '%' && i + 2 < value.length()) {
                bytes.write(Integer.parseInt(value.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                byte[] encoded = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(encoded, 0, encoded.length);
            }
        }
        return new String(bytes.toByteArray(), StandardCharsets.UTF_8);
    }

    private static int indexOf(byte[] data, byte wanted, int from) {
        for (int i = from; i < data.length; i++) {
            if (data[i] == wanted) {
                return i;
            }
        }
        return -1;
    }
}
