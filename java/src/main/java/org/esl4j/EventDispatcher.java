package org.esl4j;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.esl4j.internal.NativeConnection;

/**
 * Delivers events to an {@link EventRouter}: one lane per channel ({@code Unique-ID}) so that a
 * channel's events stay in order, lanes running in parallel on the executor, the total queue
 * bounded by {@link DeliveryOptions}.
 */
final class EventDispatcher implements AutoCloseable {
    /** Events one lane delivers before it yields its thread to other lanes. */
    private static final int BATCH = 64;
    private static final String GLOBAL_LANE = "";
    /** How long one poll of a connection waits, so that a reader notices {@code stop} soon. */
    private static final long POLL_WAIT_MS = 200;

    private final EventRouter router;
    private final DeliveryOptions options;
    private final Executor executor;
    private final ExecutorService ownedPool;
    private final ConcurrentMap<String, Lane> lanes = new ConcurrentHashMap<>();
    private final AtomicInteger depth = new AtomicInteger();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
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

    /** An event waiting in a lane, with its arrival time for the lag counter. */
    private static final class Queued {
        final EslEvent event;
        final long arrivedNanos;

        Queued(EslEvent event, long arrivedNanos) {
            this.event = event;
            this.arrivedNanos = arrivedNanos;
        }
    }

    private final class Lane implements Runnable {
        final String key;
        final ArrayDeque<Queued> queue = new ArrayDeque<>();
        boolean running;
        boolean retired;

        Lane(String key) {
            this.key = key;
        }

        @Override
        public void run() {
            for (int i = 0; i < BATCH; i++) {
                Queued next;
                synchronized (this) {
                    next = queue.poll();
                    if (next == null) {
                        running = false;
                        retired = true;
                        lanes.remove(key, this);
                        return;
                    }
                }
                deliver(next);
            }
            reschedule(this);
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

    private static String laneKey(EslEvent event) {
        String channel = event.uniqueId();
        if (channel != null) {
            return channel;
        }
        String job = event.jobUuid();
        return job != null ? job : GLOBAL_LANE;
    }

    /**
     * The client's read loop: polls batches of up to {@code batch} items and dispatches the
     * events among them, handing every envelope (an item that is not an event, such as a
     * disconnect notice or a reconnect notice) to {@code envelopes} on the calling thread, in
     * stream order, until the connection ends or {@code stop} is true.
     */
    void dispatchUntilEnded(NativeConnection connection, int batch, BooleanSupplier stop, Consumer<EslEvent> envelopes) {
        while (!stop.getAsBoolean()) {
            List<EslEvent> items;
            try {
                items = connection.poll(batch, POLL_WAIT_MS);
            } catch (RuntimeException ended) {
                return;
            }
            if (items == null) {
                return;
            }
            dispatchEvents(items, envelopes);
        }
    }

    /**
     * Dispatches the events among polled items; envelopes (disconnect notices and the like) go to
     * {@code envelopes}.
     */
    void dispatchEvents(List<EslEvent> items, Consumer<EslEvent> envelopes) {
        for (EslEvent item : items) {
            if (item.eventName() != null) {
                dispatch(item);
            } else {
                envelopes.accept(item);
            }
        }
    }

    /** Queues one event for delivery, applying the overflow policy. Never throws. */
    void dispatch(EslEvent event) {
        if (closed || !admit(event)) {
            dropped.incrementAndGet();
            return;
        }
        Queued queued = new Queued(event, System.nanoTime());
        String key = laneKey(event);
        while (true) {
            Lane lane = lanes.computeIfAbsent(key, Lane::new);
            boolean start;
            synchronized (lane) {
                if (lane.retired) {
                    continue; // the lane just finished and left the map; take a fresh one
                }
                lane.queue.add(queued);
                start = !lane.running;
                lane.running = true;
            }
            if (start) {
                reschedule(lane);
            }
            return;
        }
    }

    /** Reserves room for the event in the total count, or says it must be dropped. */
    private boolean admit(EslEvent event) {
        int bound = options.maxQueuedEvents();
        if (tryReserve(bound)) {
            return true;
        }
        if (isCritical(event)) {
            if (tryReserve(bound + options.criticalReserve())) {
                keptOverBound.incrementAndGet();
                return true;
            }
            return false;
        }
        if (options.overflowPolicy() != OverflowPolicy.BLOCK) {
            return false;
        }
        long deadline = System.nanoTime() + options.blockTimeout().toNanos();
        synchronized (room) {
            // Counted before the check below: a delivery that frees room after it sees the count.
            waitingForRoom++;
            try {
                while (!tryReserve(bound)) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || closed) {
                        return false;
                    }
                    try {
                        TimeUnit.NANOSECONDS.timedWait(room, left);
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
            synchronized (lane) {
                lost = lane.queue.size();
                lane.queue.clear();
                lane.running = false;
                lane.retired = true;
                lanes.remove(lane.key, lane);
            }
            depth.addAndGet(-lost);
            dropped.addAndGet(lost);
        }
    }

    private void deliver(Queued queued) {
        long lag = System.nanoTime() - queued.arrivedNanos;
        maxLagNanos.accumulateAndGet(lag, Math::max);
        // Counted before the listeners run, so that a listener that has seen an event also sees
        // it counted in the stats.
        delivered.incrementAndGet();
        try {
            int failures = router.route(queued.event);
            if (failures > 0) {
                listenerFailures.addAndGet(failures);
            }
        } finally {
            depth.decrementAndGet();
            if (waitingForRoom > 0) {
                synchronized (room) {
                    room.notifyAll();
                }
            }
        }
    }

    DeliveryStats stats() {
        return new DeliveryStats(depth.get(), delivered.get(), dropped.get(), keptOverBound.get(),
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
