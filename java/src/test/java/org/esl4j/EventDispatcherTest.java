package org.esl4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.esl4j.internal.FrameCodec;
import org.junit.After;
import org.junit.Test;

public class EventDispatcherTest {
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @After
    public void closeAll() throws Exception {
        for (AutoCloseable closeable : toClose) {
            closeable.close();
        }
    }

    private static EslEvent event(String name, String uuid, int sequence) {
        EslEvent.Builder builder = EslEvent.builder().header("Event-Name", name);
        if (uuid != null) {
            builder.header("Unique-ID", uuid);
        }
        return builder.header("Seq", Integer.toString(sequence)).build();
    }

    private EventDispatcher dispatcher(EventRouter router, DeliveryOptions options) {
        EventDispatcher dispatcher = new EventDispatcher(router, options, "test-events");
        toClose.add(dispatcher);
        return dispatcher;
    }

    private static DeliveryOptions blocking(int threads, int maxQueuedEvents, java.time.Duration blockTimeout) {
        return DeliveryOptions.builder()
                .threads(threads)
                .maxQueuedEvents(maxQueuedEvents)
                .overflowPolicy(OverflowPolicy.BLOCK)
                .blockTimeout(blockTimeout)
                .build();
    }

    /** Records the {@code Seq} of every delivered event per channel, and the delivering threads. */
    private static final class SequenceRecorder implements EventListener {
        final int channels;
        final int perChannel;
        final Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
        final Set<Thread> threads = ConcurrentHashMap.newKeySet();
        final CountDownLatch all;

        SequenceRecorder(int channels, int perChannel) {
            this.channels = channels;
            this.perChannel = perChannel;
            this.all = new CountDownLatch(channels * perChannel);
        }

        @Override
        public void onEvent(EslEvent event) {
            seen.computeIfAbsent(event.uniqueId(), k -> Collections.synchronizedList(new ArrayList<Integer>()))
                    .add(Integer.parseInt(event.header("Seq")));
            threads.add(Thread.currentThread());
            all.countDown();
        }

        /** The channels' events interleaved, each channel's numbered from 0. */
        List<EslEvent> interleaved() {
            List<EslEvent> events = new ArrayList<>();
            for (int i = 0; i < perChannel; i++) {
                for (int c = 0; c < channels; c++) {
                    events.add(event("CHANNEL_STATE", "chan-" + c, i));
                }
            }
            return events;
        }

        void awaitAllInOrder(EventDispatcher dispatcher) throws InterruptedException {
            assertTrue("not all delivered: " + dispatcher.stats(), all.await(30, TimeUnit.SECONDS));
            for (int c = 0; c < channels; c++) {
                List<Integer> order = seen.get("chan-" + c);
                assertEquals(perChannel, order.size());
                for (int i = 0; i < perChannel; i++) {
                    assertEquals("channel " + c + " out of order", i, (int) order.get(i));
                }
            }
            assertEquals(0, dispatcher.stats().dropped());
            assertEquals((long) channels * perChannel, dispatcher.stats().delivered());
        }
    }

    @Test
    public void eachChannelKeepsItsOrderUnderParallelDelivery() throws InterruptedException {
        SequenceRecorder recorder = new SequenceRecorder(40, 300);
        EventRouter router = new EventRouter();
        router.onEverything(recorder);
        EventDispatcher dispatcher = dispatcher(router, DeliveryOptions.builder().threads(4).maxQueuedEvents(40 * 300).build());
        for (EslEvent event : recorder.interleaved()) {
            dispatcher.dispatch(event);
        }
        recorder.awaitAllInOrder(dispatcher);
        assertTrue("expected more than one delivery thread", recorder.threads.size() > 1);
    }

    @Test
    public void aBlockedChannelDoesNotStallOthers() throws InterruptedException {
        EventRouter router = new EventRouter();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blockedEntered = new CountDownLatch(1);
        CountDownLatch othersDone = new CountDownLatch(10);
        router.onChannel("slow", event -> {
            blockedEntered.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
        });
        router.onEvent("CHANNEL_ANSWER", event -> othersDone.countDown());
        EventDispatcher dispatcher = dispatcher(router, DeliveryOptions.builder().threads(2).build());
        dispatcher.dispatch(event("CHANNEL_PARK", "slow", 0));
        assertTrue(blockedEntered.await(10, TimeUnit.SECONDS));
        for (int c = 0; c < 10; c++) {
            dispatcher.dispatch(event("CHANNEL_ANSWER", "fast-" + c, 0));
        }
        assertTrue("other channels stalled: " + dispatcher.stats(), othersDone.await(10, TimeUnit.SECONDS));
        release.countDown();
    }

