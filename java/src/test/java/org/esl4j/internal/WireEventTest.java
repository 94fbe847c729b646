package org.esl4j.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.esl4j.EslEvent;
import org.junit.Assume;
import org.junit.Test;

/**
 * Events decoded from the engine's batches keep their frame bytes and make strings on demand;
 * they must behave exactly like events built from eagerly decoded strings.
 */
public class WireEventTest {
    private static final Path CORPUS = Paths.get("bench/corpus/events-plain.bin");
    private static final String PLAIN = "Content-Type: text/event-plain";

    @Test
    public void everyCorpusEventEqualsItsEagerTwin() throws Exception {
        Assume.assumeTrue("benchmark corpus present", Files.isReadable(CORPUS));
        byte[] corpus = Files.readAllBytes(CORPUS);
        int expected = count(new String(corpus, StandardCharsets.ISO_8859_1), PLAIN);
        List<byte[]> batches = fromEngine(corpus, expected, RAW);
        int checked = 0;
        for (byte[] batch : batches) {
            List<EslEvent> lazy = FrameCodec.decodeBatch(batch).items();
            List<EslEvent> eager = eagerDecode(batch);
            assertEquals(eager.size(), lazy.size());
            for (int i = 0; i < lazy.size(); i++) {
                assertSameEvent(eager.get(i), lazy.get(i));
                checked++;
            }
        }
        assertEquals(expected, checked);
    }

    /**
     * Events keep their batch's bytes: events left unread while later polls arrive must still
     * equal what an eager decode of the same frames gives (fails if a poll buffer were reused).
     */
    @Test
    public void eventsKeptUnreadStayIntactAfterLaterPolls() throws Exception {
        Assume.assumeTrue("benchmark corpus present", Files.isReadable(CORPUS));
        byte[] corpus = Files.readAllBytes(CORPUS);
        int expected = count(new String(corpus, StandardCharsets.ISO_8859_1), PLAIN);
        List<EslEvent> eager = new ArrayList<>();
        for (byte[] batch : fromEngine(corpus, expected, RAW)) {
            eager.addAll(eagerDecode(batch));
        }
        List<FrameCodec.Batch> polls = fromEngine(corpus, expected, DECODED);
        assertTrue("the corpus arrived in several polls", polls.size() > 1);
        int at = 0;
        for (FrameCodec.Batch poll : polls) {
            for (EslEvent kept : poll.items()) {
                assertSameEvent(eager.get(at++), kept);
            }
        }
        assertEquals(expected, at);
    }

    @Test
    public void hotHeadersOfAnEncodedEventAreFound() {
        EslEvent built = EslEvent.builder().header("Job-UUID", "j1").header("event-subclass", "a::b")
                .header("Event-Name", "CUSTOM").header("Event-Name", "SECOND").build();
        EslEvent wire = FrameCodec.decodeSingle(FrameCodec.encodeSingle(built));
        for (EslEvent event : new EslEvent[] {built, wire}) {
            assertEquals("CUSTOM", event.eventName());
            assertEquals("a::b", event.eventSubclass());
            assertEquals("j1", event.jobUuid());
            assertNull(event.uniqueId());
            assertEquals(2, event.headerIndex("EVENT-NAME", 0));
            assertEquals(3, event.headerIndex("event-name", 3));
            assertEquals(-1, event.headerIndex("Event-Name", 4));
            assertEquals("event-subclass", event.headerName(1));
            assertEquals("SECOND", event.headerValue(3));
        }
    }

    @Test
    public void namesMatchIgnoringAsciiCaseOnly() {
        EslEvent built = EslEvent.builder().header("Caf\u00e9-Name", "x").header("Event-Name", "CUSTOM").build();
        EslEvent wire = FrameCodec.decodeSingle(FrameCodec.encodeSingle(built));
        for (EslEvent event : new EslEvent[] {built, wire}) {
            assertEquals("x", event.header("CAF\u00e9-name"));
            assertNull("non-ASCII letters are compared exactly, like strcasecmp", event.header("Caf\u00c9-Name"));
            assertEquals("CUSTOM", event.header("EVENT-NAME"));
            assertNull(event.header("Event-Nam"));
            assertNull(event.header(null));
        }
    }

    private static void assertSameEvent(EslEvent eager, EslEvent lazy) {
        // Lookups first, while the lazy event has made no strings yet.
        Set<String> names = new LinkedHashSet<>();
        for (Map.Entry<String, String> header : eager.headers()) {
            names.add(header.getKey());
        }
        for (String name : names) {
            assertEquals(name, eager.header(name), lazy.header(name));
            assertEquals(name, eager.header(name.toUpperCase(Locale.ROOT)), lazy.header(name.toLowerCase(Locale.ROOT)));
            assertEquals(name, eager.headerValues(name), lazy.headerValues(name.toUpperCase(Locale.ROOT)));
        }
        assertNull(lazy.header("No-Such-Header"));
        assertEquals(eager.eventName(), lazy.eventName());
        assertEquals(eager.uniqueId(), lazy.uniqueId());
        assertEquals(eager.jobUuid(), lazy.jobUuid());
        assertEquals(eager.eventSubclass(), lazy.eventSubclass());
        assertEquals(eager.headerCount(), lazy.headerCount());
        assertEquals(eager.hasBody(), lazy.hasBody());
        assertEquals(eager.body(), lazy.body());
        assertArrayEquals(eager.bodyBytes(), lazy.bodyBytes());
        assertEquals(eager.headers(), lazy.headers());
        assertEquals(eager.hashCode(), lazy.hashCode());
        assertTrue(eager.equals(lazy));
        assertTrue(lazy.equals(eager));
        assertEquals(eager.toString(), lazy.toString());
    }

