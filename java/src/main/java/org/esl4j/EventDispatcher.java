package org.esl4j;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import org.esl4j.internal.EventInbox;
import org.esl4j.internal.FrameCodec;
import org.esl4j.internal.WireEvent;

/**
 * Delivers events to an {@link EventRouter}: one lane per channel ({@code Unique-ID}) so that a
 * channel's events stay in order, lanes running in parallel on the executor, the total queue
 * bounded by {@link DeliveryOptions}.
 *
 * <p>Call-ending events ({@code isCritical}) are never dropped while the dispatcher is open: they
 * take the reserve above the bound, and when that is full too the reading thread waits for room.
 * That pushes back on the engine, which keeps reading while a command awaits its reply (replies
 * never travel this path), spills critical events and, at its own hard cap, closes the connection
 * with an overload notice ({@code FrameCodec.KIND_OVERLOADED}): memory stays bounded and nothing is lost silently.
 */
final class EventDispatcher implements AutoCloseable {
    /** Events one lane delivers before it yields its thread to other lanes. */
    private static final int BATCH = 64;
    private static final String GLOBAL_LANE = "";
    /** How long one poll of a connection waits, so that a reader notices {@code stop} soon. */
    private static final long POLL_WAIT_MS = 200;
    /** Longest single wait for room, so that a waiting reader notices {@link #close()}. */
    private static final long ROOM_WAIT_SLICE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final EventRouter router;
    private final DeliveryOptions options;
    private final Executor executor;
    private final ExecutorService ownedPool;
    private final ConcurrentMap<String, Lane> lanes = new ConcurrentHashMap<>();
    private final AtomicInteger depth = new AtomicInteger();
    private final LongAdder delivered = new LongAdder();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong criticalDropped = new AtomicLong();
    private final AtomicLong keptOverBound = new AtomicLong();
    private final AtomicLong listenerFailures = new AtomicLong();
    private final AtomicLong maxLagNanos = new AtomicLong();
    private final Object room = new Object();
    /**
     * Readers waiting on {@link #room}; changed under its lock. Delivery notifies only when one
     * waits, instead of taking the lock for every event.
     */
    private volatile int waitingForRoom;
    private volatile boolean closed;