    @Test
    public void overflowDropsOrdinaryEventsButCallEndingOnesWaitForRoom() throws InterruptedException {
        List<Runnable> tasks = new CopyOnWriteArrayList<>();
        EventRouter router = new EventRouter();
        List<String> delivered = new CopyOnWriteArrayList<>();
        router.onEverything(event -> delivered.add(event.eventName()));
        EventDispatcher dispatcher = dispatcher(router,
                DeliveryOptions.builder().executor(tasks::add).maxQueuedEvents(4).criticalReserve(3).build());
        for (int i = 0; i < 10; i++) {
            dispatcher.dispatch(event("CHANNEL_STATE", "c", i));
        }
        dispatcher.dispatch(event("CHANNEL_HANGUP", "c", 10));
        dispatcher.dispatch(event("CHANNEL_HANGUP_COMPLETE", "c", 11));
        dispatcher.dispatch(event("BACKGROUND_JOB", null, 12));
        DeliveryStats stats = dispatcher.stats();
        assertEquals(7, stats.queueDepth());
        assertEquals(6, stats.dropped());
        assertEquals(3, stats.keptOverBound());
        // The reserve is full: the next call-ending event waits (pushing back on the reader)
        // until delivery makes room, instead of being dropped.
        Thread reader = new Thread(() -> dispatcher.dispatch(event("CHANNEL_DESTROY", "c", 13)));
        reader.start();
        while (!tasks.isEmpty()) {
            tasks.remove(0).run();
        }
        reader.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse("the waiting reader got room", reader.isAlive());
        while (!tasks.isEmpty()) {
            tasks.remove(0).run();
        }
        assertEquals(8, delivered.size());
        assertTrue(delivered.containsAll(Arrays.asList("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB",
                "CHANNEL_DESTROY")));
        stats = dispatcher.stats();
        assertEquals(0, stats.queueDepth());
        assertEquals(6, stats.dropped());
        assertEquals(0, stats.criticalDropped());
    }

    @Test
    public void aClosedDispatcherCountsCallEndingEventsApart() {
        EventDispatcher dispatcher = dispatcher(new EventRouter(), DeliveryOptions.builder().executor(task -> { }).build());
        dispatcher.close();
        dispatcher.dispatch(event("CHANNEL_HANGUP", "c", 0));
        dispatcher.dispatch(event("CHANNEL_STATE", "c", 1));
        assertEquals(1, dispatcher.stats().criticalDropped());
        assertEquals(1, dispatcher.stats().dropped());
    }

