package org.esl4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import java.time.Duration;
import java.util.AbstractMap;
import java.util.Collections;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.esl4j.dial.Application;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.CallLeg;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.dial.OriginateResult;
import org.esl4j.dial.Timeouts;
import org.esl4j.testing.internal.NativeSimulator.Behavior;
import org.esl4j.testing.internal.NativeSimulator;
import org.junit.After;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Test;

/** The inbound client against the simulator on its virtual clock: timeouts take no real time. */
public class EslClientTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private NativeSimulator sim;
    private EslClient client;

    @BeforeClass
    public static void needNative() {
        assumeTrue("native library not available", SimulatorSupport.nativeAvailable());
    }

    @Before
    public void start() {
        sim = SimulatorSupport.start(0);
        sim.setEndpoint("user/1000", Behavior.NEVER_ANSWER, 0, null);
        sim.setEndpoint("user/1001", Behavior.EARLY_MEDIA_NEVER_ANSWER, 0, null);
        sim.setEndpoint("user/1002", Behavior.BUSY, 0, null);
        sim.setEndpoint("user/1003", Behavior.REJECT, 0, "CALL_REJECTED");
        sim.setEndpoint("user/1004", Behavior.ANSWER_AFTER, 0, null);
        client = EslClient.connect(options(sim.port()).build());
    }

    @After
    public void stop() {
        if (client != null) {
            client.close();
        }
        if (sim != null) {
            sim.close();
        }
    }

    private static ClientOptions.Builder options(int port) {
        return ClientOptions.builder().port(port).watchdogMargin(Duration.ofSeconds(5));
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        return future.get(WAIT.getSeconds(), TimeUnit.SECONDS);
    }

    /** Sends the originate, waits until the simulator has it, then lets {@code ringing} pass. */
    private OriginateResult originateAndWait(OriginateRequest request, Duration before, Duration after) throws Exception {
        int seen = sim.commands().size();
        CompletableFuture<OriginateResult> result = client.originate(request);
        SimulatorSupport.awaitCommand(sim, seen, "bgapi originate", WAIT);
        if (!before.isZero()) {
            sim.advance(before.toMillis());
            assertFalse("finished before its timeout: " + (result.isDone() ? result.get() : ""), result.isDone());
        }
        sim.advance(after.toMillis());
        return get(result);
    }

    @Test
    public void apiAndBgapi() {
        assertFalse(client.api("status", WAIT).isEmpty());
        assertTrue(client.bgapi("no_such_command", WAIT).startsWith("-ERR"));
    }

    @Test
    public void inboundNoAnswerTimeoutOf30SecondsFailsWithNoAnswer() throws Exception {
        OriginateRequest request = OriginateRequest.to(Endpoint.user("1000"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
                .build();
        OriginateResult result = originateAndWait(request, Duration.ofSeconds(28), Duration.ofSeconds(3));
        assertFalse(result.succeeded());
        assertEquals(HangupCause.NO_ANSWER, result.cause());
        assertEquals(CallLeg.A, result.failedLeg());
        assertFalse(result.watchdogExpired());
    }

    @Test
    public void earlyMediaDoesNotCountAsAnswerUnlessAccepted() throws Exception {
        OriginateRequest ignoring = OriginateRequest.to(Endpoint.user("1001"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
                .build();
        assertEquals(HangupCause.NO_ANSWER, originateAndWait(ignoring, Duration.ofSeconds(28), Duration.ofSeconds(3)).cause());
        OriginateRequest accepting = OriginateRequest.to(Endpoint.user("1001"))
                .timeouts(Timeouts.builder().noAnswer(Duration.ofSeconds(30)).acceptEarlyMedia().build())
                .build();
        OriginateResult accepted = originateAndWait(accepting, Duration.ZERO, Duration.ZERO);
        assertTrue("early media completes the originate when accepted: " + accepted, accepted.succeeded());
        assertEquals(accepting.uuid(), accepted.channelUuid());
    }

    @Test
    public void perLegTimeoutIsAllottedTimeoutNotNoAnswer() throws Exception {
        OriginateRequest request = OriginateRequest.to(Endpoint.user("1000"))
                .timeouts(Timeouts.builder().perLeg(Duration.ofSeconds(10)).build())
                .build();
        OriginateResult result = originateAndWait(request, Duration.ofSeconds(9), Duration.ofSeconds(3));
        assertEquals(HangupCause.ALLOTTED_TIMEOUT, result.cause());
    }

    @Test
    public void destinationThatNeverRingsHitsTheProgressTimeout() throws Exception {
        sim.setRoute("silent", Collections.<Map.Entry<String, String>>singletonList(
                new AbstractMap.SimpleImmutableEntry<>("sleep", "120000")));
        OriginateRequest request = OriginateRequest.to(Endpoint.loopback("silent", "default"))
                .timeouts(Timeouts.builder().noAnswer(Duration.ofSeconds(30)).progress(Duration.ofSeconds(5)).build())
                .build();
        OriginateResult result = originateAndWait(request, Duration.ofSeconds(3), Duration.ofSeconds(3));
        assertEquals(HangupCause.PROGRESS_TIMEOUT, result.cause());
    }

    @Test
    public void watchdogEndsAnAttemptFreeSwitchOverruns() throws Exception {
        // The virtual clock stands still, so FreeSWITCH never ends the attempt: like an overrun.
        client.close();
        client = EslClient.connect(options(sim.port()).watchdogMargin(Duration.ZERO).build());
        OriginateRequest request = OriginateRequest.to(Endpoint.user("1000"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(1)))
                .build();
        int seen = sim.commands().size();
        OriginateResult result = get(client.originate(request));
        assertTrue(result.toString(), result.watchdogExpired());
        assertEquals(HangupCause.ALLOTTED_TIMEOUT, result.cause());
        assertEquals(request.uuid(), result.channelUuid());
        SimulatorSupport.awaitCommand(sim, seen, "api uuid_kill " + request.uuid(), WAIT);
    }

    @Test
    public void busyAndRejectedCauses() throws Exception {
        OriginateRequest busy = OriginateRequest.to(Endpoint.user("1002")).build();
        assertEquals(HangupCause.USER_BUSY, originateAndWait(busy, Duration.ZERO, Duration.ZERO).cause());
        OriginateRequest rejected = OriginateRequest.to(Endpoint.user("1003")).build();
        assertEquals(HangupCause.CALL_REJECTED, originateAndWait(rejected, Duration.ZERO, Duration.ZERO).cause());
    }

    @Test
    public void answeredCallHasTheChosenUuidAndItsEventsReachTheChannelListener() throws Exception {
        get(client.subscribe("CHANNEL_ANSWER"));
        OriginateRequest request = OriginateRequest.to(Endpoint.user("1004")).build();
        BlockingQueue<EslEvent> events = new LinkedBlockingQueue<>();
        client.onChannel(request.uuid(), events::add);
        OriginateResult result = originateAndWait(request, Duration.ZERO, Duration.ZERO);
        assertTrue(result.toString(), result.succeeded());
        assertEquals(request.uuid(), result.channelUuid());
        EslEvent answer = events.poll(WAIT.getSeconds(), TimeUnit.SECONDS);
        assertNotNull("no CHANNEL_ANSWER for " + request.uuid(), answer);
        assertEquals("CHANNEL_ANSWER", answer.eventName());
        assertEquals(request.uuid(), answer.uniqueId());
    }

    @Test
    public void jsonEventsArriveDecodedLikePlainOnes() throws Exception {
        client.close();
        client = EslClient.connect(options(sim.port()).eventFormat(EventFormat.JSON).build());
        get(client.subscribe("CHANNEL_ANSWER"));
        OriginateRequest request = OriginateRequest.to(Endpoint.user("1004")).callerId("Zoë", "4000").build();
        BlockingQueue<EslEvent> events = new LinkedBlockingQueue<>();
        client.onEvent("CHANNEL_ANSWER", events::add);
        assertTrue(originateAndWait(request, Duration.ZERO, Duration.ZERO).succeeded());
        EslEvent answer = events.poll(WAIT.getSeconds(), TimeUnit.SECONDS);
        assertNotNull(answer);
        assertEquals(request.uuid(), answer.uniqueId());
        assertEquals("Zoë", answer.variable("origination_caller_id_name"));
        assertTrue(sim.commands().contains("event json BACKGROUND_JOB"));
    }

    /** A callback: 1004 answers, then bridges to 1000, which rings up to its 20 s timeout. */
    private static OriginateRequest callbackWithRingingSecondLeg() {
        return OriginateRequest.to(Endpoint.user("1004"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
                .application(Application.bridge(BridgeRequest.to(Endpoint.user("1000"))
                        .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build()))
                .build();
    }

    /** Opens when the first leg of the callback starts its bridge (needs CHANNEL_EXECUTE). */
    private CountDownLatch bridgeStarted(OriginateRequest callback) {
        CountDownLatch bridging = new CountDownLatch(1);
        client.onChannel(callback.uuid(), event -> {
            if ("CHANNEL_EXECUTE".equals(event.eventName()) && "bridge".equals(event.application())) {
                bridging.countDown();
            }
        });
        return bridging;
    }

    @Test
    public void callbackReportsTheSecondLegFromTheFirstLegsEvents() throws Exception {
        get(client.subscribe("CHANNEL_EXECUTE"));
        OriginateRequest request = callbackWithRingingSecondLeg();
        CountDownLatch bridging = bridgeStarted(request);
        CompletableFuture<OriginateResult> pending = client.originate(request);
        assertTrue("the second leg never started ringing", bridging.await(WAIT.getSeconds(), TimeUnit.SECONDS));
        sim.advance(18_000);
        assertFalse(pending.isDone());
        sim.advance(3_000);
        OriginateResult result = get(pending);
        assertFalse(result.succeeded());
        assertEquals(result.toString(), CallLeg.B, result.failedLeg());
        assertEquals(HangupCause.NO_ANSWER, result.cause());
        assertEquals(request.uuid(), result.channelUuid());
        assertNotNull(result.bridge());
    }

    @Test
    public void futuresCompleteOnTheCompletionExecutor() throws Exception {
        client.close();
        ExecutorService completions = Executors.newSingleThreadExecutor(task -> new Thread(task, "app-completions"));
        // While the only completion thread waits at the gate nothing can complete, so a stage
        // chained meanwhile runs where the reply completes it. Opened in finally, whatever fails.
        CompletableFuture<Void> gate = new CompletableFuture<>();
        try {
            client = EslClient.connect(options(sim.port()).completionExecutor(completions).build());
            get(client.subscribe("CHANNEL_EXECUTE"));
            completions.execute(gate::join);
            CompletableFuture<String> apiThread = client.api("status").thenApply(output -> currentThreadName());
            gate.complete(null);
            assertEquals("a command's reply", "app-completions", get(apiThread));
            // The callback's outcome comes from a delivery lane; it cannot come before the
            // simulator's clock passes the second leg's timeout.
            OriginateRequest request = callbackWithRingingSecondLeg();
            CountDownLatch bridging = bridgeStarted(request);
            CompletableFuture<String> originateThread = client.originate(request).thenApply(result -> currentThreadName());
            assertTrue("the second leg never started ringing", bridging.await(WAIT.getSeconds(), TimeUnit.SECONDS));
            sim.advance(21_000);
            assertEquals("an outcome read from events", "app-completions", get(originateThread));
        } finally {
            gate.complete(null);
            client.close();
            completions.shutdownNow();
        }
    }

    private static String currentThreadName() {
        return Thread.currentThread().getName();
    }

    @Test
    public void callbackFirstLegFailureIsLegA() throws Exception {
        OriginateRequest request = OriginateRequest.to(Endpoint.user("1002"))
                .application(Application.bridge(BridgeRequest.to(Endpoint.user("1004")).build()))
                .build();
        OriginateResult result = originateAndWait(request, Duration.ZERO, Duration.ZERO);
        assertEquals(CallLeg.A, result.failedLeg());
        assertEquals(HangupCause.USER_BUSY, result.cause());
    }

    /** One call of a {@link CommandObserver}. */
    private static final class ObservedCommand {
        final String command;
        final Duration duration;
        final CommandObserver.Outcome outcome;
        final String thread;

        ObservedCommand(String command, Duration duration, CommandObserver.Outcome outcome) {
            this.command = command;
            this.duration = duration;
            this.outcome = outcome;
            this.thread = Thread.currentThread().getName();
        }
    }

    private static ObservedCommand nextCommand(BlockingQueue<ObservedCommand> observed, String command) throws Exception {
        while (true) {
            ObservedCommand next = observed.poll(WAIT.getSeconds(), TimeUnit.SECONDS);
            assertNotNull("no " + command + " observed within " + WAIT, next);
            if (next.command.equals(command)) {
                return next;
            }
        }
    }

    @Test
    public void commandObserverSeesVerbDurationAndOutcomeButNeverArguments() throws Exception {
        BlockingQueue<ObservedCommand> observed = new LinkedBlockingQueue<>();
        CommandObserver throwingRecorder = (command, duration, outcome) -> {
            observed.add(new ObservedCommand(command, duration, outcome));
            throw new IllegalStateException("a broken metrics backend");
        };
        try (EslClient observedClient = EslClient.connect(options(sim.port()).commandObserver(throwingRecorder).build())) {
            assertEquals("the initial subscription is observed", CommandObserver.Outcome.SUCCEEDED,
                    nextCommand(observed, "event").outcome);

            assertFalse("the observer's exception does not reach the caller", observedClient.api("status", WAIT).isEmpty());
            ObservedCommand status = nextCommand(observed, "api status");
            assertEquals(CommandObserver.Outcome.SUCCEEDED, status.outcome);
            assertFalse("duration is never negative", status.duration.isNegative());
            assertFalse("not on an engine or reader thread: " + status.thread, status.thread.startsWith("esl4j-reader"));

            try {
                observedClient.api("status secret-argument\nexit", WAIT);
                fail("expected a command with a line break to be refused");
            } catch (EslException expected) {
                assertEquals(EslException.Kind.INVALID_COMMAND, expected.kind());
            }
            ObservedCommand refused = nextCommand(observed, "api status");
            assertEquals(CommandObserver.Outcome.FAILED, refused.outcome);
            assertFalse(refused.duration.isNegative());

            observedClient.bgapi("status", WAIT);
            assertEquals(CommandObserver.Outcome.SUCCEEDED, nextCommand(observed, "bgapi status").outcome);
            for (ObservedCommand any : observed) {
                assertFalse("arguments never reach the observer: " + any.command, any.command.contains("secret"));
            }
        }
    }

    @Test
    public void closeFailsWhatIsPending() throws Exception {
        int seen = sim.commands().size();
        CompletableFuture<String> longJob = client.bgapi("originate {originate_timeout=60}user/1000 &park()");
        SimulatorSupport.awaitCommand(sim, seen, "bgapi originate", WAIT);
        client.close();
        try {
            get(longJob);
            fail("expected the pending job to fail");
        } catch (ExecutionException expected) {
            assertTrue(String.valueOf(expected.getCause()), expected.getCause() instanceof EslException);
        }
        try {
            client.api("status", WAIT);
            fail("expected a closed client to refuse commands");
        } catch (EslConnectionClosedException expected) {
            assertTrue(expected.getMessage().contains("closed"));
        }
    }

    @Test
    public void reconnectReplaysSubscriptionsAndReportsTheGap() throws Exception {
        client.close();
        try (CuttableProxy network = new CuttableProxy(sim.port())) {
            BlockingQueue<ConnectionEvent> changes = new LinkedBlockingQueue<>();
            client = EslClient.connect(options(network.port())
                    .reconnect(ReconnectPolicy.backoff(Duration.ofMillis(50), Duration.ofMillis(200), 0))
                    .build());
            client.onConnectionEvent(changes::add);
            get(client.subscribe("CHANNEL_ANSWER"));
            get(client.filter("Event-Name", "CHANNEL_ANSWER"));
            int before = sim.commands().size();
            network.cut();
            ConnectionEvent lost = changes.poll(WAIT.getSeconds(), TimeUnit.SECONDS);
            assertNotNull("no disconnect notice", lost);
            assertEquals(ConnectionEvent.Type.DISCONNECTED, lost.type());
            network.restore();
            ConnectionEvent back = changes.poll(WAIT.getSeconds(), TimeUnit.SECONDS);
            assertNotNull("no reconnect", back);
            assertEquals(ConnectionEvent.Type.RECONNECTED, back.type());
            assertTrue(back.gap().toNanos() > 0);
            assertTrue(back.attempts() >= 1);
            SimulatorSupport.awaitCommand(sim, before, "event plain BACKGROUND_JOB CHANNEL_ANSWER", WAIT);
            SimulatorSupport.awaitCommand(sim, before, "filter Event-Name CHANNEL_ANSWER", WAIT);
            assertTrue(client.isConnected());
            assertFalse(client.api("status", WAIT).isEmpty());
        }
    }

    /**
     * Connects {@link #client} through the proxy with the policy, cuts the network and waits for
     * the DISCONNECTED notice; returns the queue of later connection events.
     */
    private BlockingQueue<ConnectionEvent> connectAndCut(CuttableProxy network, ReconnectPolicy policy) throws Exception {
        BlockingQueue<ConnectionEvent> changes = new LinkedBlockingQueue<>();
        client = EslClient.connect(options(network.port()).reconnect(policy).build());
        client.onConnectionEvent(changes::add);
        network.cut();
        ConnectionEvent lost = changes.poll(WAIT.getSeconds(), TimeUnit.SECONDS);
        assertNotNull("no disconnect notice", lost);
        assertEquals(ConnectionEvent.Type.DISCONNECTED, lost.type());
        assertEquals("connection lost", lost.reason());
        return changes;
    }

    @Test
    public void aReconnectThatGivesUpClosesTheClientAndFailsCommands() throws Exception {
        client.close();
        try (CuttableProxy network = new CuttableProxy(sim.port())) {
            BlockingQueue<ConnectionEvent> changes =
                    connectAndCut(network, ReconnectPolicy.backoff(Duration.ofMillis(10), Duration.ofMillis(20), 2));
            ConnectionEvent end = changes.poll(WAIT.getSeconds(), TimeUnit.SECONDS);
            assertNotNull("the reconnect never gave up", end);
            assertEquals(ConnectionEvent.Type.CLOSED, end.type());
            assertEquals("reconnect gave up", end.reason());
            assertFalse(client.isConnected());
            try {
                client.api("status", WAIT);
                fail("expected a client whose reconnect gave up to refuse commands");
            } catch (EslConnectionClosedException expected) {
                assertTrue(expected.getMessage(), expected.getMessage().contains("closed"));
            }
        }
    }

    @Test
    public void closeDuringAReconnectEndsItAtOnceAndCommandsMeanwhileFail() throws Exception {
        client.close();
        try (CuttableProxy network = new CuttableProxy(sim.port())) {
            // A first attempt far beyond the test's waits: only close() can end this reconnect.
            BlockingQueue<ConnectionEvent> changes =
                    connectAndCut(network, ReconnectPolicy.backoff(Duration.ofMinutes(10), Duration.ofMinutes(10), 0));
            assertFalse(client.isConnected());
            try {
                client.api("status", WAIT);
                fail("expected a reconnecting client to refuse commands");
            } catch (EslConnectionClosedException expected) {
                assertTrue(expected.getMessage(), expected.getMessage().contains("reconnecting"));
            }
            EslClient closing = client;
            CompletableFuture.runAsync(closing::close).get(WAIT.getSeconds(), TimeUnit.SECONDS);
            ConnectionEvent end = changes.poll(WAIT.getSeconds(), TimeUnit.SECONDS);
            assertNotNull("no close notice", end);
            assertEquals(ConnectionEvent.Type.CLOSED, end.type());
            assertEquals("closed by the application", end.reason());
            assertFalse(client.isConnected());
        }
    }
}
