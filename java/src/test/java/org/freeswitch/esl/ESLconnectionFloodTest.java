package org.freeswitch.esl;

import static org.junit.Assert.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
            Future<Long> sent = flooder.submit(() -> sim.flood(corpus(), EVENTS, Duration.ZERO, 0));
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

    private static byte[] corpus() {
        String body = "Event-Name: CUSTOM\nEvent-Subclass: esl4j%3A%3Aflood\n\n";
        String frame = "Content-Length: " + body.length() + "\nContent-Type: text/event-plain\n\n" + body;
        return frame.getBytes(StandardCharsets.UTF_8);
    }
}
