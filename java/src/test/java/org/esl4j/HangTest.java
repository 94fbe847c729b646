package org.esl4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.freeswitch.esl.ESLconnection;
import org.junit.After;
import org.junit.Test;

/**
 * A server that misbehaves after accepting (never answers, answers half a frame, closes
 * mid-frame): every blocking call returns or throws within its deadline. Each call runs on a
 * helper thread that the test waits for with a bound well above the call's own deadline, so a
 * hang fails the test instead of blocking the build.
 */
public class HangTest {
    private static final Duration CALL_DEADLINE = Duration.ofMillis(500);
    /** Far above every deadline used here: only a hang reaches it. */
    private static final long HANG_BOUND_MS = 20_000;
    private static final String AUTH_REQUEST = "Content-Type: auth/request\n\n";
    private static final String AUTH_OK = "Content-Type: command/reply\nReply-Text: +OK accepted\n\n";
    private static final String CONNECT_REPLY = "Event-Name: CHANNEL_DATA\nUnique-ID: 5d3bc2a4-0000-4000-8000-000000000001\n"
            + "Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\nControl: full\n\n";
    private static final String EVENT_OK = "Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n";

    private final ExecutorService callers = Executors.newCachedThreadPool();
    private final List<ScriptedServer> servers = new ArrayList<>();

    @After
    public void stop() throws IOException {
        for (ScriptedServer server : servers) {
            server.close();
        }
        callers.shutdownNow();
    }

    /** What the server does once the client has authenticated and subscribed. */
    private enum Misbehaviour {
        NEVER_ANSWERS("", EslTimeoutException.class),
        HALF_FRAME("Content-Type: api/response\nContent-Len", EslTimeoutException.class),
        HALF_BODY("Content-Type: api/response\nContent-Length: 100\n\nonly part of it", EslTimeoutException.class),
        CLOSES_MID_FRAME("Content-Type: api/response\nContent-Length: 100\n\nonly part of it",
                EslConnectionClosedException.class),
        /** A disconnect notice that is not a linger notice, the socket left open: libesl ends there. */
        DISCONNECT_NOTICE_SOCKET_OPEN("Content-Type: text/disconnect-notice\nContent-Length: 14\n\nDisconnected.\n",
                EslConnectionClosedException.class);

        final String afterFirstCommand;
        /** What a command waiting for the answer must end with. */
        final Class<? extends EslException> commandFailure;

        Misbehaviour(String afterFirstCommand, Class<? extends EslException> commandFailure) {
            this.afterFirstCommand = afterFirstCommand;
            this.commandFailure = commandFailure;
        }
    }

    /** One connection: greets, accepts auth and the given number of setup commands, then misbehaves. */
    private final class ScriptedServer implements AutoCloseable {
        final ServerSocket socket;
        final CountDownLatch misbehaving = new CountDownLatch(1);
        private final List<Socket> accepted = new ArrayList<>();

