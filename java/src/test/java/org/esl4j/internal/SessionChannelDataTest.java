package org.esl4j.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.esl4j.EslEvent;
import org.junit.Test;

/**
 * An outbound session's channel data is handed from the engine to Java once, so that one copy
 * exists per call: the engine keeps none afterwards, and Java reads every header exactly as the
 * connect reply gave it, from any number of views, also after the session is closed.
 */
public class SessionChannelDataTest {
    private static final long WAIT_MS = 10_000;
    private static final String UUID = "0c0d5a10-5d9e-4f6b-9d43-1f7c1e0a2b3c";
    /** As FreeSWITCH sends it: URL-encoded values, a repeated name, an array value, UTF-8. */
    private static final String CONNECT_REPLY = "Event-Name: CHANNEL_DATA\n"
            + "Unique-ID: " + UUID + "\n"
            + "Caller-Caller-ID-Name: Jos%C3%A9%20Mar%C3%ADa\n"
            + "variable_sip_h_X-Tag: a%20b%3Ac%25d\n"
            + "variable_codecs: ARRAY::PCMU%408000h|:opus\n"
            + "X-Repeated: first\n"
            + "X-Repeated: second%0Aline\n"
            + "Content-Type: command/reply\n"
            + "Reply-Text: %2BOK%0A\n"
            + "Socket-Mode: async\n"
            + "Control: full\n\n";

    @Test
    public void channelDataIsHandedOverOnceAndReadsAsReceived() throws Exception {
        NativeConnection.Settings settings = new NativeConnection.Settings();
        try (NativeServer server = NativeServer.bind("127.0.0.1", 0, 4, 4, WAIT_MS, 0, settings);
                Socket call = new Socket("127.0.0.1", server.port())) {
            call.setSoTimeout((int) WAIT_MS);
            assertEquals("connect", readCommand(call.getInputStream()));
            call.getOutputStream().write(CONNECT_REPLY.getBytes(StandardCharsets.UTF_8));
            NativeConnection session = server.accept(WAIT_MS);
            assertNotNull("no session within " + WAIT_MS + " ms", session);

            long handle = session.acquire();
            try {
                assertNull("the engine still holds a copy", Native.connectionChannelData(handle));
            } finally {
                session.release();
            }
            assertReadsAsReceived(session.channelData());
            assertReadsAsReceived(session.channelData());
            session.close();
            assertReadsAsReceived(session.channelData());
        }
    }

    private static void assertReadsAsReceived(EslEvent data) {
        String[] names = new String[data.headerCount()];
        for (int i = 0; i < names.length; i++) {
            names[i] = data.headerName(i);
        }
        assertArrayEquals(new String[] {"Event-Name", "Unique-ID", "Caller-Caller-ID-Name", "variable_sip_h_X-Tag",
            "variable_codecs", "variable_codecs", "X-Repeated", "X-Repeated", "Content-Type", "Reply-Text", "Socket-Mode", "Control"}, names);
        assertEquals("CHANNEL_DATA", data.eventName());
        assertEquals(UUID, data.uniqueId());
        assertEquals("José María", data.header("Caller-Caller-ID-Name"));
        assertEquals("a b:c%d", data.variable("sip_h_X-Tag"));
        // An array value reads as one header per item, as every event from the engine does.
        assertEquals(Arrays.asList("PCMU@8000h", "opus"), data.headerValues("variable_codecs"));
        assertEquals("first", data.header("x-repeated"));
        assertEquals(Arrays.asList("first", "second\nline"), data.headerValues("X-Repeated"));
        assertEquals("+OK\n", data.header("Reply-Text"));
    }

    /** The first line of the next command (commands without a body end at a blank line). */
    private static String readCommand(InputStream in) throws IOException {
        ByteArrayOutputStream command = new ByteArrayOutputStream();
        int previous = -1;
        for (int next = in.read(); next >= 0; next = in.read()) {
            if (next == '\n' && previous == '\n') {
                return command.toString("UTF-8").trim().split("\n")[0];
            }
            command.write(next);
            previous = next;
        }
        throw new IOException("closed before a command");
    }
}
