package org.esl4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.esl4j.testing.EslSimulator;
import org.junit.After;
import org.junit.BeforeClass;
import org.junit.Test;

/** {@link EslClient#connectInBackground(ClientOptions)}: a client made while FreeSWITCH is down. */
public class EslClientBackgroundConnectTest {
    /** Generous: the machine is shared and loaded; nothing here depends on it being short. */
    private static final Duration WAIT = Duration.ofSeconds(60);

    private EslClient client;
    private EslSimulator simulator;

    @BeforeClass
    public static void requireNative() {
        assumeTrue("native library not built", SimulatorSupport.nativeAvailable());
    }

    @After
    public void tearDown() {
        if (client != null) {
            client.close();
        }
        if (simulator != null) {
            simulator.close();
        }
    }

    /** A port nothing listens on (bound then released). */
    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static ClientOptions.Builder options(int port) {
        return ClientOptions.builder().host("127.0.0.1").port(port).password("ClueCon")
                .connectTimeout(Duration.ofSeconds(5))
                .reconnect(ReconnectPolicy.backoff(Duration.ofMillis(20), Duration.ofMillis(100), 0));
    }

    private static ConnectionEvent next(BlockingQueue<ConnectionEvent> changes) throws InterruptedException {
        ConnectionEvent event = changes.poll(WAIT.getSeconds(), TimeUnit.SECONDS);
        assertNotNull("no connection event", event);
        return event;
    }

    @Test
    public void connectsOnceTheServerIsUpAndAppliesWhatWasAskedBefore() throws Exception {
        int port = freePort();
        BlockingQueue<ConnectionEvent> changes = new LinkedBlockingQueue<>();
        client = EslClient.connectInBackground(options(port).build());
        client.onConnectionEvent(changes::add);
        assertFalse(client.isConnected());
        try {
            client.api("status", WAIT);
            fail("expected a command before the first connection to fail");
        } catch (EslConnectionClosedException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("not connected yet"));
        }
        assertFailsClosed(client.api("status"));
        assertFailsClosed(client.bgapi("status"));
        // Remembered, sent once connected.
        client.subscribe("CHANNEL_ANSWER").get(WAIT.getSeconds(), TimeUnit.SECONDS);
        client.filter("Event-Name", "CHANNEL_ANSWER").get(WAIT.getSeconds(), TimeUnit.SECONDS);

        simulator = EslSimulator.builder().port(port).start();
        ConnectionEvent connected = next(changes);
        assertEquals(ConnectionEvent.Type.CONNECTED, connected.type());
        assertTrue(client.isConnected());
        simulator.awaitCommand("event plain BACKGROUND_JOB CHANNEL_ANSWER", WAIT);
        simulator.awaitCommand("filter Event-Name CHANNEL_ANSWER", WAIT);
        assertNotNull(client.api("status", WAIT));
    }

    @Test
    public void closeEndsTheAttempts() throws Exception {
        int port = freePort();
        BlockingQueue<ConnectionEvent> changes = new LinkedBlockingQueue<>();
        // A back-off far beyond the test's waits: only close() can end it.
        client = EslClient.connectInBackground(options(port)
                .reconnect(ReconnectPolicy.backoff(Duration.ofMinutes(10), Duration.ofMinutes(10), 0)).build());
        client.onConnectionEvent(changes::add);
        Thread connector = connectorThread(port);
        client.close();
        ConnectionEvent closed = next(changes);
        assertEquals(ConnectionEvent.Type.CLOSED, closed.type());
        // The connector leaves its ten-minute back-off at once.
        connector.join(WAIT.toMillis());
        assertFalse("the connector kept waiting after close", connector.isAlive());
        // Nothing connects later, even with a server up.
        simulator = EslSimulator.builder().port(port).start();
        assertFalse(client.isConnected());
        assertFailsClosed(client.api("status"));
    }

    @Test
    public void givesUpAfterTheLastAttempt() throws Exception {
        int port = freePort();
        BlockingQueue<ConnectionEvent> changes = new LinkedBlockingQueue<>();
        client = EslClient.connectInBackground(options(port)
                .reconnect(ReconnectPolicy.backoff(Duration.ofMillis(1), Duration.ofMillis(2), 2)).build());
        client.onConnectionEvent(changes::add);
        ConnectionEvent end = next(changes);
        assertEquals(ConnectionEvent.Type.CLOSED, end.type());
        assertTrue(end.reason(), end.reason().startsWith("connecting gave up"));
        assertFailsClosed(client.api("status"));
    }

    @Test(expected = IllegalArgumentException.class)
    public void needsAReconnectPolicy() {
        EslClient.connectInBackground(options(1).reconnect(ReconnectPolicy.none()).build());
    }

    private static Thread connectorThread(int port) {
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().equals("esl4j-connect-127.0.0.1:" + port)) {
                return thread;
            }
        }
        throw new AssertionError("no connector thread for port " + port);
    }

    private static void assertFailsClosed(CompletableFuture<?> command) throws InterruptedException {
        try {
            command.get(WAIT.getSeconds(), TimeUnit.SECONDS);
            fail("expected the command to fail");
        } catch (ExecutionException expected) {
            assertTrue(String.valueOf(expected.getCause()), expected.getCause() instanceof EslConnectionClosedException);
        } catch (TimeoutException hung) {
            fail("the command hung");
        }
    }
}
