package org.esl4j.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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
import org.esl4j.EslConnectionClosedException;
import org.esl4j.EslEvent;
import org.esl4j.EslException;
import org.esl4j.testing.internal.NativeSimulator;
import org.esl4j.EslTimeoutException;
import org.junit.After;
import org.junit.Assume;
import org.junit.Test;

/**
 * The blocking command path ({@code NativeConnection.*Blocking}): the caller's thread writes the
 * command and receives the reply from the engine's reader. Each caller gets its own reply, a
 * deadline holds, a timed-out call's late reply never reaches the next caller, and the end of
 * the connection fails a blocked caller with a typed error. Calls run on helper threads awaited
 * with a bound far above every deadline, so a hang fails the test instead of the build.
 */
public class BlockingCommandTest {
    /** Far above every deadline used here: only a hang reaches it. */
    private static final long HANG_BOUND_MS = 30_000;
    private static final long REPLY_DEADLINE_MS = 10_000;
    private static final String AUTH_OK = "Content-Type: command/reply\nReply-Text: +OK accepted\n\n";

    private final ExecutorService helpers = Executors.newCachedThreadPool();
    private final List<AutoCloseable> resources = new ArrayList<>();

    @After
    public void stop() throws Exception {
        for (AutoCloseable resource : resources) {
            resource.close();
        }
        helpers.shutdownNow();
    }

    private NativeConnection connect(int port) {
        NativeConnection connection = NativeConnection.connect("127.0.0.1", port, null, "ClueCon",
                new NativeConnection.Settings().commandTimeoutMs(REPLY_DEADLINE_MS));
        resources.add(connection);
        return connection;
    }

    private NativeSimulator simulator() {
        NativeSimulator sim = NativeSimulator.start(0, null, false, 0);
        resources.add(sim);
        return sim;
    }

