package org.freeswitch.esl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.esl4j.examples.TestServer;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * {@code ESLconnection(int fd)}: the SWIG binding's descriptor path. The test accepts the call
 * itself, as code written for libesl does, and hands the descriptor over.
 */
public class DescriptorAdoptionTest {
    private static final long LINGER_WAIT_MS = 100;

    @BeforeClass
    public static void needProc() {
        assumeTrue("needs Linux's /proc to find a socket's descriptor", SocketDescriptors.available());
    }

    @Test
    public void anAcceptedCallsDescriptorRunsTheQuickStartServerUnchanged() throws Exception {
        Map<String, FakeFreeSwitch.Script> scripts = FakeFreeSwitch.load("04_outbound_async_bridge_leg_timeout.txt");
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                FakeFreeSwitch fake = FakeFreeSwitch.outbound(listener.getLocalPort(), scripts.get("out"))) {
            try (Socket accepted = listener.accept()) {
                int descriptor = SocketDescriptors.of(accepted);
                String socket = SocketDescriptors.target(descriptor);
                ESLconnection call = new ESLconnection(descriptor);
                assertEquals(call.getLastError(), 1, call.connected());
                assertEquals(descriptor, call.socketDescriptor());
                ESLevent info = call.getInfo();
                assertEquals("CHANNEL_DATA", info.getType());
                assertNotNull(info.getHeader("Unique-ID", -1));
                int events = TestServer.handleCall(call, LINGER_WAIT_MS);
                assertTrue("expected the call's events and the linger notice, got " + events, events >= 5);
                assertTrue("disconnect() did not send exit", fake.awaitCommand("exit", 10_000));
                String sent = String.join("\n--\n", fake.commands());
                assertTrue(sent, sent.startsWith("connect\n"));
                assertTrue(sent, sent.contains("execute-app-name: answer"));
                assertTrue(sent, sent.contains("execute-app-arg: 3000@default"));
                assertEquals(0, call.connected());
                // The engine closed its duplicate only: the caller's descriptor is still its own.
                assertEquals(socket, SocketDescriptors.target(descriptor));
            }
        }
    }

    @Test
    public void aDescriptorThatIsNotASocketLeavesTheObjectUnconnectedWithTheReason() throws Exception {
        Path file = Files.createTempFile("esl4j", ".txt");
        try (RandomAccessFile open = new RandomAccessFile(file.toFile(), "r")) {
            assertTrue(open.getFD().valid());
            ESLconnection notASocket = new ESLconnection(SocketDescriptors.of(file));
            assertEquals(0, notASocket.connected());
            assertNull(notASocket.getInfo());
            assertNull(notASocket.api("status", null));
            assertTrue(notASocket.getLastError(), notASocket.getLastError().contains("not a connected TCP socket"));
        } finally {
            Files.delete(file);
        }
    }

    @Test
    public void aNegativeDescriptorLeavesTheObjectUnconnectedWithTheReason() {
        ESLconnection none = new ESLconnection(-1);
        assertEquals(0, none.connected());
        assertEquals(-1, none.socketDescriptor());
        assertTrue(none.getLastError(), none.getLastError().contains("not a file descriptor"));
    }
}
