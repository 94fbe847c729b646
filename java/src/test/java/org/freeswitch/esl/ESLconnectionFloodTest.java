package org.freeswitch.esl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.esl4j.FloodCorpus;
import org.esl4j.testing.EslSimulator;
import org.junit.Test;

/** libesl never drops an event; neither may the compat API when the consumer is slower than FreeSWITCH. */
public class ESLconnectionFloodTest {
    /** More than the engine's event queue holds (65,536), so a dropping queue would lose some. */
    private static final int EVENTS = 70_000;

    @Test
    public void floodLargerThanTheQueueLosesNothing() throws Exception {
        ExecutorService flooder = Executors.newSingleThreadExecutor();
        try (EslSimulator sim = EslSimulator.builder().recordEvents(false).heartbeat(Duration.ZERO).start()) {
            ESLconnection con = new ESLconnection("127.0.0.1", sim.port(), sim.password());
            assertEquals(1, con.connected());
            assertEquals("+OK event listener enabled plain",
                    con.sendRecv("event plain CUSTOM esl4j::flood").getHeader("Reply-Text"));
            Future<Long> sent = flooder.submit(() -> sim.flood(FloodCorpus.tiny(), EVENTS, Duration.ZERO, 0));
            int received = 0;
            ESLevent event;
            while (received < EVENTS && (event = con.recvEventTimed(10_000)) != null) {
                if ("esl4j::flood".equals(event.getHeader("Event-Subclass", -1))) {
                    received++;
                }
            }
            assertEquals(EVENTS, sent.get(30, TimeUnit.SECONDS).longValue());
            assertEquals("every flooded event reaches recvEvent", EVENTS, received);
            con.disconnect();
        } finally {
            flooder.shutdownNow();
        }
    }

    /**
     * The libesl loop on one thread, {@code recvEvent()} and {@code api()} every 1,000 events,
     * under an unpaced flood: the reply must be read past the full event queue, or the thread
     * waits for its own reply behind events only it would take.
     */
    @Test
    public void apiEveryThousandEventsOnTheReceivingThreadGetsItsOwnReply() throws Exception {
        int events = 200_000;
        // Shorter than the default, so that a deadlock fails the test within a minute.
        System.setProperty(ESLconnection.COMMAND_TIMEOUT_PROPERTY, "20000");
        // Each api() reads everything the socket buffers hold ahead of its reply (thousands of
        // events under an unpaced flood) while the loop takes 1,000 per call, so the queue grows
        // by the difference, as libesl's does: a cap above the whole flood keeps it from
        // overloading here (OverloadTest covers the cap).
        System.setProperty(ESLconnection.SPILL_MAX_EVENTS_PROPERTY, Integer.toString(events));
        ExecutorService flooder = Executors.newSingleThreadExecutor();
        try (EslSimulator sim = EslSimulator.builder().recordEvents(false).heartbeat(Duration.ZERO).start()) {
            ESLconnection con = new ESLconnection("127.0.0.1", sim.port(), sim.password());
            assertEquals(0, con.events("plain", "CUSTOM esl4j::flood"));
            Future<Long> sent = flooder.submit(() -> sim.flood(FloodCorpus.padded(), events, Duration.ZERO, 0));
            int received = 0;
            int calls = 0;
            ESLevent event;
            while (received < events && (event = con.recvEventTimed(30_000)) != null) {
                if ("esl4j::flood".equals(event.getHeader("Event-Subclass", -1)) && ++received % 1_000 == 0) {
                    calls++;
                    ESLevent reply = con.api("eval", "call" + calls);
                    assertNotNull("call " + calls + ": " + con.getLastError(), reply);
                    assertEquals("its own reply", "call" + calls, reply.getBody());
                }
            }
            assertEquals(events, sent.get(30, TimeUnit.SECONDS).longValue());
            assertEquals("the flood completes", events, received);
            assertEquals(events / 1_000, calls);
            con.disconnect();
        } finally {
            System.clearProperty(ESLconnection.COMMAND_TIMEOUT_PROPERTY);
            System.clearProperty(ESLconnection.SPILL_MAX_EVENTS_PROPERTY);
            flooder.shutdownNow();
        }
    }
}
