package org.esl4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.esl4j.internal.EventInbox;
import org.esl4j.testing.EslSimulator;
import org.junit.After;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * {@link EventView}s against the simulator: valid only during their listener call, never showing
 * another event's bytes although the client reuses its poll batch array, in stream order, beside
 * regular listeners whose events stay intact.
 */
public class EventViewTest {
    private static final long WAIT_SECONDS = 30;
    /** Longer than any test event, so that after {@link #warmUp} every later small batch is polled into the spare. */
    private static final int WARM_UP_BODY = 64 * 1024;

    private EslSimulator sim;
    private EslClient client;
    /** Test-Seq of every event the views saw, in order; fed on the reading thread. */
    private final BlockingQueue<Integer> seen = new LinkedBlockingQueue<>();

    @BeforeClass
    public static void nativeLibrary() {
        assumeTrue("native library not available", SimulatorSupport.nativeAvailable());
    }

    @Before
    public void connect() throws Exception {
        sim = EslSimulator.builder().recordEvents(false).heartbeat(Duration.ZERO).start();
        client = EslClient.connect(sim.clientOptions().build());
        client.subscribe("ALL").get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @After
    public void close() {
        client.close();
        sim.close();
    }

    private static String uuid(int seq) {
        return String.format("%08d-1111-2222-3333-444444444444", seq);
    }

    private static String note(int seq) {
        return "note " + seq + " 100% & more";
    }

    private static EslEvent event(String name, int seq, String body) {
        EslEvent.Builder builder = EslEvent.builder()
                .header("Event-Name", name)
                .header("Unique-ID", uuid(seq))
                .header("Test-Seq", Integer.toString(seq))
                .header("Test-Note", note(seq));
        return body == null ? builder.build() : builder.body(body).build();
    }

    private static String repeat(char c, int count) {
        char[] chars = new char[count];
        Arrays.fill(chars, c);
        return new String(chars);
    }

    /** Registers the view listener that records every event's Test-Seq into {@link #seen}. */
    private Subscription recordSeen() {
        return client.onEventView(view -> seen.add(Integer.parseInt(view.header("Test-Seq"))));
    }

    /** Fires one event and waits until the views have seen it: the next event comes in a later batch. */
    private void fireAlone(EslEvent event) throws InterruptedException {
        sim.fireEvent(event);
        awaitSeen(Integer.parseInt(event.header("Test-Seq")));
    }

    private void awaitSeen(int seq) throws InterruptedException {
        while (true) {
            Integer next = seen.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull("event " + seq + " not seen", next);
            if (next == seq) {
                return;
            }
        }
    }

    /**
     * A batch no event was made from, longer than the test events: its array becomes the spare, so
     * the following small batches are all polled into that one array.
     */
    private void warmUp() throws InterruptedException {
        fireAlone(event("CUSTOM", -1, repeat('w', WARM_UP_BODY)));
    }

    private static <T> T next(BlockingQueue<T> queue) throws InterruptedException {
        T value = queue.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertNotNull("nothing arrived", value);
        return value;
    }

    @Test
    public void aViewReadAfterItsCallThrowsOnAnyThread() throws Exception {
        AtomicReference<EventView> kept = new AtomicReference<>();
        BlockingQueue<String> laterReads = new LinkedBlockingQueue<>();
        client.onEventView(view -> {
            EventView previous = kept.getAndSet(view);
            if (previous != null) {
                // The reading thread itself, during a later call.
                try {
                    laterReads.add("read " + previous.uniqueId());
                } catch (IllegalStateException expected) {
                    laterReads.add("refused");
                }
            }
        });
        recordSeen();
        fireAlone(event("CHANNEL_ANSWER", 1, "body 1"));
        EventView first = kept.get();
        assertThrows(IllegalStateException.class, first::eventName);
        assertThrows(IllegalStateException.class, first::uniqueId);
        assertThrows(IllegalStateException.class, () -> first.header("Test-Seq"));
        assertThrows(IllegalStateException.class, () -> first.headerValues("Test-Seq"));
        assertThrows(IllegalStateException.class, () -> first.eventNameIs("CHANNEL_ANSWER"));
        assertThrows(IllegalStateException.class, first::body);
        assertThrows(IllegalStateException.class, first::headerCount);
        assertThrows(IllegalStateException.class, first::toEvent);
        // Two events, most likely in one batch: a view ends with its call, not with its batch.
        sim.fireEvents(Arrays.asList(event("CHANNEL_ANSWER", 2, null), event("CHANNEL_ANSWER", 3, null)));
        assertEquals("refused", next(laterReads));
        assertEquals("refused", next(laterReads));
    }

    @Test
    public void aViewKeptAcrossBatchesNeverReadsALaterEventAndItsCopyStaysIntact() throws Exception {
        AtomicReference<EventView> kept = new AtomicReference<>();
        AtomicReference<EslEvent> copy = new AtomicReference<>();
        List<String> laterReads = new CopyOnWriteArrayList<>();
        client.onEventView(view -> {
            if (view.eventNameIs("CHANNEL_ANSWER")) {
                kept.set(view);
                copy.set(view.toEvent());
                return;
            }
            EventView answer = kept.get();
            if (answer != null) {
                // Each read either fails or would show this later event's bytes (same array, same place).
                for (Runnable read : Arrays.<Runnable>asList(answer::uniqueId, () -> answer.header("Test-Seq"),
                        answer::body, () -> answer.eventNameIs("CHANNEL_HANGUP"), answer::toEvent)) {
                    try {
                        read.run();
                        laterReads.add("read");
                    } catch (IllegalStateException expected) {
                        laterReads.add("refused");
                    }
                }
            }
        });
        // Registered after the listener above, so that an event seen has been through it.
        recordSeen();
        warmUp();
        fireAlone(event("CHANNEL_ANSWER", 1, "answer body"));
        for (int seq = 2; seq < 40; seq++) {
            fireAlone(event("CHANNEL_HANGUP", seq, "hangup body " + seq));
        }
        assertEquals(Collections.nCopies(38 * 5, "refused"), laterReads);
        EslEvent answer = copy.get();
        assertEquals("CHANNEL_ANSWER", answer.eventName());
        assertEquals(uuid(1), answer.uniqueId());
        assertEquals("1", answer.header("Test-Seq"));
        assertEquals(note(1), answer.header("Test-Note"));
        assertEquals("answer body", answer.body());
    }

    @Test
    public void aViewListenerMayCallTheServerOnTheReadingThread() throws Exception {
        BlockingQueue<String> replies = new LinkedBlockingQueue<>();
        client.onEventView(view -> {
            if (view.eventNameIs("CUSTOM")) {
                // A blocking command from the reading thread: its reply never waits behind events.
                replies.add(client.api("echo from-" + view.header("Test-Seq"), Duration.ofSeconds(WAIT_SECONDS)));
            }
        });
        recordSeen();
        sim.fireEvents(Arrays.asList(event("CUSTOM", 1, null), event("CHANNEL_ANSWER", 2, null),
                event("CUSTOM", 3, null)));
        assertEquals("from-1", next(replies).trim());
        assertEquals("from-3", next(replies).trim());
        awaitSeen(3);
    }

    @Test
    public void aViewListenerMayCloseTheClient() throws Exception {
        BlockingQueue<ConnectionEvent.Type> changes = new LinkedBlockingQueue<>();
        client.onConnectionEvent(change -> changes.add(change.type()));
        client.onEventView(view -> client.close());
        sim.fireEvent(event("CHANNEL_ANSWER", 1, null));
        ConnectionEvent.Type change;
        do {
            change = next(changes);
        } while (change != ConnectionEvent.Type.CLOSED);
        assertTrue("still connected after close() on the reading thread", !client.isConnected());
    }

    @Test
    public void viewsSeeEveryEventInStreamOrder() throws Exception {
        List<Integer> order = new ArrayList<>();
        CountDownLatch all = new CountDownLatch(3_000);
        client.onEventView(view -> {
            order.add(Integer.parseInt(view.header("Test-Seq")));
            all.countDown();
        });
        for (int chunk = 0; chunk < 3; chunk++) {
            List<EslEvent> events = new ArrayList<>();
            for (int i = 0; i < 1_000; i++) {
                int seq = chunk * 1_000 + i;
                events.add(event(seq % 2 == 0 ? "CHANNEL_ANSWER" : "CHANNEL_HANGUP", seq, null));
            }
            sim.fireEvents(events);
        }
        assertTrue("every event seen", all.await(WAIT_SECONDS, TimeUnit.SECONDS));
        List<Integer> expected = new ArrayList<>();
        for (int seq = 0; seq < 3_000; seq++) {
            expected.add(seq);
        }
        // The latch orders the reading thread's additions before this read.
        assertEquals(expected, order);
    }

    /**
     * A regular listener takes some events while the views read all: the batches holding its
     * events are never reused, so the events it keeps read their own bytes after many later
     * batches went through the spare array.
     */
    @Test
    public void eventsKeptByARegularListenerBesideViewsStayIntact() throws Exception {
        recordSeen();
        warmUp();
        // By Unique-ID, which delivery read (and kept as a string) when it chose the event's lane.
        Map<String, EslEvent> keptAnswers = new ConcurrentHashMap<>();
        int answers = 30;
        CountDownLatch allAnswers = new CountDownLatch(answers);
        client.onEvent("CHANNEL_ANSWER", event -> {
            keptAnswers.put(event.uniqueId(), event);
            allAnswers.countDown();
        });
        int seq = 0;
        for (int round = 0; round < answers; round++) {
            fireAlone(event("CHANNEL_ANSWER", seq++, "answer " + round));
            List<EslEvent> others = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                others.add(event("CHANNEL_PROGRESS", seq++, "progress"));
            }
            sim.fireEvents(others);
            awaitSeen(seq - 1);
        }
        assertTrue("every answer delivered", allAnswers.await(WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(answers, keptAnswers.size());
        for (int round = 0; round < answers; round++) {
            int answerSeq = round * 21;
            EslEvent answer = keptAnswers.get(uuid(answerSeq));
            assertEquals("answer " + round, answer.body());
            assertEquals(Integer.toString(answerSeq), answer.header("Test-Seq"));
            assertEquals(note(answerSeq), answer.header("Test-Note"));
            assertEquals("CHANNEL_ANSWER", answer.eventName());
        }
    }

    /** Beside a view listener, each kind of regular listener still gets the events it asked for. */
    @Test
    public void regularListenersOfEveryKindGetTheirEventsBesideViews() throws Exception {
        recordSeen();
        BlockingQueue<String> regular = new LinkedBlockingQueue<>();
        client.onChannel(uuid(1), event -> regular.add("channel " + event.header("Test-Seq")));
        client.onEvent("test::sub", event -> regular.add("subclass " + event.header("Test-Seq")));
        client.onEvent("channel_park", event -> regular.add("name " + event.header("Test-Seq")));
        client.onJob("job-4", event -> regular.add("job " + event.header("Test-Seq")));
        sim.fireEvents(Arrays.asList(event("CHANNEL_ANSWER", 0, null), event("CHANNEL_ANSWER", 1, null),
                EslEvent.builder().header("Event-Name", "CUSTOM").header("Event-Subclass", "test::sub")
                        .header("Test-Seq", "2").build(),
                event("CHANNEL_PARK", 3, null),
                EslEvent.builder().header("Event-Name", "BACKGROUND_JOB").header("Job-UUID", "job-4")
                        .header("Test-Seq", "4").body("+OK\n").build(),
                event("CHANNEL_HANGUP", 5, null)));
        awaitSeen(5);
        List<String> got = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            got.add(next(regular));
        }
        Collections.sort(got);
        assertEquals(Arrays.asList("channel 1", "job 4", "name 3", "subclass 2"), got);
        assertEquals(6, client.deliveryStats().delivered());
    }

    @Test
    public void aThrowingViewListenerIsCountedAndDeliveryGoesOn() throws Exception {
        client.onEventView(view -> {
            if (Integer.parseInt(view.header("Test-Seq")) % 2 == 0) {
                throw new IllegalArgumentException("listener bug");
            }
        });
        recordSeen();
        List<EslEvent> events = new ArrayList<>();
        for (int seq = 0; seq < 100; seq++) {
            events.add(event("CHANNEL_ANSWER", seq, null));
        }
        sim.fireEvents(events);
        for (int seq = 0; seq < 100; seq++) {
            assertEquals(Integer.valueOf(seq), next(seen));
        }
        // Event 98's failure is counted before event 99 goes to any listener.
        assertEquals(50, client.deliveryStats().listenerFailures());
        assertEquals(100, client.deliveryStats().delivered());
    }

    @Test
    public void aClosedSubscriptionGetsNoMoreViews() throws Exception {
        List<Integer> first = new CopyOnWriteArrayList<>();
        Subscription firstSubscription = client.onEventView(view -> first.add(Integer.parseInt(view.header("Test-Seq"))));
        Subscription recorder = recordSeen();
        fireAlone(event("CHANNEL_ANSWER", 1, null));
        firstSubscription.close();
        // The first listener would run before the recorder for event 2.
        fireAlone(event("CHANNEL_ANSWER", 2, null));
        assertEquals(Collections.singletonList(1), first);

        recorder.close();
        BlockingQueue<String> regular = new LinkedBlockingQueue<>();
        client.onAnyEvent(event -> regular.add(event.header("Test-Seq")));
        sim.fireEvent(event("CHANNEL_ANSWER", 3, null));
        assertEquals("3", next(regular));
        assertTrue("no view after both closed", seen.isEmpty());
        assertEquals(Collections.singletonList(1), first);
    }

    /** An event longer than any reused array arrives in an array of its own, whole. */
    @Test
    public void anEventLongerThanTheReusedArrayIsDeliveredWhole() throws Exception {
        recordSeen();
        warmUp();
        String hugeBody = repeat('h', EventInbox.MAX_SPARE_BYTES + 100_000);
        BlockingQueue<EslEvent> copies = new LinkedBlockingQueue<>();
        BlockingQueue<String> bodies = new LinkedBlockingQueue<>();
        client.onEventView(view -> {
            bodies.add(view.body());
            copies.add(view.toEvent());
        });
        sim.fireEvents(Arrays.asList(event("CUSTOM", 1, "small before"), event("CUSTOM", 2, hugeBody),
                event("CUSTOM", 3, "small after")));
        assertEquals("small before", next(bodies));
        assertEquals(hugeBody, next(bodies));
        assertEquals("small after", next(bodies));
        next(copies);
        EslEvent huge = next(copies);
        assertEquals(uuid(2), huge.uniqueId());
        assertEquals(hugeBody, huge.body());
        fireAlone(event("CUSTOM", 4, "after the huge one"));
        assertEquals("small after", next(copies).body());
    }

    @Test
    public void headerValuesAndAbsentHeadersReadAsOnAnEvent() throws Exception {
        BlockingQueue<List<Object>> reads = new LinkedBlockingQueue<>();
        client.onEventView(view -> reads.add(Arrays.<Object>asList(view.headerValues("multi"), view.header("Absent"),
                view.headerValues("Absent"), view.eventNameIs("CUSTOM"), view.eventNameIs("custom"),
                view.eventNameIs("CUSTOMER"), view.eventSubclass(), view.jobUuid())));
        sim.fireEvent(EslEvent.builder().header("Event-Name", "CUSTOM").header("Event-Subclass", "test::view")
                .header("Multi", "ARRAY::a b|:c%d").build());
        List<Object> read = next(reads);
        assertEquals(Arrays.asList("a b", "c%d"), read.get(0));
        assertNull(read.get(1));
        assertEquals(Collections.emptyList(), read.get(2));
        assertEquals(Arrays.asList(true, false, false, "test::view", null), read.subList(3, 8));
    }

    /** The spare array is kept only while no event of its batch was made, and grows to the batches' size. */
    @Test
    public void theSpareIsKeptOnlyWhenNoEventWasMadeFromItsBatch() {
        EventViews views = new EventViews(Thread.currentThread());
        byte[] small = new byte[10];
        byte[] larger = new byte[20];
        views.recycle(null, small, false);
        assertSame("a clean new array becomes the spare", small, views.takeSpare());
        views.recycle(small, small, true);
        assertNull("an array an event reads is never reused", views.takeSpare());
        views.recycle(small, larger, true);
        assertSame("the untouched spare stays when the batch came in its own array", small, views.takeSpare());
        views.recycle(small, larger, false);
        assertSame("a longer clean array replaces the spare", larger, views.takeSpare());
        views.recycle(larger, small, false);
        assertSame("a shorter one does not", larger, views.takeSpare());
        views.recycle(null, new byte[EventInbox.MAX_SPARE_BYTES + 1], false);
        assertNull("an array over the cap is let go", views.takeSpare());
    }
}