    private <T> T within(Callable<T> call) throws Exception {
        try {
            return helpers.submit(call).get(HANG_BOUND_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException failed) {
            throw failed.getCause() instanceof Exception ? (Exception) failed.getCause() : failed;
        }
    }

    @Test
    public void concurrentBlockingCallersEachGetTheirOwnReply() throws Exception {
        NativeConnection connection = connect(simulator().port());
        assertEveryCallerGetsItsOwnReply(connection, helpers);
    }

    @Test
    public void callersOnVirtualThreadsGetTheirOwnRepliesToo() throws Exception {
        ExecutorService virtual;
        try {
            Method factory = Executors.class.getMethod("newVirtualThreadPerTaskExecutor");
            virtual = (ExecutorService) factory.invoke(null);
        } catch (NoSuchMethodException beforeJava21) {
            Assume.assumeNoException("virtual threads need Java 21", beforeJava21);
            return;
        }
        try {
            assertEveryCallerGetsItsOwnReply(connect(simulator().port()), virtual);
        } finally {
            virtual.shutdownNow();
        }
    }

    /** 16 threads × 25 calls of {@code api eval <caller>-<call>}: each reply echoes its own text. */
    private static void assertEveryCallerGetsItsOwnReply(NativeConnection connection, ExecutorService threads)
            throws Exception {
        int callers = 16;
        int calls = 25;
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Integer>> results = new ArrayList<>();
        for (int caller = 0; caller < callers; caller++) {
            final int id = caller;
            results.add(threads.submit(() -> {
                start.await();
                for (int call = 0; call < calls; call++) {
                    String expected = "caller" + id + "-call" + call;
                    EslEvent reply = connection.apiBlocking("eval " + expected, REPLY_DEADLINE_MS);
                    assertEquals(expected, reply.body().trim());
                }
                return calls;
            }));
        }
        start.countDown();
        int done = 0;
        for (Future<Integer> result : results) {
            done += result.get(HANG_BOUND_MS, TimeUnit.MILLISECONDS);
        }
        assertEquals(callers * calls, done);
    }

    @Test
    public void everyBlockingFormReturnsItsReply() throws Exception {
        NativeSimulator sim = simulator();
        NativeConnection connection = connect(sim.port());
        assertTrue(within(() -> connection.sendRecvBlocking("api eval raw", 0)).body().startsWith("raw"));
        assertTrue(within(() -> connection.bgapiBlocking("eval job", null, 0)).header("Reply-Text").startsWith("+OK"));
        connection.subscribe("plain", "BACKGROUND_JOB").get(HANG_BOUND_MS, TimeUnit.MILLISECONDS);
        List<EslEvent> job = within(() -> connection.bgapiJobBlocking("eval output", 0));
        assertEquals("BACKGROUND_JOB", job.get(1).eventName());
        assertTrue(job.get(1).body().startsWith("output"));
        EslEvent custom = EslEvent.builder().header("Event-Subclass", "esl4j::test").build();
        assertTrue(within(() -> connection.sendEventBlocking("CUSTOM", custom, 0)).header("Reply-Text").startsWith("+OK"));
    }

    @Test
    public void aTimedOutCallsLateReplyNeverReachesTheNextCaller() throws Exception {
        ScriptedServer server = new ScriptedServer();
        NativeConnection connection = connect(server.port());
        try {
            within(() -> connection.apiBlocking("slow", 200));
            fail("the slow call must time out");
        } catch (EslTimeoutException expected) {
            // its slot stays: the late reply fills it and is dropped
        }
        Future<EslEvent> fast = helpers.submit(() -> connection.apiBlocking("fast", REPLY_DEADLINE_MS));
        assertEquals("api slow", server.commands.poll(HANG_BOUND_MS, TimeUnit.MILLISECONDS));
        assertEquals("api fast", server.commands.poll(HANG_BOUND_MS, TimeUnit.MILLISECONDS));
        server.reply(apiResponse("slow output"));
        server.reply(apiResponse("fast output"));
        assertEquals("fast output", fast.get(HANG_BOUND_MS, TimeUnit.MILLISECONDS).body());
    }

    @Test
    public void theServerClosingFailsABlockedCallerAsClosed() throws Exception {
        assertABlockedCallerFailsAsClosedAfter((server, connection) -> server.close());
    }

    @Test
    public void closingTheConnectionFailsABlockedCallerAsClosed() throws Exception {
        assertABlockedCallerFailsAsClosedAfter((server, connection) -> connection.close());
    }

    /** What ends the connection under a blocked caller. */
    private interface Ending {
        void end(ScriptedServer server, NativeConnection connection) throws IOException;
    }

    private void assertABlockedCallerFailsAsClosedAfter(Ending ending) throws Exception {
        ScriptedServer server = new ScriptedServer();
        NativeConnection connection = connect(server.port());
        Future<EslEvent> blocked = helpers.submit(() -> connection.apiBlocking("status", REPLY_DEADLINE_MS * 10));
        assertEquals("api status", server.commands.poll(HANG_BOUND_MS, TimeUnit.MILLISECONDS));
        ending.end(server, connection);
        assertFailsWith(blocked, EslConnectionClosedException.class);
    }

    @Test
    public void anInterruptedThreadDoesNotSendAndKeepsItsInterrupt() throws Exception {
        NativeSimulator sim = simulator();
        NativeConnection connection = connect(sim.port());
        int before = sim.commands().size();
        boolean stillInterrupted = within(() -> {
            Thread.currentThread().interrupt();
            try {
                connection.apiBlocking("eval never", REPLY_DEADLINE_MS);
                fail("an interrupted caller must not send");
            } catch (EslException refused) {
                assertEquals(EslException.Kind.INVALID_STATE, refused.kind());
            }
            return Thread.interrupted();
        });
        assertTrue(stillInterrupted);
        assertEquals("after", within(() -> connection.apiBlocking("eval after", REPLY_DEADLINE_MS)).body().trim());
        for (String command : sim.commands().subList(before, sim.commands().size())) {
            assertFalse(command, command.contains("never"));
        }
    }

    @Test
    public void aCommandWithALineBreakIsRefusedBeforeSending() throws Exception {
        NativeConnection connection = connect(simulator().port());
        try {
            within(() -> connection.apiBlocking("status\n\nexit", REPLY_DEADLINE_MS));
            fail("injection must be refused");
        } catch (EslException refused) {
            assertEquals(EslException.Kind.INVALID_COMMAND, refused.kind());
        }
    }

    private static void assertFailsWith(Future<?> call, Class<? extends EslException> expected) throws Exception {
        try {
            call.get(HANG_BOUND_MS, TimeUnit.MILLISECONDS);
            fail("expected " + expected.getSimpleName());
        } catch (ExecutionException failed) {
            assertTrue(String.valueOf(failed.getCause()), expected.isInstance(failed.getCause()));
        }
    }

    private static String apiResponse(String body) {
        return "Content-Type: api/response\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\n\n"
                + body;
    }

    /** One connection: accepts auth, then records each command line and answers only when told. */
    private final class ScriptedServer implements AutoCloseable {
        final BlockingQueue<String> commands = new LinkedBlockingQueue<>();
        private final ServerSocket listener;
        private volatile Socket client;

        ScriptedServer() throws IOException {
            listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            resources.add(this);
            Thread thread = new Thread(this::serve, "scripted-esl-server");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        private void serve() {
            try {
                client = listener.accept();
                InputStream in = client.getInputStream();
                write("Content-Type: auth/request\n\n");
                readCommand(in);
                write(AUTH_OK);
                for (String command = readCommand(in); command != null; command = readCommand(in)) {
                    commands.add(command);
                }
            } catch (IOException closed) {
                // the test closed the server
            }
        }

        void reply(String frame) throws IOException {
            write(frame);
        }

        private void write(String text) throws IOException {
            OutputStream out = client.getOutputStream();
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        @Override
        public void close() throws IOException {
            listener.close();
            Socket connected = client;
            if (connected != null) {
                connected.close();
            }
        }
    }

    /** The first line of the next command (up to its blank line), or null at the end of the stream. */
    private static String readCommand(InputStream in) throws IOException {
        ByteArrayOutputStream command = new ByteArrayOutputStream();
        int previous = -1;
        for (int b = in.read(); b >= 0; b = in.read()) {
            if (b == '\n' && previous == '\n') {
                String text = new String(command.toByteArray(), StandardCharsets.UTF_8);
                return text.split("\n", 2)[0];
            }
            command.write(b);
            previous = b;
        }
        return null;
    }
}
