package org.esl4j.testing;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.esl4j.EslClient;
import org.esl4j.EslEvent;
import org.esl4j.EslException;
import org.esl4j.EslOutboundServer;
import org.esl4j.ServerOptions;
import org.esl4j.dial.CallLeg;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.dial.OriginateResult;
import org.esl4j.dial.Timeouts;
import org.junit.Rule;
import org.junit.Test;

/** The test kit against its own simulator, through the JUnit 4 rule, on a virtual clock. */
public class EslSimulatorTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Rule
    public final EslSimulatorRule rule = new EslSimulatorRule(EslSimulator.builder().virtualClock().heartbeat(Duration.ZERO));

    private EslClient connect() {
        return EslClient.connect(rule.simulator().clientOptions().build());
    }

    private static OriginateResult originate(EslClient client, EslSimulator sim, String endpoint, Duration advance)
            throws Exception {
        OriginateRequest request = OriginateRequest.to(Endpoint.of(endpoint))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build();
        CompletableFuture<OriginateResult> result = client.originate(request);
        // wait for this very originate (its leg UUID), or the clock could move before it arrives
        sim.awaitCommand(line -> line.contains(request.uuid()), WAIT);
        sim.advance(advance);
        return result.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Test
    public void commandsAreYoursOnlyInOrder() {
        EslSimulator sim = rule.simulator();
        try (EslClient client = connect()) {
            assertTrue(client.api("status", WAIT).startsWith("UP "));
            assertEquals("+OK", sim.api("global_setvar kit_test=1").trim());
            assertEquals(Arrays.asList("auth ClueCon", "event plain BACKGROUND_JOB", "api status"), sim.commands());
        }
    }

    @Test
    public void awaitCommandFailsWithWhatWasReceived() {
        EslSimulator sim = rule.simulator();
        try (EslClient client = connect()) {
            client.api("status", WAIT);
            sim.awaitCommand("api status", WAIT);
            try {
                sim.awaitCommand("api hupall", Duration.ofMillis(50));
                fail("no such command was sent");
            } catch (AssertionError expected) {
                assertTrue(expected.getMessage(), expected.getMessage().contains("api status"));
            }
        }
    }

    @Test
    public void aNeverAnsweringUserFailsWithNoAnswerOnlyWhenTheTimeoutIsReached() throws Exception {
        EslSimulator sim = rule.simulator();
        sim.endpoint("user/2000", EndpointBehavior.neverAnswer());
        try (EslClient client = connect()) {
            OriginateRequest request = OriginateRequest.to(Endpoint.user("2000"))
                    .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build();
            CompletableFuture<OriginateResult> result = client.originate(request);
            sim.awaitCommand("bgapi originate", WAIT);
            sim.advance(Duration.ofSeconds(19));
            assertEquals("still ringing after 19 s", 1, sim.channelCount());
            sim.advance(Duration.ofSeconds(1));
            OriginateResult outcome = result.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertFalse(outcome.succeeded());
            assertEquals(HangupCause.NO_ANSWER, outcome.cause());
            assertEquals(CallLeg.A, outcome.failedLeg());
            assertEquals(0, sim.channelCount());
        }
    }

    @Test
    public void scriptedEndpointsGiveTheirOutcomes() throws Exception {
        EslSimulator sim = rule.simulator();
        sim.registerUser("1000")
                .endpoint("user/1001", EndpointBehavior.answerAfter(Duration.ofSeconds(5)))
                .endpoint("user/1002", EndpointBehavior.busy())
                .endpoint("user/1003", EndpointBehavior.reject(HangupCause.CALL_REJECTED))
                .endpoint("user/1004", EndpointBehavior.earlyMediaNeverAnswer());
        try (EslClient client = connect()) {
            assertTrue(originate(client, sim, "user/1000", Duration.ZERO).succeeded());
            assertTrue(originate(client, sim, "user/1001", Duration.ofSeconds(5)).succeeded());
            assertEquals(HangupCause.USER_BUSY, originate(client, sim, "user/1002", Duration.ZERO).cause());
            assertEquals(HangupCause.CALL_REJECTED, originate(client, sim, "user/1003", Duration.ZERO).cause());
            // early media does not count as an answer by default
            assertEquals(HangupCause.NO_ANSWER, originate(client, sim, "user/1004", Duration.ofSeconds(20)).cause());
            assertEquals(HangupCause.USER_NOT_REGISTERED, originate(client, sim, "user/9999", Duration.ZERO).cause());
        }
    }

    @Test
    public void apiRunsAgainstTheSimulatorWithoutAConnection() throws Exception {
        EslSimulator sim = rule.simulator();
        sim.endpoint("user/1000", EndpointBehavior.answerAfter(Duration.ofSeconds(3)));
        assertEquals("+OK", sim.api("global_setvar kit_direct=yes")); // mod_commands writes no newline
        assertEquals("yes", sim.api("global_getvar kit_direct"));
        assertFalse("not a socket command", sim.commands().stream().anyMatch(c -> c.contains("kit_direct")));
        assertEquals("global_setvar",
                sim.awaitEvent(e -> "API".equals(e.eventName()) && "kit_direct=yes".equals(e.header("API-Command-Argument")),
                        WAIT).header("API-Command"));
        // an originate returns once it ends: here when the virtual clock reaches the answer
        CompletableFuture<String> originated = CompletableFuture.supplyAsync(() -> sim.api("originate user/1000 &park"));
        sim.awaitEvent("CHANNEL_CREATE", WAIT);
        assertFalse(originated.isDone());
        sim.advance(Duration.ofSeconds(3));
        String result = originated.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertTrue(result, result.startsWith("+OK "));
        assertEquals("+OK\n", sim.api("uuid_kill " + result.substring(4).trim()));
        try {
            sim.api("status\nexit");
            fail("a line break is refused");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage().contains("line break"));
        }
    }

    @Test
    public void rejectedConnectionsFailWithTheServersRejection() {
        EslSimulator sim = rule.simulator();
        sim.rejectNewConnections(true);
        try (EslClient refused = connect()) {
            fail("connected despite the rejection: " + refused);
        } catch (EslException expected) {
            assertEquals(expected.toString(), EslException.Kind.REJECTED, expected.kind());
        }
        sim.rejectNewConnections(false);
        try (EslClient admitted = connect()) {
            assertTrue(admitted.api("status", WAIT).startsWith("UP "));
        }
    }

    @Test
    public void directoryUsersGetTheirPermissions() throws Exception {
        EslSimulator sim = rule.simulator();
        sim.addEslUser("1000", "example.com", "secret", "CHANNEL_ANSWER,BACKGROUND_JOB", "status", false);
        try (EslClient restricted = EslClient.connect(
                sim.clientOptions().user("1000@example.com").password("secret").build())) {
            assertTrue(restricted.api("status", WAIT).startsWith("UP "));
            try {
                restricted.api("version", WAIT);
                fail("version is not in esl-allowed-api");
            } catch (EslException expected) {
                assertTrue(expected.toString(), expected.getMessage().contains("-ERR permission denied"));
            }
        }
        try (EslClient wrongPassword = EslClient.connect(
                sim.clientOptions().user("1000@example.com").password("ClueCon").build())) {
            fail("a registered user needs its own password: " + wrongPassword);
        } catch (EslException expected) {
            assertEquals(expected.toString(), EslException.Kind.AUTH, expected.kind());
        }
    }

    @Test
    public void realClockRingsAndAnswersByItself() throws Exception {
        try (EslSimulator sim = EslSimulator.builder().heartbeat(Duration.ZERO).start();
                EslClient client = EslClient.connect(sim.clientOptions().build())) {
            sim.endpoint("user/1000", EndpointBehavior.answerAfter(Duration.ofMillis(300)));
            OriginateResult result = client.originate(OriginateRequest.to(Endpoint.user("1000"))
                    .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build()).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertTrue(result.toString(), result.succeeded());
            sim.awaitEvent("CHANNEL_ANSWER", WAIT);
        }
    }

    @Test
    public void firedEventsReachSubscribers() throws Exception {
        EslSimulator sim = rule.simulator();
        try (EslClient client = connect()) {
            CompletableFuture<EslEvent> received = new CompletableFuture<>();
            client.onEvent("kit::ping", received::complete);
            client.subscribe("CUSTOM", "kit::ping").get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            sim.fireEvent(EslEvent.builder().header("Event-Name", "CUSTOM").header("Event-Subclass", "kit::ping")
                    .header("X-Answer", "42").body("payload").build());
            EslEvent event = received.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertEquals("42", event.header("X-Answer"));
            assertEquals("payload", event.body());
            assertNotNull("standard headers are added", event.header("Core-UUID"));
            assertEquals("42", sim.awaitEvent(e -> "kit::ping".equals(e.eventSubclass()), WAIT).header("X-Answer"));
        }
    }

    @Test
    public void eventsFiredTogetherArriveInOrderWithRisingSequences() throws Exception {
        EslSimulator sim = rule.simulator();
        try (EslClient client = connect()) {
            BlockingQueue<EslEvent> received = new LinkedBlockingQueue<>();
            client.onEvent("kit::burst", received::add);
            client.subscribe("CUSTOM", "kit::burst").get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            List<EslEvent> burst = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                burst.add(EslEvent.builder().header("Event-Name", "CUSTOM").header("Event-Subclass", "kit::burst")
                        .header("X-Index", Integer.toString(i)).build());
            }
            sim.fireEvents(burst);
            long previousSequence = -1;
            for (int i = 0; i < burst.size(); i++) {
                EslEvent event = received.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertNotNull("event " + i + " of " + burst.size(), event);
                assertEquals(Integer.toString(i), event.header("X-Index"));
                long sequence = Long.parseLong(event.header("Event-Sequence"));
                assertTrue(sequence + " after " + previousSequence, sequence > previousSequence);
                previousSequence = sequence;
            }
        }
        try {
            sim.fireEvents(Collections.singletonList(EslEvent.builder().header("X-Nameless", "1").build()));
            fail("an event without Event-Name was fired");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("Event-Name"));
        }
    }

    @Test
    public void callsReachAnOutboundServerThroughTheDialplan() throws Exception {
        EslSimulator sim = rule.simulator();
        CompletableFuture<String> destination = new CompletableFuture<>();
        try (EslOutboundServer server = EslOutboundServer.start(ServerOptions.builder().port(0).build(), session -> {
            destination.complete(session.channelData().header("Caller-Destination-Number"));
            session.answer(WAIT);
            session.hangup(HangupCause.NORMAL_CLEARING).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        })) {
            sim.routeToOutbound("sales", server.port(), true);
            String caller = sim.call("sales");
            assertEquals("sales", destination.get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            sim.awaitExecute("answer", WAIT);
            EslEvent hangup = sim.awaitEvent(e -> "CHANNEL_HANGUP_COMPLETE".equals(e.eventName())
                    && caller.equals(e.uniqueId()), WAIT);
            assertEquals("NORMAL_CLEARING", hangup.header("Hangup-Cause"));
        }
    }

    @Test
    public void syncAndAsyncRoutesNameTheirMode() throws Exception {
        EslSimulator sim = rule.simulator();
        CompletableFuture<String> mode = new CompletableFuture<>();
        try (EslOutboundServer server = EslOutboundServer.start(ServerOptions.builder().port(0).build(), session -> {
            mode.complete(session.socketMode());
            session.hangup(HangupCause.NORMAL_CLEARING).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        })) {
            sim.routeToOutbound("sync", server.port(), false);
            sim.call("sync");
            assertEquals("127.0.0.1:" + server.port() + " full", sim.awaitExecute("socket", WAIT).applicationData());
            assertEquals("FreeSWITCH names sync mode static", "static", mode.get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        }
    }

    @Test
    public void routesRunTheirApplicationsInOrder() {
        EslSimulator sim = rule.simulator();
        sim.route("welcome", "answer", "playback ivr/ivr-welcome.wav", "hangup NORMAL_CLEARING");
        sim.call("welcome");
        assertEquals("ivr/ivr-welcome.wav", sim.awaitExecute("playback", WAIT).applicationData());
        sim.advance(Duration.ofSeconds(1));
        sim.awaitExecute("hangup", WAIT);
    }

    @Test
    public void floodReachesSubscribedConnectionsOnly() throws Exception {
        try (EslSimulator sim = EslSimulator.builder().recordEvents(false).heartbeat(Duration.ZERO).start();
                EslClient client = EslClient.connect(sim.clientOptions().build())) {
            CountDownLatch all = new CountDownLatch(500);
            client.onEvent("CUSTOM", event -> all.countDown());
            client.subscribe("ALL").get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertEquals(500, sim.flood(corpus(), 500, Duration.ZERO, 0));
            assertTrue("all 500 events delivered", all.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            try {
                sim.events();
                fail("recording is off");
            } catch (IllegalStateException expected) {
                assertTrue(expected.getMessage().contains("recording is off"));
            }
        }
    }

    @Test
    public void hangupEndsACall() {
        EslSimulator sim = rule.simulator();
        sim.route("hold", "answer", "park");
        String caller = sim.call("hold");
        sim.awaitExecute("park", WAIT);
        assertEquals("+OK", sim.hangup(caller, HangupCause.NORMAL_CLEARING).trim());
        EslEvent hangup = sim.awaitEvent(e -> "CHANNEL_HANGUP_COMPLETE".equals(e.eventName()) && caller.equals(e.uniqueId()), WAIT);
        assertEquals("NORMAL_CLEARING", hangup.header("Hangup-Cause"));
        assertTrue(sim.hangup(caller, HangupCause.NORMAL_CLEARING).startsWith("-ERR"));
    }

    @Test
    public void inputThatCouldInjectIsRefused() {
        EslSimulator sim = rule.simulator();
        for (Runnable injection : Arrays.<Runnable>asList(
                () -> sim.registerUser("1000\napi hupall"),
                () -> sim.api("status\r\napi hupall"),
                () -> sim.route("ivr", "answer\nhangup"),
                () -> sim.call("ivr now"))) {
            try {
                injection.run();
                fail("accepted an injection");
            } catch (IllegalArgumentException expected) {
                assertFalse(expected.getMessage().isEmpty());
            }
        }
        assertTrue(sim.commands().isEmpty());
    }

    @Test
    public void advanceNeedsAVirtualClock() {
        try (EslSimulator sim = EslSimulator.builder().heartbeat(Duration.ZERO).start()) {
            assertFalse(sim.hasVirtualClock());
            sim.advance(Duration.ofSeconds(1));
            fail("advanced a real clock");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage().contains("virtualClock"));
        }
    }

    @Test
    public void closeIsIdempotentAndEndsConnections() {
        EslSimulator sim = EslSimulator.builder().heartbeat(Duration.ZERO).start();
        EslClient client = EslClient.connect(sim.clientOptions().build());
        sim.close();
        sim.close();
        try {
            sim.commands();
            fail("used after close");
        } catch (RuntimeException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("closed"));
        } finally {
            client.close();
        }
    }

    /** Two plain CUSTOM event frames, as FreeSWITCH writes them. */
    private static byte[] corpus() {
        StringBuilder frames = new StringBuilder();
        for (String subclass : new String[] {"kit::one", "kit::two"}) {
            String body = "Event-Name: CUSTOM\nEvent-Subclass: " + subclass.replace(":", "%3A") + "\n\n";
            frames.append("Content-Length: ").append(body.length()).append("\nContent-Type: text/event-plain\n\n").append(body);
        }
        return frames.toString().getBytes(StandardCharsets.UTF_8);
    }
}
