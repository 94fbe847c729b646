package org.esl4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
            assertEquals(EVENTS, sim.flood(FloodCorpus.tiny(), EVENTS, Duration.ZERO, 0));
            assertTrue("all events delivered, missing " + all.getCount(), all.await(60, TimeUnit.SECONDS));
            assertEquals(0, client.deliveryStats().dropped());
        }
    }

    /**
     * A listener under {@link OverflowPolicy#BLOCK} that calls {@code api} and waits for it every
     * 1,000 events: the blocked listener stops delivery, delivery stops the reader, and the reply
     * used to wait behind the unread events until the call timed out.
     */
    @Test
    public void aBlockingListenerCallingApiUnderAFloodGetsEveryReply() throws Exception {
        int events = 200_000;
        DeliveryOptions blocking = DeliveryOptions.builder()
                .overflowPolicy(OverflowPolicy.BLOCK)
                .blockTimeout(Duration.ofMinutes(1))
                .build();
        try (EslSimulator sim = EslSimulator.builder().recordEvents(false).heartbeat(Duration.ZERO).start();
                // Each api reads everything the socket buffers hold ahead of its reply while the
                // listener takes 1,000 events per call, so the queue grows by the difference: a
                // cap above the whole flood keeps it from overloading here.
                EslClient client = EslClient.connect(sim.clientOptions().delivery(blocking)
                        .spill(events, 1024L * 1024 * 1024).build())) {
            CountDownLatch all = new CountDownLatch(events);
            List<String> wrong = new CopyOnWriteArrayList<>();
            AtomicInteger received = new AtomicInteger();
            client.onEvent("CUSTOM", event -> {
                int count = received.incrementAndGet();
                if (count % 1_000 == 0) {
                    String text = "call" + count / 1_000;
                    try {
                        String reply = client.api("eval " + text, Duration.ofSeconds(30));
                        if (!text.equals(reply)) {
                            wrong.add(text + " got " + reply);
                        }
                    } catch (EslException failed) {
                        wrong.add(text + " failed: " + failed);
                    }
                }
                all.countDown();
            });
            client.subscribe("ALL").get(10, TimeUnit.SECONDS);
            assertEquals(events, sim.flood(FloodCorpus.padded(), events, Duration.ZERO, 0));
            assertTrue("all events delivered, missing " + all.getCount(), all.await(120, TimeUnit.SECONDS));
            assertEquals("every call gets its own reply", Collections.emptyList(), wrong);
            assertEquals(0, client.deliveryStats().dropped());
        }
    }
}