    EventDispatcher(EventRouter router, DeliveryOptions options, String threadName) {
        this.router = router;
        this.options = options;
        if (options.executor() != null) {
            this.executor = options.executor();
            this.ownedPool = null;
        } else {
            AtomicInteger counter = new AtomicInteger();
            this.ownedPool = Executors.newFixedThreadPool(options.threads(), runnable -> {
                Thread thread = new Thread(runnable, threadName + "-" + counter.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
            this.executor = ownedPool;
        }
    }

    /**
     * Events of one lane from one poll batch, handed to the lane together: one queue operation
     * and at most one executor submission per lane and batch instead of per event.
     */
    private static final class Chunk {
        final List<EslEvent> events = new ArrayList<>();
        /** When the batch arrived; its events share this time for the lag counter. */
        final long arrivedNanos;

        Chunk(long arrivedNanos) {
            this.arrivedNanos = arrivedNanos;
        }
    }

    private final class Lane implements Runnable {
        final String key;
        final ArrayDeque<Chunk> queue = new ArrayDeque<>();
        boolean running;
        boolean retired;
        /**
         * The chunk being delivered and the index of its next event. Only the run in progress
         * uses them; the executor's hand-over orders each run after the previous one.
         */
        private Chunk current;
        private int position;

        Lane(String key) {
            this.key = key;
        }

        @Override
        public void run() {
            int budget = BATCH;
            while (budget > 0) {
                if (current == null) {
                    synchronized (this) {
                        current = queue.poll();
                        if (current == null) {
                            running = false;
                            retired = true;
                            lanes.remove(key, this);
                            return;
                        }
                    }
                    position = 0;
                }
                int start = position;
                int end = Math.min(current.events.size(), start + budget);
                try {
                    while (position < end) {
                        deliver(current.events.get(position));
                        position++;
                    }
                } finally {
                    released(position - start, current.arrivedNanos);
                }
                budget -= end - start;
                if (position == current.events.size()) {
                    current = null;
                }
            }
            reschedule(this);
        }

        /** Events held but not yet delivered; called under the lane's lock. */
        int undelivered() {
            int count = current == null ? 0 : current.events.size() - position;
            for (Chunk chunk : queue) {
                count += chunk.events.size();
            }
            return count;
        }

        /** Critical events held but not yet delivered; called under the lane's lock. */
        int undeliveredCritical() {
            int count = 0;
            if (current != null) {
                count += countCritical(current.events.subList(position, current.events.size()));
            }
            for (Chunk chunk : queue) {
                count += countCritical(chunk.events);
            }
            return count;
        }
    }

    static boolean isCritical(EslEvent event) {
        String name = event.eventName();
        if (name == null) {
            return false;
        }
        switch (name) {
            case "CHANNEL_HANGUP":
            case "CHANNEL_HANGUP_COMPLETE":
            case "CHANNEL_DESTROY":
            case "CHANNEL_EXECUTE_COMPLETE":
            case "BACKGROUND_JOB":
                return true;
            default:
                return false;
        }
    }

    private static int countCritical(List<EslEvent> events) {
        int count = 0;
        for (EslEvent event : events) {
            if (isCritical(event)) {
                count++;
            }
        }
        return count;
    }

    private static String laneKey(EslEvent event) {
        String channel = event.uniqueId();
        if (channel != null) {
            return channel;
        }
        String job = event.jobUuid();
        return job != null ? job : GLOBAL_LANE;
    }

    /**
     * The client's read loop: takes batches from {@code inbox} and dispatches the events among
     * them, handing every other item (a disconnect notice, a reconnect notice, ...) to
     * {@code notices} on the calling thread, in stream order, until the inbox ends or {@code stop}
     * is true. While {@code views} has listeners, each event goes to them first, on this thread
     * ({@link #dispatchFrames}).
     */
    void dispatchUntilEnded(EventInbox inbox, BooleanSupplier stop, EventInbox.Notices notices, EventViews views) {
        while (!stop.getAsBoolean()) {
            if (!dispatchFrames(inbox, notices, views)) {
                return;
            }
        }
    }

    /**
     * Dispatches the events of a batch, each lane's share in one hand-over; the other items
     * (disconnect notices and the like) go to {@code notices} once every event before them is
     * queued.
     */
    void dispatchEvents(FrameCodec.Batch batch, EventInbox.Notices notices) {
        Map<String, Chunk> pending = new LinkedHashMap<>();
        for (int i = 0; i < batch.size(); i++) {
            offer(batch.kind(i), batch.item(i), pending, notices);
        }
        flush(pending);
    }

    /**
     * Takes one batch and dispatches its items as {@link #dispatchEvents} does, except that while
     * {@code views} has listeners (checked per event, so that a listener added during a poll sees
     * the events of that poll), each event goes to them first and is made into an {@link EslEvent}
     * and dispatched only if a regular listener wants it. The batch comes into the spare array of
     * {@code views} while it has listeners, and that array is reused for the next batch only if no
     * event was made from this one. Without view listeners every batch comes in a new array and
     * every event is dispatched, as before views existed.
     *
     * @return false once the inbox has ended
     */
    private boolean dispatchFrames(EventInbox inbox, EventInbox.Notices notices, EventViews views) {
        byte[] spare = views.takeSpare();
        if (views.isEmpty()) {
            // No view listener: no array is reused; a spare left from earlier ones is let go.
            spare = null;
        }
        FrameCodec.Frames frames = inbox.takeFrames(spare, POLL_WAIT_MS);
        if (frames == null) {
            return false;
        }
        Map<String, Chunk> pending = new LinkedHashMap<>();
        boolean eventsMade = false;
        for (WireEvent wire = nextFrame(inbox, frames, spare); wire != null; wire = nextFrame(inbox, frames, spare)) {
            int kind = frames.kindRead();
            if (kind == FrameCodec.KIND_EVENT && !views.isEmpty() && !wantedAfterViews(wire, views)) {
                continue;
            }
            eventsMade = true;
            offer(kind, EslEvent.fromWire(wire), pending, notices);
        }
        if (inbox.ended()) {
            flush(pending);
            return false;
        }
        flush(pending);
        if (!views.isEmpty()) {
            views.recycle(spare, frames.batch(), eventsMade);
        }
        return true;
    }

    /**
     * The next frame of {@code frames}, or null after the last one, or when the batch turns out
     * malformed (the inbox has then ended: a fault between the two sides, said loudly).
     */
    private static WireEvent nextFrame(EventInbox inbox, FrameCodec.Frames frames, byte[] spare) {
        try {
            if (frames.remaining() > 0) {
                return frames.next();
            }
            if (frames.batch() != spare) {
                // A batch in an array of its own ends with its last frame.
                frames.requireEnd();
            }
        } catch (IllegalArgumentException malformed) {
            inbox.malformed(malformed);
        }
        return null;
    }

    /**
     * Hands one event to the view listeners; returns whether a regular listener wants it too (it
     * must then be made into an {@link EslEvent}); if not, the views are its whole delivery.
     */
    private boolean wantedAfterViews(WireEvent wire, EventViews views) {
        EventView view = views.open(wire);
        try {
            boolean wanted = router.wants(view);
            if (!wanted) {
                // Counted before the views run, as a lane counts before its listeners run.
                delivered.increment();
            }
            int failures = views.deliver(view);
            if (failures > 0) {
                listenerFailures.addAndGet(failures);
            }
            return wanted;
        } finally {
            views.close();
        }
    }

    /** Queues one item of a batch for its lane, or hands a notice to {@code notices} in order. */
    private void offer(int kind, EslEvent item, Map<String, Chunk> pending, EventInbox.Notices notices) {
        if (kind != FrameCodec.KIND_EVENT) {
            flush(pending);
            notices.accept(kind, item);
        } else if (closed) {
            countDropped(item);
        } else if (tryReserve(options.maxQueuedEvents())) {
            pendingChunk(pending, laneKey(item)).events.add(item);
        } else {
            // The overflow path may wait for room: the lanes must first hold what is reserved.
            flush(pending);
            dispatch(item);
        }
    }

    private static Chunk pendingChunk(Map<String, Chunk> pending, String key) {
        Chunk chunk = pending.get(key);
        if (chunk == null) {
            chunk = new Chunk(System.nanoTime());
            pending.put(key, chunk);
        }
        return chunk;
    }

    private void flush(Map<String, Chunk> pending) {
        for (Map.Entry<String, Chunk> entry : pending.entrySet()) {
            enqueue(entry.getKey(), entry.getValue());
        }
        pending.clear();
    }

    /** Queues one event for delivery, applying the overflow policy. Never throws. */
    void dispatch(EslEvent event) {
        if (closed || !admit(event)) {
            countDropped(event);
            return;
        }
        Chunk chunk = new Chunk(System.nanoTime());
        chunk.events.add(event);
        enqueue(laneKey(event), chunk);
    }

    /** Hands admitted events to their lane, starting the lane if it is idle. */
    private void enqueue(String key, Chunk chunk) {
        while (true) {
            Lane lane = lanes.get(key);
            if (lane == null) {
                lane = lanes.computeIfAbsent(key, Lane::new);
            }
            boolean start;
            synchronized (lane) {
                if (lane.retired) {
                    continue; // the lane just finished and left the map; take a fresh one
                }
                lane.queue.add(chunk);
                start = !lane.running;
                lane.running = true;
            }
            if (start) {
                reschedule(lane);
            }
            return;
        }
    }

    private void countDropped(EslEvent event) {
        (isCritical(event) ? criticalDropped : dropped).incrementAndGet();
    }

    /**
     * Reserves room for the event in the total count, or says it must be dropped. A critical
     * event waits for room in the reserve for as long as the dispatcher is open.
     */
    private boolean admit(EslEvent event) {
        int bound = options.maxQueuedEvents();
        if (tryReserve(bound)) {
            return true;
        }
        if (isCritical(event)) {
            int reserve = bound + options.criticalReserve();
            if (tryReserve(reserve) || waitForRoom(reserve, Long.MAX_VALUE)) {
                keptOverBound.incrementAndGet();
                return true;
            }
            return false;
        }
        return options.overflowPolicy() == OverflowPolicy.BLOCK && waitForRoom(bound, options.blockTimeout().toNanos());
    }

    /** Waits until room below {@code limit} is reserved; false after {@code maxWaitNanos}, on close or interrupt. */
    private boolean waitForRoom(int limit, long maxWaitNanos) {
        long start = System.nanoTime();
        synchronized (room) {
            // Counted before the check below: a delivery that frees room after it sees the count.
            waitingForRoom++;
            try {
                while (!tryReserve(limit)) {
                    long left = maxWaitNanos - (System.nanoTime() - start);
                    if (left <= 0 || closed) {
                        return false;
                    }
                    try {
                        TimeUnit.NANOSECONDS.timedWait(room, Math.min(left, ROOM_WAIT_SLICE_NANOS));
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                }
                return true;
            } finally {
                waitingForRoom--;
            }
        }
    }

    private boolean tryReserve(int limit) {
        while (true) {
            int current = depth.get();
            if (current >= limit) {
                return false;
            }
            if (depth.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    private void reschedule(Lane lane) {
        try {
            executor.execute(lane);
        } catch (RejectedExecutionException rejected) {
            int lost;
            int criticalLost;
            synchronized (lane) {
                lost = lane.undelivered();
                criticalLost = lane.undeliveredCritical();
                lane.queue.clear();
                lane.current = null;
                lane.running = false;
                lane.retired = true;
                lanes.remove(lane.key, lane);
            }
            depth.addAndGet(-lost);
            dropped.addAndGet(lost - criticalLost);
            criticalDropped.addAndGet(criticalLost);
        }
    }

    private void deliver(EslEvent event) {
        // Counted before the listeners run, so that a listener that has seen an event also sees
        // it counted in the stats.
        delivered.increment();
        int failures = router.route(event);
        if (failures > 0) {
            listenerFailures.addAndGet(failures);
        }
    }

    /**
     * Frees the room of {@code count} delivered events of one chunk, once per run rather than per
     * event, and records their lag: the last of them waited longest, as they share one arrival.
     */
    private void released(int count, long arrivedNanos) {
        if (count == 0) {
            return;
        }
        long lag = System.nanoTime() - arrivedNanos;
        if (lag > maxLagNanos.get()) {
            maxLagNanos.accumulateAndGet(lag, Math::max);
        }
        depth.addAndGet(-count);
        if (waitingForRoom > 0) {
            synchronized (room) {
                room.notifyAll();
            }
        }
    }

    /** The counters of this dispatcher alone. */
    DeliveryStats stats() {
        return stats(0, 0, 0);
    }

    /**
     * The counters, with the drops and overloads of the engine's queue in front of this
     * dispatcher added (zero when there is no single connection, as for the outbound server).
     */
    DeliveryStats stats(long engineDropped, long engineCriticalDropped, long overloads) {
        return new DeliveryStats(depth.get(), delivered.sum(), dropped.get() + engineDropped,
                criticalDropped.get() + engineCriticalDropped, overloads, keptOverBound.get(),
                listenerFailures.get(), TimeUnit.NANOSECONDS.toMicros(maxLagNanos.get()));
    }

    /** Stops accepting events; the library's own pool finishes what is queued and ends. */
    @Override
    public void close() {
        closed = true;
        synchronized (room) {
            room.notifyAll();
        }
        if (ownedPool != null) {
            ownedPool.shutdown();
        }
    }
}
