package org.esl4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.esl4j.dial.Application;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.CallLeg;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.dial.OriginateResult;
import org.esl4j.dial.Timeouts;
import org.junit.After;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The inbound client against the simulator (real clock: the no-answer cases use 1-2 s timeouts and
 * check outcomes, never durations).
 */
public class EslClientTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private SimProcess sim;
    private EslClient client;

    @BeforeClass
    public static void needSimulatorAndNative() {
        assumeTrue("esl4j-sim not built", SimProcess.binary() != null);
        assumeTrue("native library not available", SimProcess.nativeAvailable());
    }

    @Before
    public void start() throws Exception {
        sim = SimProcess.start(0);
        client = EslClient.connect(options(sim.port()).build());
    }

    @After
    public void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (sim != null) {
            sim.close();
        }
    }

    /**
     * Whether this simulator build fires ring timeouts on its real clock (null until probed). An
     * older build did not; the timeout cases are skipped then, everything else still runs.
     */
    private static Boolean ringTimeoutsWork;

    private void needRingTimeouts() {
        if (ringTimeoutsWork == null) {
            try {
                String job = client.bgapi("originate {originate_timeout=1}loopback/noanswer/default &park()", Duration.ofSeconds(6));
                ringTimeoutsWork = job.startsWith("-ERR");
            } catch (EslTimeoutException timedOut) {
                ringTimeoutsWork = false;
            }
        }
        assumeTrue("esl4j-sim does not fire originate timeouts on its real clock", ringTimeoutsWork);
    }

    private static ClientOptions.Builder options(int port) {
        return ClientOptions.builder().port(port).watchdogMargin(Duration.ofSeconds(3));
    }

    private static OriginateResult originate(EslClient client, String extension, Timeouts timeouts) throws Exception {
        OriginateRequest request = OriginateRequest.to(Endpoint.loopback(extension, "default")).timeouts(timeouts).build();
        return client.originate(request).get(WAIT.getSeconds(), TimeUnit.SECONDS);
    }

    @Test
    public void apiAndBgapi() {
        String status = client.api("status", WAIT);
        assertTrue(status, status.contains("UP") || status.contains("ready") || !status.isEmpty());
        assertEquals("-ERR no_such_command Command not found!", client.bgapi("no_such_command", WAIT).trim());
    }

    @Test
    public void inboundNoAnswerTimeoutFailsWithNoAnswer() throws Exception {
        needRingTimeouts();
        OriginateResult result = originate(client, "noanswer", Timeouts.noAnswer(Duration.ofSeconds(2)));
        assertFalse(result.succeeded());
        assertEquals(HangupCause.NO_ANSWER, result.cause());
        assertEquals(CallLeg.A, result.failedLeg());
        assertFalse(result.watchdogExpired());
    }

    @Test
    public void earlyMediaIsIgnoredUnlessAccepted() throws Exception {
        needRingTimeouts();
        OriginateResult ignored = originate(client, "earlymedia", Timeouts.noAnswer(Duration.ofSeconds(2)));
        assertEquals(HangupCause.NO_ANSWER, ignored.cause());
        OriginateResult accepted = originate(client, "earlymedia",
                Timeouts.builder().noAnswer(Duration.ofSeconds(2)).acceptEarlyMedia().build());
        assertTrue(accepted.succeeded());
        client.api("uuid_kill " + accepted.channelUuid(), WAIT);
    }

    @Test
    public void busyIsUserBusy() throws Exception {
        OriginateResult result = originate(client, "busy", Timeouts.noAnswer(Duration.ofSeconds(5)));
        assertEquals(HangupCause.USER_BUSY, result.cause());
    }

    @Test
    public void answeredCallHasTheChosenUuidAndItsEventsReachTheChannelListener() throws Exception {
        client.subscribe("CHANNEL_ANSWER").get(WAIT.getSeconds(), TimeUnit.SECONDS);
        OriginateRequest request = OriginateRequest.to(Endpoint.loopback("answer", "default"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(5)))
                .build();
        BlockingQueue<EslEvent> events = new LinkedBlockingQueue<>();
        client.onChannel(request.uuid(), events::add);
        OriginateResult result = client.originate(request).get(WAIT.getSeconds(), TimeUnit.SECONDS);
        assertTrue(result.toString(), result.succeeded());
        assertEquals(request.uuid(), result.channelUuid());
        EslEvent answer = events.poll(WAIT.getSeconds(), TimeUnit.SECONDS);
        assertNotNull("no CHANNEL_ANSWER for " + request.uuid(), answer);
        assertEquals("CHANNEL_ANSWER", answer.eventName());
        client.api("uuid_kill " + request.uuid(), WAIT);
    }

    @Test
    public void callbackReportsTheSecondLegSeparately() throws Exception {
        needRingTimeouts();
        BridgeRequest second = BridgeRequest.to(Endpoint.loopback("noanswer", "default"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(2)))
                .build();
        OriginateRequest request = OriginateRequest.to(Endpoint.loopback("answer", "default"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(5)))
                .application(Application.bridge(second))
                .build();
        OriginateResult result = client.originate(request).get(WAIT.getSeconds(), TimeUnit.SECONDS);
        assertFalse(result.toString(), result.succeeded());
        assertEquals(result.toString(), CallLeg.B, result.failedLeg());
        assertEquals(HangupCause.NO_ANSWER, result.cause());
        assertNotNull(result.bridge());
        assertEquals(request.uuid(), result.channelUuid());
    }

    @Test
    public void callbackFirstLegFailureIsLegA() throws Exception {
        OriginateRequest request = OriginateRequest.to(Endpoint.loopback("busy", "default"))
                .application(Application.bridge(BridgeRequest.to(Endpoint.loopback("answer", "default")).build()))
                .build();
        OriginateResult result = client.originate(request).get(WAIT.getSeconds(), TimeUnit.SECONDS);
        assertEquals(CallLeg.A, result.failedLeg());
        assertEquals(HangupCause.USER_BUSY, result.cause());
    }

    @Test
    public void closeFailsWhatIsPending() throws Exception {
        CompletableFuture<String> longJob = client.bgapi("originate {originate_timeout=60}loopback/noanswer/default &park()");
        client.close();
        try {
            longJob.get(WAIT.getSeconds(), TimeUnit.SECONDS);
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
        int port = sim.port();
        BlockingQueue<ConnectionEvent> changes = new LinkedBlockingQueue<>();
        client = EslClient.connect(options(port)
                .reconnect(ReconnectPolicy.backoff(Duration.ofMillis(100), Duration.ofMillis(500), 0))
                .build());
        client.onConnectionEvent(changes::add);
        client.subscribe("CHANNEL_ANSWER").get(WAIT.getSeconds(), TimeUnit.SECONDS);
        sim.close();
        assertEquals(ConnectionEvent.Type.DISCONNECTED, changes.poll(WAIT.getSeconds(), TimeUnit.SECONDS).type());
        sim = SimProcess.start(port);
        ConnectionEvent back = changes.poll(WAIT.getSeconds(), TimeUnit.SECONDS);
        assertNotNull("no reconnect", back);
        assertEquals(ConnectionEvent.Type.RECONNECTED, back.type());
        assertTrue(back.gap().toNanos() > 0);
        assertTrue(back.attempts() >= 1);
        List<EslEvent> answers = new CopyOnWriteArrayList<>();
        BlockingQueue<EslEvent> seen = new LinkedBlockingQueue<>();
        client.onEvent("CHANNEL_ANSWER", event -> {
            answers.add(event);
            seen.add(event);
        });
        OriginateResult result = originate(client, "answer", Timeouts.noAnswer(Duration.ofSeconds(5)));
        assertTrue(result.succeeded());
        assertNotNull("subscription not replayed", seen.poll(WAIT.getSeconds(), TimeUnit.SECONDS));
        client.api("uuid_kill " + result.channelUuid(), WAIT);
    }
}