        ScriptedServer(boolean greets, int setupCommands, Misbehaviour misbehaviour) throws IOException {
            socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            servers.add(this);
            Thread thread = new Thread(() -> serve(greets, setupCommands, misbehaviour), "scripted-esl-server");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        private void serve(boolean greets, int setupCommands, Misbehaviour misbehaviour) {
            try {
                Socket client = socket.accept();
                synchronized (accepted) {
                    accepted.add(client);
                }
                InputStream in = client.getInputStream();
                OutputStream out = client.getOutputStream();
                if (greets) {
                    write(out, AUTH_REQUEST);
                    readCommand(in);
                    write(out, AUTH_OK);
                    for (int i = 0; i < setupCommands; i++) {
                        readCommand(in);
                        write(out, EVENT_OK);
                    }
                    readCommand(in);
                    write(out, misbehaviour.afterFirstCommand);
                }
                misbehaving.countDown();
                if (misbehaviour == Misbehaviour.CLOSES_MID_FRAME) {
                    client.close();
                    return;
                }
                drain(in);
            } catch (IOException closed) {
                misbehaving.countDown();
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
            synchronized (accepted) {
                for (Socket client : accepted) {
                    client.close();
                }
            }
        }
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Reads up to the blank line that ends a command; returns its first line. */
    private static String readCommand(InputStream in) throws IOException {
        StringBuilder command = new StringBuilder();
        int current;
        while ((current = in.read()) >= 0) {
            if (current == '\n' && command.length() > 0 && command.charAt(command.length() - 1) == '\n') {
                return command.substring(0, command.indexOf("\n"));
            }
            command.append((char) current);
        }
        throw new IOException("peer closed");
    }

    /** Reads and ignores whatever else comes, answering nothing, until the peer goes. */
    private static void drain(InputStream in) throws IOException {
        while (in.read() >= 0) {
            continue;
        }
    }

    /** Runs {@code call}; fails the test if it neither returns nor throws within the hang bound. */
    private <T> Outcome<T> within(Callable<T> call) throws InterruptedException {
        Future<T> future = callers.submit(call);
        try {
            return new Outcome<>(future.get(HANG_BOUND_MS, TimeUnit.MILLISECONDS), null);
        } catch (ExecutionException e) {
            return new Outcome<>(null, e.getCause());
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new AssertionError("hung: no return or exception in " + HANG_BOUND_MS + " ms");
        }
    }

    private static final class Outcome<T> {
        final T value;
        final Throwable error;

        Outcome(T value, Throwable error) {
            this.value = value;
            this.error = error;
        }

        void assertThrew(String what, Class<? extends Throwable> type) {
            if (error == null) {
                fail(what + ": expected " + type.getSimpleName() + ", got " + value);
            }
            if (!type.isInstance(error)) {
                throw new AssertionError(what + ": expected " + type.getSimpleName() + ", got " + error, error);
            }
        }
    }

    private ClientOptions options(int port) {
        return ClientOptions.builder().host("127.0.0.1").port(port).password("ClueCon")
                .connectTimeout(CALL_DEADLINE).commandTimeout(CALL_DEADLINE).build();
    }

    @Test
    public void connectToASilentServerTimesOut() throws Exception {
        ScriptedServer server = new ScriptedServer(false, 0, Misbehaviour.NEVER_ANSWERS);
        within(() -> EslClient.connect(options(server.port()))).assertThrew("no greeting", EslTimeoutException.class);
    }

    @Test
    public void connectToAServerThatNeverConfirmsTheSubscriptionTimesOut() throws Exception {
        // auth is answered, the client's first subscription is not
        ScriptedServer server = new ScriptedServer(true, 0, Misbehaviour.NEVER_ANSWERS);
        within(() -> EslClient.connect(options(server.port()))).assertThrew("no subscription reply", EslTimeoutException.class);
    }

    @Test
    public void apiEndsWithTheRightErrorForEveryMisbehaviour() throws Exception {
        for (Misbehaviour misbehaviour : Misbehaviour.values()) {
            ScriptedServer server = new ScriptedServer(true, 1, misbehaviour);
            EslClient client = EslClient.connect(options(server.port()));
            try {
                within(() -> client.api("status", CALL_DEADLINE)).assertThrew(misbehaviour.name(), misbehaviour.commandFailure);
            } finally {
                within(() -> {
                    client.close();
                    return null;
                });
            }
        }
    }

    /**
     * Plays a FreeSWITCH call for an outbound server: answers {@code connect} with channel data and
     * every setup command with +OK, then misbehaves on the first {@code sendmsg}.
     */
    private void outboundCall(int port, Misbehaviour misbehaviour) {
        Thread thread = new Thread(() -> {
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                String command;
                while (!(command = readCommand(in)).startsWith("sendmsg")) {
                    write(out, command.equals("connect") ? CONNECT_REPLY : EVENT_OK);
                }
                write(out, misbehaviour.afterFirstCommand);
                if (misbehaviour != Misbehaviour.CLOSES_MID_FRAME) {
                    drain(in);
                }
            } catch (IOException ended) {
                // the server closed the session
            }
        }, "scripted-outbound-call");
        thread.setDaemon(true);
        thread.start();
    }

    @Test
    public void sessionCommandsEndWithTheRightErrorForEveryMisbehaviour() throws Exception {
        BlockingQueue<Object> outcomes = new LinkedBlockingQueue<>();
        ServerOptions options = ServerOptions.builder().host("127.0.0.1").port(0).commandTimeout(CALL_DEADLINE)
                .handshakeTimeout(CALL_DEADLINE).build();
        try (EslOutboundServer server = EslOutboundServer.start(options, session -> {
            try {
                outcomes.add(session.answer(CALL_DEADLINE));
            } catch (RuntimeException failure) {
                outcomes.add(failure);
            }
        })) {
            for (Misbehaviour misbehaviour : Misbehaviour.values()) {
                outboundCall(server.port(), misbehaviour);
                Object outcome = outcomes.poll(HANG_BOUND_MS, TimeUnit.MILLISECONDS);
                assertNotNull(misbehaviour.name() + ": hung", outcome);
                assertTrue(misbehaviour.name() + ": " + outcome, misbehaviour.commandFailure.isInstance(outcome));
            }
        }
    }

    private ESLconnection compat(Misbehaviour misbehaviour) throws Exception {
        // ESLconnection subscribes to nothing itself: no setup commands before the misbehaviour
        ScriptedServer server = new ScriptedServer(true, 0, misbehaviour);
        ESLconnection connection = within(() -> new ESLconnection("127.0.0.1", server.port(), "ClueCon")).value;
        assertEquals(1, connection.connected());
        within(() -> connection.sendRecv("api status"));
        assertTrue(server.misbehaving.await(HANG_BOUND_MS, TimeUnit.MILLISECONDS));
        return connection;
    }

    @Test
    public void compatRecvEventTimedReturnsNullAgainstASilentServer() throws Exception {
        System.setProperty(ESLconnection.COMMAND_TIMEOUT_PROPERTY, Long.toString(CALL_DEADLINE.toMillis()));
        try {
            for (Misbehaviour misbehaviour : new Misbehaviour[] {Misbehaviour.NEVER_ANSWERS, Misbehaviour.HALF_FRAME}) {
                ESLconnection connection = compat(misbehaviour);
                assertNull(misbehaviour.name(), within(() -> connection.recvEventTimed(100)).value);
                assertEquals(misbehaviour.name(), 0, (int) within(connection::disconnect).value);
            }
        } finally {
            System.clearProperty(ESLconnection.COMMAND_TIMEOUT_PROPERTY);
        }
    }

    @Test
    public void compatRecvEventReturnsWhenTheServerClosesMidFrame() throws Exception {
        System.setProperty(ESLconnection.COMMAND_TIMEOUT_PROPERTY, Long.toString(CALL_DEADLINE.toMillis()));
        try {
            ESLconnection connection = compat(Misbehaviour.CLOSES_MID_FRAME);
            // blocks by design (libesl), but must end with the connection
            assertEquals("SERVER_DISCONNECTED", within(connection::recvEvent).value.getType());
            assertEquals(0, connection.connected());
        } finally {
            System.clearProperty(ESLconnection.COMMAND_TIMEOUT_PROPERTY);
        }
    }

    /** The client's connection losses, from now on. */
    private static BlockingQueue<ConnectionEvent> losses(EslClient client) {
        BlockingQueue<ConnectionEvent> events = new LinkedBlockingQueue<>();
        client.onConnectionEvent(event -> {
            if (event.type() == ConnectionEvent.Type.DISCONNECTED) {
                events.add(event);
            }
        });
        return events;
    }

    @Test
    public void aShortBodyEndsTheConnectionInsteadOfWedgingIt() throws Exception {
        ScriptedServer server = new ScriptedServer(true, 1, Misbehaviour.HALF_BODY);
        EslClient client = EslClient.connect(options(server.port()));
        BlockingQueue<ConnectionEvent> losses = losses(client);
        try {
            // A timeout, or the end if the machine stalls past both deadlines at once.
            within(() -> client.api("status", CALL_DEADLINE)).assertThrew("short body", EslException.class);
            assertNotNull("declared broken", losses.poll(HANG_BOUND_MS, TimeUnit.MILLISECONDS));
            assertFalse(client.isConnected());
        } finally {
            client.close();
        }
    }

    @Test
    public void aDisconnectNoticeWithTheSocketOpenEndsTheModernClient() throws Exception {
        ScriptedServer server = new ScriptedServer(true, 1, Misbehaviour.DISCONNECT_NOTICE_SOCKET_OPEN);
        ClientOptions patient = ClientOptions.builder().host("127.0.0.1").port(server.port()).password("ClueCon")
                .connectTimeout(CALL_DEADLINE).commandTimeout(Duration.ofMinutes(5)).build();
        EslClient client = EslClient.connect(patient);
        BlockingQueue<ConnectionEvent> losses = losses(client);
        try {
            within(() -> client.api("status", Duration.ofMinutes(5)))
                    .assertThrew("ended by the notice", EslConnectionClosedException.class);
            assertNotNull(losses.poll(HANG_BOUND_MS, TimeUnit.MILLISECONDS));
            assertFalse(client.isConnected());
        } finally {
            client.close();
        }
    }

    @Test
    public void compatDisconnectNoticeWithTheSocketOpenEndsTheConnection() throws Exception {
        // Far above the hang bound: a command that waited for its deadline would fail the test.
        System.setProperty(ESLconnection.COMMAND_TIMEOUT_PROPERTY, Long.toString(10 * HANG_BOUND_MS));
        try {
            ScriptedServer server = new ScriptedServer(true, 0, Misbehaviour.DISCONNECT_NOTICE_SOCKET_OPEN);
            ESLconnection connection = within(() -> new ESLconnection("127.0.0.1", server.port(), "ClueCon")).value;
            assertEquals(1, connection.connected());
            assertNull(within(() -> connection.api("status")).value);
            assertEquals(0, (int) within(connection::connected).value);
            assertEquals("SERVER_DISCONNECTED", within(connection::recvEvent).value.getType());
            assertNull(within(() -> connection.api("status")).value);
        } finally {
            System.clearProperty(ESLconnection.COMMAND_TIMEOUT_PROPERTY);
        }
    }
}