    /** The layout of codec.rs decoded straight into strings, independently of FrameCodec. */
    private static List<EslEvent> eagerDecode(byte[] batch) {
        ByteBuffer in = ByteBuffer.wrap(batch);
        int count = in.getInt();
        List<EslEvent> events = new ArrayList<>(count);
        for (int f = 0; f < count; f++) {
            assertEquals(FrameCodec.KIND_EVENT, in.get());
            boolean encoded = in.get() == 1;
            int headers = in.getInt();
            int dataLength = in.getInt();
            int base = in.position();
            in.position(base + dataLength);
            EslEvent.Builder builder = EslEvent.builder();
            boolean narrow = dataLength <= 0xffff;
            for (int h = 0; h < headers; h++) {
                String name = new String(batch, base + next(in, narrow), next(in, narrow), StandardCharsets.UTF_8);
                int valueStart = base + next(in, narrow);
                byte[] value = Arrays.copyOfRange(batch, valueStart, valueStart + next(in, narrow));
                builder.header(name, new String(encoded ? percentDecoded(value) : value, StandardCharsets.UTF_8));
            }
            int bodyStart = in.getInt();
            byte[] body = new byte[in.getInt()];
            System.arraycopy(batch, base + bodyStart, body, 0, body.length);
            in.position(in.position() + 16); // hot indices: checked by the lookups of assertSameEvent
            events.add(builder.body(body).build());
        }
        assertEquals(batch.length, in.position());
        return events;
    }

    /** {@code %XX} (either case) to its byte, everything else as it is: libesl's decoding. */
    private static byte[] percentDecoded(byte[] value) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(value.length);
        for (int i = 0; i < value.length; i++) {
            int high = i + 2 < value.length && value[i] == '%' ? Character.digit(value[i + 1], 16) : -1;
            int low = high < 0 ? -1 : Character.digit(value[i + 2], 16);
            if (low >= 0) {
                out.write(high * 16 + low);
                i += 2;
            } else {
                out.write(value[i]);
            }
        }
        return out.toByteArray();
    }

    /** How a test takes one poll from the engine. */
    private interface Poll<T> {
        T take(NativeConnection connection) throws Exception;

        int size(T poll);
    }

    private static final Poll<byte[]> RAW = new Poll<byte[]>() {
        @Override
        public byte[] take(NativeConnection connection) {
            return connection.pollRaw(64, 1_000);
        }

        @Override
        public int size(byte[] poll) {
            return ByteBuffer.wrap(poll).getInt();
        }
    };

    private static final Poll<FrameCodec.Batch> DECODED = new Poll<FrameCodec.Batch>() {
        @Override
        public FrameCodec.Batch take(NativeConnection connection) {
            return connection.inbox(64).take(1_000);
        }

        @Override
        public int size(FrameCodec.Batch poll) {
            return poll.size();
        }
    };

    /** The next span entry: an unsigned u16 in a narrow table, else a u32. */
    private static int next(ByteBuffer in, boolean narrow) {
        return narrow ? in.getShort() & 0xffff : in.getInt();
    }

    /** Plays FreeSWITCH (auth, then the corpus) and collects the engine's polls. */
    private static <T> List<T> fromEngine(final byte[] corpus, int expected, Poll<T> poll) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> serve(listener, corpus), "wire-event-server");
            server.setDaemon(true);
            server.start();
            List<T> batches = new ArrayList<>();
            try (NativeConnection connection = NativeConnection.connect("127.0.0.1", listener.getLocalPort(), null,
                    "ClueCon", new NativeConnection.Settings().blockOnOverflow(true).connectTimeoutMs(10_000))) {
                int received = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (received < expected && System.nanoTime() < deadline) {
                    T batch = poll.take(connection);
                    assertTrue("connection ended after " + received + " events", batch != null);
                    received += poll.size(batch);
                    batches.add(batch);
                }
                assertEquals(expected, received);
            }
            server.join(10_000);
            return batches;
        }
    }

    private static void serve(ServerSocket listener, byte[] corpus) {
        try (Socket socket = listener.accept()) {
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write("Content-Type: auth/request\n\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            int previous = -1;
            for (int b = in.read(); b >= 0 && !(b == '\n' && previous == '\n'); b = in.read()) {
                previous = b;
            }
            out.write("Content-Type: command/reply\nReply-Text: +OK accepted\n\n".getBytes(StandardCharsets.US_ASCII));
            out.write(corpus);
            out.flush();
            // Hold the socket open until the client leaves (its exit or close ends this read).
            while (in.read() >= 0) {
                // discard the client's exit
            }
        } catch (IOException e) {
            // the client closed
        }
    }

    private static int count(String text, String needle) {
        int count = 0;
        for (int from = text.indexOf(needle); from >= 0; from = text.indexOf(needle, from + 1)) {
            count++;
        }
        return count;
    }
}
