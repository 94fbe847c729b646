package org.esl4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.esl4j.testing.EslSimulator;
import org.junit.Test;

/** With {@link OverflowPolicy#BLOCK}, no layer may drop an event: neither delivery nor the engine's queue. */
public class EslClientFloodTest {
    /** More than the engine's event queue holds (65,536). */
    private static final int EVENTS = 70_000;

    @Test
    public void blockingDeliveryLosesNothingUnderAFlood() throws Exception {
        DeliveryOptions blocking = DeliveryOptions.builder()
                .overflowPolicy(OverflowPolicy.BLOCK)
                .blockTimeout(Duration.ofMinutes(1))
                .build();
        try (EslSimulator sim = EslSimulator.builder().recordEvents(false).heartbeat(Duration.ZERO).start();
                EslClient client = EslClient.connect(sim.clientOptions().delivery(blocking).build())) {
            CountDownLatch all = new CountDownLatch(EVENTS);
            client.onEvent("CUSTOM", event -> all.countDown());
            client.subscribe("ALL").get(10, TimeUnit.SECONDS);
            assertEquals(EVENTS, sim.flood(corpus(), EVENTS, Duration.ZERO, 0));
            assertTrue("all events delivered, missing " + all.getCount(), all.await(60, TimeUnit.SECONDS));
            assertEquals(0, client.deliveryStats().dropped());
        }
    }

    private static byte[] corpus() {
        String body = "Event-Name: CUSTOM\nEvent-Subclass: esl4j%3A%3Aflood\n\n";
        String frame = "Content-Length: " + body.length() + "\nContent-Type: text/event-plain\n\n" + body;
        return frame.getBytes(StandardCharsets.UTF_8);
    }
}
