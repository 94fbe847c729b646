package org.esl4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.esl4j.dial.Application;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.BridgeResult;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.dial.Timeouts;
import org.esl4j.testing.internal.NativeSimulator;
import org.junit.After;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The outbound server against scripted FreeSWITCH calls ({@link FakeOutboundCall}), which play
 * the socket application's side as recorded in the transcripts.
 */
public class EslOutboundServerTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private EslOutboundServer server;

    @BeforeClass
    public static void needNative() {
        assumeTrue("native library not available", SimulatorSupport.nativeAvailable());
    }

    @After
    public void stop() {
        if (server != null) {
            server.close();
        }
    }

    private void serve(ServerOptions.Builder options, SessionHandler handler) {
        server = EslOutboundServer.start(options.port(0).linger(Duration.ofSeconds(1)).build(), handler);
    }

    /**
     * Has the simulator call user/1000, who answers at once and runs the extension {@code agent},
     * routed to this server by {@code socket} with the given mode ({@code "async full"}, ...).
     */
    private void callThroughSocket(NativeSimulator sim, EslClient client, String mode) throws Exception {
        sim.setEndpoint("user/1000", NativeSimulator.Behavior.ANSWER_AFTER, 0, null);
        sim.routeToSocket("agent", "127.0.0.1:" + server.port() + " " + mode);
        OriginateRequest call = OriginateRequest.to(Endpoint.user("1000"))
                .application(Application.extension("agent", "XML", "default"))
                .build();
        assertTrue(client.originate(call).get(WAIT.getSeconds(), TimeUnit.SECONDS).succeeded());
    }

    private static <T> T next(BlockingQueue<T> queue) throws InterruptedException {
        T item = queue.poll(WAIT.getSeconds(), TimeUnit.SECONDS);
        assertNotNull("nothing within " + WAIT, item);
        return item;
    }

    @Test
    public void aSessionFloodedPastItsHardCapIsClosedCountedAndSaid() throws Exception {
        CountDownLatch listening = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // A stalled listener and room for one event: the shared reader pushes back on the
        // call-ending events, so the session's engine queue reaches its hard cap of 50.
        serve(ServerOptions.builder().spill(50, 1 << 20)
                .delivery(DeliveryOptions.builder().maxQueuedEvents(1).criticalReserve(1).build()), session -> {
                    session.onEvent(event -> awaitRelease(release));
                    listening.countDown();
                    awaitRelease(release);
                });
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
            assertTrue("session started", listening.await(WAIT.getSeconds(), TimeUnit.SECONDS));
            try {
                call.sendEvents("CHANNEL_HANGUP", 500);
            } catch (IOException closedByServer) {
                // The engine closed the socket at the cap, part way through the flood.
            }
            assertTrue("the server closed the call's socket", call.awaitClosedByServer(WAIT.toMillis()));
            release.countDown();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (server.stats().overloadedSessions() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10); // polling a counter the reader sets, with a deadline
            }
            assertEquals(1, server.stats().overloadedSessions());
            assertTrue("call-ending events lost past the cap are counted", server.stats().criticalDropped() > 0);
        } finally {
            release.countDown();
        }
    }

    private static void awaitRelease(CountDownLatch release) {
        try {
            assertTrue("released", release.await(WAIT.getSeconds(), TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    public void sessionSeesItsChannelAndRunsApplications() throws Exception {
        BlockingQueue<Object> results = new LinkedBlockingQueue<>();
        serve(ServerOptions.builder(), session -> {
            results.add(session.uuid());
            results.add(session.variable("sip_from_user"));
            results.add(session.hasFullControl());
            results.add(session.socketMode());
            results.add(session.answer(WAIT).application());
            results.add(session.playback("ivr/ivr-welcome.wav", WAIT).applicationData());
            session.hangup(HangupCause.USER_BUSY).get(WAIT.getSeconds(), TimeUnit.SECONDS);
            results.add(session.hangupEvent().get(WAIT.getSeconds(), TimeUnit.SECONDS).hangupCause());
        });
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
            assertEquals(call.uuid(), next(results));
            assertEquals("1000", next(results));
            assertEquals(true, next(results));
            assertEquals("async", next(results));
            assertEquals("answer", next(results));
            assertEquals("ivr/ivr-welcome.wav", next(results));
            assertEquals(HangupCause.USER_BUSY, next(results));
            assertEquals("connect", next(call.commands));
            assertTrue(next(call.commands).startsWith("myevents"));
            assertTrue(next(call.commands).startsWith("linger"));
        }
    }

    @Test
    public void handlersRunOnThreadsNamedForCalls() throws Exception {
        BlockingQueue<String> threads = new LinkedBlockingQueue<>();
        serve(ServerOptions.builder(), session -> threads.add(Thread.currentThread().getName()));
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
            String name = next(threads);
            assertTrue(name + " for " + call.uuid(), name.matches("esl4j-call-\\d+"));
        }
    }

    @Test
    public void sessionFuturesCompleteOnTheCompletionExecutor() throws Exception {
        ExecutorService completions = Executors.newSingleThreadExecutor(task -> new Thread(task, "app-completions"));
        BlockingQueue<String> threads = new LinkedBlockingQueue<>();
        try {
            serve(ServerOptions.builder().completionExecutor(completions), session -> {
                // Chained before the hang-up is asked for, so it runs where the hang-up event
                // completes the future (a delivery lane, unless relayed). Waited for through the
                // stage itself: a thread blocked in get() on the future may run its stages too.
                CountDownLatch ran = new CountDownLatch(1);
                session.hangupEvent().thenRun(() -> {
                    threads.add(Thread.currentThread().getName());
                    ran.countDown();
                });
                session.hangup(HangupCause.NORMAL_CLEARING).get(WAIT.getSeconds(), TimeUnit.SECONDS);
                assertTrue(ran.await(WAIT.getSeconds(), TimeUnit.SECONDS));
            });
            try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
                assertEquals("app-completions", next(threads));
                assertEquals("connect", next(call.commands));
            }
        } finally {
            server.close();
            completions.shutdownNow();
        }
    }

    @Test
    public void noAnswerBridgeLeavesTheChannelToTheApplication() throws Exception {
        BlockingQueue<BridgeResult> results = new LinkedBlockingQueue<>();
        serve(ServerOptions.builder(), session -> {
            session.answer(WAIT);
            results.add(session.bridge(BridgeRequest.to(Endpoint.user("2000"))
                    .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build(), WAIT));
        });
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
            BridgeResult result = next(results);
            assertEquals(HangupCause.NO_ANSWER, result.cause());
            assertEquals("NO_ANSWER", result.dialStatus());
            assertTrue(result.callerChannelUp());
            assertEquals("answer", next(call.executed));
            assertEquals("set continue_on_fail=true", next(call.executed));
            String bridge = next(call.executed);
            assertTrue(bridge, bridge.startsWith("bridge {originate_timeout=20,ignore_early_media=true}[origination_uuid="));
            assertTrue(bridge, bridge.endsWith("]user/2000"));
        }
    }

    @Test
    public void failedBridgeKeepsTheChannelOnlyWithContinueOnFail() throws Exception {
        BlockingQueue<BridgeResult> results = new LinkedBlockingQueue<>();
        serve(ServerOptions.builder(), session -> {
            session.answer(WAIT);
            results.add(session.bridge(BridgeRequest.to(Endpoint.user("2000")).build(), WAIT));
            results.add(session.bridge(BridgeRequest.to(Endpoint.user("2000")).keepChannelOnFailure(false).build(), WAIT));
        });
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "USER_BUSY")) {
            BridgeResult kept = next(results);
            assertEquals("answer", next(call.executed));
            assertEquals("set continue_on_fail=true", next(call.executed));
            assertEquals(HangupCause.USER_BUSY, kept.cause());
            assertTrue("continue_on_fail=true keeps the channel: " + kept, kept.callerChannelUp());
            BridgeResult dropped = next(results);
            assertEquals(HangupCause.USER_BUSY, dropped.cause());
            assertFalse("continue_on_fail=false lets USER_BUSY hang up: " + dropped, dropped.callerChannelUp());
            call.executed.clear();
        }
    }

    @Test
    public void answerThenBridgeWithTwentySecondNoAnswerKeepsTheCallOnTheSimulator() throws Exception {
        BlockingQueue<Object> results = new LinkedBlockingQueue<>();
        serve(ServerOptions.builder(), session -> {
            session.answer(WAIT);
            BridgeResult result = session.bridge(BridgeRequest.to(Endpoint.user("2000"))
                    .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build(), WAIT);
            results.add(result);
            session.hangup(HangupCause.NO_USER_RESPONSE).get(WAIT.getSeconds(), TimeUnit.SECONDS);
            results.add(session.hangupEvent().get(WAIT.getSeconds(), TimeUnit.SECONDS).hangupCause());
        });
        NativeSimulator sim = SimulatorSupport.start(0);
        try (EslClient client = EslClient.connect(ClientOptions.builder().port(sim.port()).build())) {
            sim.setEndpoint("user/2000", NativeSimulator.Behavior.NEVER_ANSWER, 0, null);
            callThroughSocket(sim, client, "async full");
            awaitSendmsgs(sim, 3);
            sim.advance(18_000);
            assertTrue("bridge ended before its 20 s: " + results, results.isEmpty());
            sim.advance(3_000);
            BridgeResult result = (BridgeResult) next(results);
            assertEquals(HangupCause.NO_ANSWER, result.cause());
            assertEquals("NOANSWER", result.dialStatus());
            assertTrue("the controlled channel must stay up: " + result, result.callerChannelUp());
            assertEquals("the application chose the cause", HangupCause.NO_USER_RESPONSE, next(results));
        } finally {
            sim.close();
        }
    }

    @Test
    public void staticModeWithoutAsyncRunsApplicationsToo() throws Exception {
        BlockingQueue<Object> results = new LinkedBlockingQueue<>();
        serve(ServerOptions.builder(), session -> {
            results.add(session.socketMode());
            results.add(session.answer(WAIT).application());
            results.add(session.playback("silence_stream://500", WAIT).applicationData());
            results.add(session.bridge(BridgeRequest.to(Endpoint.user("2002")).build(), WAIT));
        });
        NativeSimulator sim = SimulatorSupport.start(0);
        try (EslClient client = EslClient.connect(ClientOptions.builder().port(sim.port()).build())) {
            sim.setEndpoint("user/2002", NativeSimulator.Behavior.BUSY, 0, null);
            callThroughSocket(sim, client, "full");
            assertEquals("static", next(results));
            assertEquals("answer", next(results));
            awaitSendmsgs(sim, 2);
            sim.advance(1_000);
            assertEquals("silence_stream://500", next(results));
            BridgeResult busy = (BridgeResult) next(results);
            assertEquals(HangupCause.USER_BUSY, busy.cause());
            assertTrue(busy.callerChannelUp());
        } finally {
            sim.close();
        }
    }

    /** Waits until the simulator received {@code count} sendmsg commands. */
    private static void awaitSendmsgs(NativeSimulator sim, int count) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            java.util.List<String> commands = sim.commands();
            if (commands.stream().filter(command -> command.startsWith("sendmsg")).count() >= count) {
                return;
            }
            long leftMs = (deadline - System.nanoTime()) / 1_000_000;
            assertTrue("fewer than " + count + " sendmsg in " + commands, leftMs > 0);
            sim.waitForCommands(commands.size() + 1, leftMs);
        }
    }

    @Test
    public void withoutFullLingerIsRefusedWithAClearMessage() throws Exception {
        BlockingQueue<Object> results = new LinkedBlockingQueue<>();
        serve(ServerOptions.builder(), session -> {
            results.add(session.hasFullControl());
            try {
                session.linger(Duration.ofSeconds(5)).get(WAIT.getSeconds(), TimeUnit.SECONDS);
                results.add("accepted");
            } catch (ExecutionException refused) {
                results.add(refused.getCause().getMessage());
            }
            results.add(session.answer(WAIT).application());
        });
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), false, "NO_ANSWER")) {
            assertEquals(false, next(results));
            String message = String.valueOf(next(results));
            assertTrue(message, message.contains("'full'"));
            assertEquals("answer", next(results));
            assertEquals("connect", next(call.commands));
            assertTrue(next(call.commands).startsWith("myevents"));
            assertTrue("no linger is sent without full", next(call.commands).startsWith("sendmsg"));
        }
    }

    @Test
    public void aBlockingHandlerDoesNotStallOtherCalls() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch firstInside = new CountDownLatch(1);
        CountDownLatch secondDone = new CountDownLatch(1);
        serve(ServerOptions.builder(), session -> {
            if (firstInside.getCount() == 1) {
                firstInside.countDown();
                release.await(30, TimeUnit.SECONDS);
            } else {
                session.answer(WAIT);
                secondDone.countDown();
            }
        });
        FakeOutboundCall first = new FakeOutboundCall(server.port(), true, "NO_ANSWER");
        FakeOutboundCall second = null;
        try {
            assertTrue(firstInside.await(WAIT.getSeconds(), TimeUnit.SECONDS));
            second = new FakeOutboundCall(server.port(), true, "NO_ANSWER");
            assertTrue("second call stalled behind the first", secondDone.await(WAIT.getSeconds(), TimeUnit.SECONDS));
            assertEquals("answer", next(second.executed));
            assertTrue("the first call is still waiting", first.executed.isEmpty());
        } finally {
            release.countDown();
            first.close();
            if (second != null) {
                second.close();
            }
        }
    }

    @Test
    public void sessionsShareOneEventReaderAndKeepTheirOwnEvents() throws Exception {
        int calls = 12;
        CountDownLatch allInside = new CountDownLatch(calls);
        CountDownLatch release = new CountDownLatch(1);
        BlockingQueue<String> hangups = new LinkedBlockingQueue<>();
        serve(ServerOptions.builder(), session -> {
            allInside.countDown();
            release.await(30, TimeUnit.SECONDS);
            session.hangup(HangupCause.USER_BUSY).get(WAIT.getSeconds(), TimeUnit.SECONDS);
            EslEvent hangup = session.hangupEvent().get(WAIT.getSeconds(), TimeUnit.SECONDS);
            hangups.add(session.uuid() + " " + hangup.uniqueId() + " " + hangup.hangupCause());
            session.ended().get(WAIT.getSeconds(), TimeUnit.SECONDS);
        });
        java.util.List<FakeOutboundCall> running = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < calls; i++) {
                running.add(new FakeOutboundCall(server.port(), true, "NO_ANSWER"));
            }
            assertTrue(allInside.await(WAIT.getSeconds(), TimeUnit.SECONDS));
            // A handler thread per call on Java 8-20 (none on 21+); nothing else per session.
            assertTrue("threads per session: " + sessionThreads(), sessionThreads() <= calls);
            release.countDown();
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (int i = 0; i < calls; i++) {
                String[] words = next(hangups).split(" ");
                assertEquals("a session got another call's hang-up", words[0], words[1]);
                assertEquals(HangupCause.USER_BUSY, HangupCause.valueOf(words[2]));
                seen.add(words[0]);
            }
            assertEquals(calls, seen.size());
        } finally {
            release.countDown();
            for (FakeOutboundCall call : running) {
                call.close();
            }
        }
    }

    /** Live threads the server started for its sessions (handlers and any per-session reader). */
    private static long sessionThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith(EslOutboundServer.CALL_THREAD_PREFIX)
                        || thread.getName().startsWith("esl4j-session"))
                .count();
    }

    @Test
    public void sessionCommandsGoThroughTheCommandObserver() throws Exception {
        BlockingQueue<String> observed = new LinkedBlockingQueue<>();
        BlockingQueue<Boolean> countedBeforeResult = new LinkedBlockingQueue<>();
        java.util.Set<String> everObserved = ConcurrentHashMap.newKeySet();
        CommandObserver observer = (command, duration, outcome) -> {
            assertFalse(duration.isNegative());
            everObserved.add(command + " " + outcome);
            observed.add(command + " " + outcome);
        };
        serve(ServerOptions.builder().commandObserver(observer), session -> {
            session.answer(WAIT);
            session.hangup(HangupCause.NORMAL_CLEARING).get(WAIT.getSeconds(), TimeUnit.SECONDS);
            countedBeforeResult.add(everObserved.contains("hangup SUCCEEDED"));
        });
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
            assertEquals("myevents SUCCEEDED", next(observed));
            assertEquals("linger SUCCEEDED", next(observed));
            assertEquals("execute answer SUCCEEDED", next(observed));
            assertEquals("hangup SUCCEEDED", next(observed));
            assertEquals("the observer ran before the result was seen", true, next(countedBeforeResult));
            assertEquals("connect", next(call.commands));
        }
    }

    @Test
    public void handlerFailureIsCountedAndTheCallHungUpBeforeTheSessionCloses() throws Exception {
        serve(ServerOptions.builder(), session -> {
            throw new IllegalStateException("handler bug");
        });
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
            assertEquals("connect", next(call.commands));
            assertTrue(next(call.commands).startsWith("myevents"));
            assertTrue(next(call.commands).startsWith("linger"));
            assertEquals("sendmsg", next(call.commands));
            assertEquals("NORMAL_TEMPORARY_FAILURE", next(call.hangupCauses));
            assertEquals("the session says goodbye", "exit", next(call.commands));
        }
        assertEquals(1, server.stats().handlerFailures());
    }

    @Test
    public void finalCountersStayReadableAfterClose() throws Exception {
        CountDownLatch handled = new CountDownLatch(1);
        serve(ServerOptions.builder(), session -> {
            handled.countDown();
            throw new IllegalStateException("handler bug");
        });
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
            assertTrue(handled.await(WAIT.getSeconds(), TimeUnit.SECONDS));
            assertEquals("the session says goodbye", "exit", lastCommand(call));
        }
        server.shutdown(WAIT);
        OutboundStats closed = server.stats();
        assertEquals(1, closed.sessions());
        assertEquals(1, closed.handlerFailures());
        assertEquals("nothing is active after close", 0, closed.active());
        server.close();
        assertEquals("a second close keeps the counters", 1, server.stats().sessions());
    }

    private static String lastCommand(FakeOutboundCall call) throws InterruptedException {
        String command;
        do {
            command = next(call.commands);
        } while (!"exit".equals(command));
        return command;
    }

    @Test
    public void sessionCapClosesExtraCalls() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch inside = new CountDownLatch(1);
        serve(ServerOptions.builder().maxSessions(1), session -> {
            inside.countDown();
            release.await(30, TimeUnit.SECONDS);
        });
        try (FakeOutboundCall first = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
            assertTrue(inside.await(WAIT.getSeconds(), TimeUnit.SECONDS));
            assertEquals("connect", next(first.commands));
            try (Socket extra = new Socket("127.0.0.1", server.port())) {
                extra.setSoTimeout((int) WAIT.toMillis());
                assertEquals("the over-cap connection is closed", -1, extra.getInputStream().read());
            }
            assertEquals(1, server.stats().rejectedOverCap());
        } finally {
            release.countDown();
        }
    }

    @Test
    public void gracefulShutdownLetsTheRunningCallFinishAndRefusesNewOnes() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        BlockingQueue<String> finished = new LinkedBlockingQueue<>();
        serve(ServerOptions.builder(), session -> {
            inside.countDown();
            release.await(30, TimeUnit.SECONDS);
            finished.add(session.answer(WAIT).application());
        });
        int port = server.port();
        try (FakeOutboundCall call = new FakeOutboundCall(port, true, "NO_ANSWER")) {
            assertTrue(inside.await(WAIT.getSeconds(), TimeUnit.SECONDS));
            CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> server.shutdown(WAIT));
            release.countDown();
            assertEquals("the running call could finish its work", "answer", next(finished));
            stopped.get(WAIT.getSeconds() * 2, TimeUnit.SECONDS);
            assertTrue("the session was closed with exit", receivedCommand(call, "exit"));
        }
        boolean refusedOrClosed;
        try (Socket late = new Socket("127.0.0.1", port)) {
            late.setSoTimeout((int) WAIT.toMillis());
            refusedOrClosed = late.getInputStream().read() == -1;
        } catch (java.net.ConnectException refused) {
            refusedOrClosed = true;
        }
        assertTrue("a call after shutdown must not get a session", refusedOrClosed);
    }

    private static boolean receivedCommand(FakeOutboundCall call, String wanted) throws InterruptedException {
        for (String command = call.commands.poll(WAIT.getSeconds(), TimeUnit.SECONDS); command != null;
                command = call.commands.poll(WAIT.getSeconds(), TimeUnit.SECONDS)) {
            if (command.equals(wanted)) {
                return true;
            }
        }
        return false;
    }

    @Test
    public void silentPeerFailsTheHandshake() throws Exception {
        serve(ServerOptions.builder().handshakeTimeout(Duration.ofMillis(300)), session -> fail("no session expected"));
        try (Socket silent = silentPeer()) {
            assertEquals("closed after the handshake deadline", -1, silent.getInputStream().read());
        }
        assertEquals(1, server.stats().handshakeFailures());
        assertEquals(0, server.stats().sessions());
    }

    /** A connection that has received {@code connect} (so it is in its handshake) and stays silent. */
    private Socket silentPeer() throws Exception {
        Socket silent = new Socket("127.0.0.1", server.port());
        silent.setSoTimeout((int) WAIT.toMillis());
        InputStream in = silent.getInputStream();
        byte[] connect = new byte[9];
        int read = 0;
        while (read < connect.length) {
            int n = in.read(connect, read, connect.length - read);
            if (n < 0) {
                break;
            }
            read += n;
        }
        assertEquals("connect\n\n", new String(connect, 0, read, "UTF-8"));
        return silent;
    }

    @Test
    public void silentHandshakesDoNotRefuseARealCall() throws Exception {
        BlockingQueue<String> answered = new LinkedBlockingQueue<>();
        serve(ServerOptions.builder().maxSessions(5), session -> answered.add(session.answer(WAIT).application()));
        List<Socket> silent = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                silent.add(silentPeer());
            }
            // More silent connections than session slots are in their handshake: a real call is still served.
            try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
                assertEquals("answer", next(answered));
                assertEquals("connect", next(call.commands));
            }
            assertEquals(0, server.stats().rejectedOverCap());
        } finally {
            for (Socket socket : silent) {
                socket.close();
            }
        }
    }
}
