package org.esl4j.dial;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.esl4j.EslEvent;

/**
 * Reads the frames recorded from a real FreeSWITCH (in the directory named by the {@code
 * esl4j.transcripts} system property, else {@code /work/shared/transcripts}) and turns plain events into
 * {@link EslEvent}s, so parser tests use real headers.
 */
final class Transcripts {
    private static final Pattern MARKER = Pattern.compile("#> \\[(\\w+)\\] (C->S|S->C) t=\\+([0-9.]+) len=(\\d+)");

    private Transcripts() {}

    /** One recorded frame. */
    static final class Frame {
        final String connection;
        final boolean fromServer;
        final String text;

        Frame(String connection, boolean fromServer, String text) {
            this.connection = connection;
            this.fromServer = fromServer;
            this.text = text;
        }

        String header(String name) {
            for (String line : headerBlock().split("\n")) {
                int colon = line.indexOf(": ");
                if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                    return line.substring(colon + 2);
                }
            }
            return null;
        }

        String headerBlock() {
            int blank = text.indexOf("\n\n");
            return blank < 0 ? text : text.substring(0, blank);
        }

        String body() {
            int blank = text.indexOf("\n\n");
            return blank < 0 ? "" : text.substring(blank + 2);
        }
    }

    /** The shared copy of the recordings, used when the configured directory lacks a file. */
    private static final Path SHARED = Paths.get("/work/shared/transcripts");

    /** Where a recording is: the {@code esl4j.transcripts} directory, else the shared copy. */
    static Path locate(String file) {
        String configured = System.getProperty("esl4j.transcripts");
        if (configured != null && Files.isRegularFile(Paths.get(configured, file))) {
            return Paths.get(configured, file);
        }
        return SHARED.resolve(file);
    }

    static boolean available(String... files) {
        for (String file : files) {
            if (!Files.isRegularFile(locate(file))) {
                return false;
            }
        }
        return true;
    }

    static List<Frame> frames(String file) throws IOException {
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
                continue; // "## " comments and blank lines
            }
            int length = Integer.parseInt(marker.group(4));
            String text = new String(all, position, length, StandardCharsets.UTF_8);
            frames.add(new Frame(marker.group(1), marker.group(2).equals("S->C"), text));
            position += length + 1;
        }
        return frames;
    }

    /** Every plain event the server sent on a connection, decoded as the engine does. */
    static List<EslEvent> events(String file, String connection) throws IOException {
        List<EslEvent> events = new ArrayList<>();
        for (Frame frame : frames(file)) {
            if (frame.fromServer && frame.connection.equals(connection)
                    && "text/event-plain".equals(frame.header("Content-Type"))) {
                events.add(parsePlainEvent(frame.body()));
            }
        }
        return events;
    }

    /** The bodies of every api/response on a connection. */
    static List<String> apiResponses(String file, String connection) throws IOException {
        List<String> bodies = new ArrayList<>();
        for (Frame frame : frames(file)) {
            if (frame.fromServer && frame.connection.equals(connection)
                    && "api/response".equals(frame.header("Content-Type"))) {
                bodies.add(frame.body());
            }
        }
        return bodies;
    }

    static EslEvent parsePlainEvent(String inner) {
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
