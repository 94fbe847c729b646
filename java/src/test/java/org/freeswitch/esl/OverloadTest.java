package org.freeswitch.esl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.esl4j.ConnectionEvent;
import org.esl4j.DeliveryOptions;
import org.esl4j.DeliveryStats;
import org.esl4j.EslClient;
import org.esl4j.EslOverloadedException;
import org.esl4j.ClientOptions;
import org.esl4j.testing.EslSimulator;
import org.junit.After;
import org.junit.Test;

/**
 * Listeners (or a compat program) that fall behind an unpaced flood: no call-ending event is lost
 * below the connection's hard cap, and past it the connection is overloaded with a typed error, a
 * notice with counts, and bounded memory. Small caps keep the tests fast.
 */
public class OverloadTest {
    private static final long BOUND_SECONDS = 60;
    private static final String AUTH_OK = "Content-Type: command/reply\nReply-Text: +OK accepted\n\n";
    private static final String EVENT_OK = "Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n";

    private FakeFreeSwitch fake;

    @After
    public void stop() throws Exception {
        if (fake != null) {
            fake.close();
        }
    }

    private static String frame(String body) {
        return "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\nContent-Type: text/event-plain\n\n"
                + body;
    }

    private static String hangup(int sequence) {
        return frame("Event-Name: CHANNEL_HANGUP\nUnique-ID: u1\nEvent-Sequence: " + sequence + "\n\n");
    }

    /** Answers auth and the client's subscriptions, and answers {@code api eval flood} with hang-ups only. */
    private int floodingServer(int hangups) throws Exception {
        String[] flood = new String[hangups];
        for (int i = 0; i < hangups; i++) {
            flood[i] = hangup(i);
        }
        FakeFreeSwitch.Script script = new FakeFreeSwitch.Script()
                .answer("auth ClueCon", AUTH_OK)
                .answer("event plain BACKGROUND_JOB", EVENT_OK)
                .answer("event plain CHANNEL_HANGUP", EVENT_OK)
                .answer("api eval flood", flood);
        script.greeting.add("Content-Type: auth/request\n\n".getBytes(StandardCharsets.UTF_8));
        script.firstCommand = "auth ClueCon";
        fake = FakeFreeSwitch.inbound(Collections.singletonList(script));
        return fake.port();
    }

    @Test
    public void aStalledListenerLosesNoCallEndingEventBelowTheHardCap() throws Exception {
        int events = 20_000;
        DeliveryOptions small = DeliveryOptions.builder().maxQueuedEvents(100).criticalReserve(100).build();
        try (EslSimulator sim = EslSimulator.builder().recordEvents(false).heartbeat(Duration.ZERO).start();
                EslClient client = EslClient.connect(sim.clientOptions().delivery(small).build())) {
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch hangups = new CountDownLatch(events / 2);
            client.onAnyEvent(event -> {
                try {
                    release.await(BOUND_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
                if ("CHANNEL_HANGUP".equals(event.eventName())) {
                    hangups.countDown();
                }
            });
            client.subscribe("ALL").get(10, TimeUnit.SECONDS);
            String corpus = frame("Event-Name: CUSTOM\nEvent-Subclass: esl4j%3A%3Aflood\n\n") + hangup(0);
            assertEquals(events, sim.flood(corpus.getBytes(StandardCharsets.UTF_8), events, Duration.ZERO, 0));
            // The reply follows every flooded event on the wire: once here, all of them were read.
            assertEquals("end", client.api("eval end", Duration.ofSeconds(BOUND_SECONDS)));
            release.countDown();
            assertTrue("hang-ups lost: " + hangups.getCount(), hangups.await(BOUND_SECONDS, TimeUnit.SECONDS));
            DeliveryStats stats = client.deliveryStats();
            assertEquals(stats.toString(), 0, stats.criticalDropped());
            assertEquals(stats.toString(), 0, stats.overloads());
        }
    }

    @Test
    public void pastTheHardCapTheClientIsOverloadedWithATypedErrorAndANotice() throws Exception {
        int cap = 1_000;
        int port = floodingServer(5 * cap);
        ClientOptions options = ClientOptions.builder().host("127.0.0.1").port(port).password("ClueCon")
                .delivery(DeliveryOptions.builder().maxQueuedEvents(10).criticalReserve(10).build())
                .spill(cap, 256L * 1024 * 1024).build();
        try (EslClient client = EslClient.connect(options)) {
            CountDownLatch release = new CountDownLatch(1);
            BlockingQueue<ConnectionEvent> overloads = new LinkedBlockingQueue<>();
            client.onConnectionEvent(event -> {
                if (event.type() == ConnectionEvent.Type.OVERLOADED) {
                    overloads.add(event);
                }
            });
            client.onAnyEvent(event -> {
                try {
                    release.await(BOUND_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
            });
            CompletableFuture<String> pending = client.api("eval flood");
            try {
                pending.get(BOUND_SECONDS, TimeUnit.SECONDS);
                fail("the command pending at the overload must fail");
            } catch (ExecutionException expected) {
                assertTrue(String.valueOf(expected.getCause()), expected.getCause() instanceof EslOverloadedException);
            }
            release.countDown();
            ConnectionEvent notice = overloads.poll(BOUND_SECONDS, TimeUnit.SECONDS);
            assertNotNull("listeners are told", notice);
            assertTrue(notice.toString(), notice.droppedCriticalEvents() > 0);
            DeliveryStats stats = client.deliveryStats();
            assertEquals(stats.toString(), 1, stats.overloads());
            assertEquals(stats.toString(), notice.droppedCriticalEvents(), stats.criticalDropped());
        }
    }

    @Test
    public void compatPastTheHardCapReturnsNullAndSaysWhy() throws Exception {
        int cap = 1_000;
        int port = floodingServer(5 * cap);
        System.setProperty(ESLconnection.SPILL_MAX_EVENTS_PROPERTY, Integer.toString(cap));
        try {
            ESLconnection con = new ESLconnection("127.0.0.1", port, "ClueCon");
            assertEquals(1, con.connected());
            // Never reads its events while the command waits: the queue reaches its hard cap.
            assertNull(con.api("eval", "flood"));
            assertTrue(con.getLastError(), con.getLastError().contains("overloaded"));
            int received = 0;
            while (!"SERVER_DISCONNECTED".equals(con.recvEvent().getType())) {
                received++;
            }
            assertEquals("the events queued before the overload are delivered", cap, received);
            assertEquals(0, con.connected());
        } finally {
            System.clearProperty(ESLconnection.SPILL_MAX_EVENTS_PROPERTY);
        }
    }
}