    @Test
    public void blockPolicyWaitsForRoomThenGivesUp() throws InterruptedException {
        EventRouter router = new EventRouter();
        CountDownLatch release = new CountDownLatch(1);
        router.onEverything(event -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
        });
        EventDispatcher dispatcher = dispatcher(router, blocking(1, 1, java.time.Duration.ofMillis(50)));
        dispatcher.dispatch(event("CHANNEL_STATE", "c", 0));
        dispatcher.dispatch(event("CHANNEL_STATE", "c", 1)); // waits 50 ms, then drops
        assertEquals(1, dispatcher.stats().dropped());
        release.countDown();
    }

    @Test
    public void listenerFailuresAreCountedAndDeliveryGoesOn() throws InterruptedException {
        EventRouter router = new EventRouter();
        CountDownLatch sentinel = new CountDownLatch(1);
        AtomicInteger afterFailure = new AtomicInteger();
        router.onEvent("A", event -> {
            throw new IllegalStateException("listener bug");
        });
        router.onEvent("A", event -> afterFailure.incrementAndGet());
        router.onEvent("B", event -> {
            throw new IllegalStateException("listener bug");
        });
        router.onEvent("C", event -> sentinel.countDown());
        EventDispatcher dispatcher = dispatcher(router, DeliveryOptions.builder().threads(1).build());
        dispatcher.dispatch(event("A", "c", 0));
        dispatcher.dispatch(event("B", "c", 1));
        dispatcher.dispatch(event("C", "c", 2)); // same lane: A and B are fully counted before C runs
        assertTrue(sentinel.await(10, TimeUnit.SECONDS));
        assertEquals(2, dispatcher.stats().listenerFailures());
        assertEquals(1, afterFailure.get());
    }

    @Test
    public void routerMatchesByNameSubclassChannelAndJob() {
        EventRouter router = new EventRouter();
        AtomicInteger byName = new AtomicInteger();
        AtomicInteger bySubclass = new AtomicInteger();
        AtomicInteger byChannel = new AtomicInteger();
        AtomicInteger byJob = new AtomicInteger();
        router.onEvent("channel_answer", event -> byName.incrementAndGet());
        router.onEvent("sofia::register", event -> bySubclass.incrementAndGet());
        Subscription channel = router.onChannel("u1", event -> byChannel.incrementAndGet());
        router.onJob("j1", event -> byJob.incrementAndGet());
        router.route(EslEvent.builder().header("Event-Name", "CHANNEL_ANSWER").header("Unique-ID", "u1").build());
        router.route(EslEvent.builder().header("Event-Name", "CUSTOM").header("Event-Subclass", "sofia::register").build());
        router.route(EslEvent.builder().header("Event-Name", "BACKGROUND_JOB").header("Job-UUID", "j1").build());
        channel.close();
        channel.close();
        router.route(EslEvent.builder().header("Event-Name", "CHANNEL_HANGUP").header("Unique-ID", "u1").build());
        assertEquals(1, byName.get());
        assertEquals(1, bySubclass.get());
        assertEquals(1, byChannel.get());
        assertEquals(1, byJob.get());
    }

    @Test
    public void closedDispatcherDropsAndCounts() {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            EventDispatcher dispatcher = new EventDispatcher(new EventRouter(), DeliveryOptions.builder().executor(pool).build(), "t");
            dispatcher.close();
            dispatcher.dispatch(event("A", "c", 0));
            assertEquals(1, dispatcher.stats().dropped());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void batchesKeepEachChannelsOrderAndBlockNeverLosesWhenTheBatchExceedsTheBound() throws InterruptedException {
        SequenceRecorder recorder = new SequenceRecorder(3, 200);
        EventRouter router = new EventRouter();
        router.onEverything(recorder);
        // A bound far below the batch: the reader must hand over what it holds before it waits.
        EventDispatcher dispatcher = dispatcher(router, blocking(2, 8, java.time.Duration.ofSeconds(30)));
        List<EslEvent> envelopes = new ArrayList<>();
        dispatcher.dispatchEvents(batchOf(recorder.interleaved()), (kind, item) -> envelopes.add(item));
        recorder.awaitAllInOrder(dispatcher);
        assertTrue(envelopes.isEmpty());
    }

    @Test
    public void batchedLaneYieldsToOtherLanesAndEnvelopesFollowTheEventsBeforeThem() {
        List<Runnable> tasks = new ArrayList<>();
        EventRouter router = new EventRouter();
        List<String> delivered = new ArrayList<>();
        router.onEverything(event -> delivered.add(event.uniqueId()));
        EventDispatcher dispatcher = dispatcher(router, DeliveryOptions.builder().executor(tasks::add).build());
        List<EslEvent> batch = new ArrayList<>();
        int longLane = 100;
        for (int i = 0; i < longLane; i++) {
            batch.add(event("CHANNEL_STATE", "a", i));
        }
        batch.add(event("CHANNEL_STATE", "b", 0));
        batch.add(EslEvent.builder().header("Content-Type", "text/disconnect-notice").build());
        batch.add(event("CHANNEL_STATE", "c", 0));
        List<Integer> lanesStartedAtEnvelope = new ArrayList<>();
        dispatcher.dispatchEvents(batchOf(batch), (kind, envelope) -> lanesStartedAtEnvelope.add(tasks.size()));
        assertEquals("lanes a and b are started before the envelope", Collections.singletonList(2), lanesStartedAtEnvelope);
        assertEquals(3, tasks.size());
        assertEquals(longLane + 2, dispatcher.stats().queueDepth());
        while (!tasks.isEmpty()) {
            tasks.remove(0).run();
        }
        assertEquals(longLane + 2, delivered.size());
        // Lane a delivers one turn's worth, then b and c run before a's rest.
        int turn = delivered.indexOf("b");
        assertTrue("a did not yield: b at " + turn, turn > 0 && turn < longLane);
        assertEquals(turn + 1, delivered.indexOf("c"));
        assertEquals(0, dispatcher.stats().queueDepth());
        assertEquals(longLane + 2, dispatcher.stats().delivered());
    }

    /** A poll batch of {@code items}: those without an Event-Name are disconnect notices. */
    private static FrameCodec.Batch batchOf(List<EslEvent> items) {
        byte[] kinds = new byte[items.size()];
        for (int i = 0; i < kinds.length; i++) {
            kinds[i] = (byte) (items.get(i).eventName() == null ? FrameCodec.KIND_DISCONNECT_NOTICE : FrameCodec.KIND_EVENT);
        }
        return new FrameCodec.Batch(kinds, items.toArray(new EslEvent[0]));
    }
}
