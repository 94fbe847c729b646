package org.esl4j;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.esl4j.internal.EventInbox;
import org.esl4j.internal.Log;
import org.esl4j.internal.WireEvent;

/**
 * The {@link EventViewListener}s of one client, the generation that bounds each {@link EventView}
 * to its listener call, and the reading thread's spare batch array. Everything but registration
 * runs on the reading thread only.
 *
 * <p>The spare array: a batch is polled into it while view listeners exist, and it is kept for the
 * next poll only if no {@link EslEvent} was made from any frame of the batch (an event keeps its
 * batch array and must stay valid however long it is kept). One spare is enough: the reading thread
 * handles one batch at a time. A batch that does not fit arrives in an array of its own; when no
 * event was made from it, that array becomes the spare if it is longer, up to {@link
 * EventInbox#MAX_SPARE_BYTES}, so the spare grows to the flood's batch size without an allocation
 * of its own.
 */
final class EventViews {
    private static final Log LOG = Log.of(EventViews.class);
    /** Failures logged with their stack after the first: one in this many. */
    private static final long LOG_EVERY = 1_000;

    private final List<Registration> listeners = new CopyOnWriteArrayList<>();
    /** The only thread on which a view may be read: the client's reading thread. */
    private final Thread reader;
    /** The generation of the live view; moved on when its listener calls end. */
    private int generation;
    private long failures;
    private byte[] spare;

    /** One registration; removal is by identity so the same listener may be added twice. */
    private final class Registration implements Subscription {
        final EventViewListener listener;

        Registration(EventViewListener listener) {
            this.listener = listener;
        }

        @Override
        public void close() {
            listeners.remove(this);
        }
    }

    EventViews(Thread reader) {
        this.reader = reader;
    }

    Subscription add(EventViewListener listener) {
        Registration registration = new Registration(Objects.requireNonNull(listener, "listener"));
        listeners.add(registration);
        return registration;
    }

    boolean isEmpty() {
        return listeners.isEmpty();
    }

    /**
     * Throws unless a view of {@code viewGeneration} may be read now.
     *
     * @throws IllegalStateException on another thread than the reader, or after the view's call
     */
    void check(int viewGeneration) {
        if (Thread.currentThread() != reader) {
            throw new IllegalStateException("an EventView is read only on the client's reading thread, during its"
                    + " listener call; keep view.toEvent() to use the event elsewhere");
        }
        if (viewGeneration != generation) {
            throw new IllegalStateException("an EventView is valid only during its listener call; keep"
                    + " view.toEvent() to use the event later");
        }
    }

    /** The view of one frame, live until {@link #close()}. */
    EventView open(WireEvent wire) {
        return new EventView(wire, this, generation);
    }

    /**
     * Hands the live view to every listener, in registration order.
     *
     * @return how many listeners threw
     */
    int deliver(EventView view) {
        int failed = 0;
        for (Registration registration : listeners) {
            try {
                registration.listener.onEvent(view);
            } catch (RuntimeException | LinkageError | AssertionError failure) {
                // A listener's bug must stop neither the reading thread nor the other listeners.
                failed++;
                if (failures++ % LOG_EVERY == 0) {
                    LOG.warn("an EventViewListener threw (" + failures + " so far; one in " + LOG_EVERY
                            + " is logged)", failure);
                }
            }
        }
        return failed;
    }

    /** Ends the live view: every later read of it throws. */
    void close() {
        generation++;
    }

    /**
     * The array to poll the next batch into.
     *
     * @return the spare, now in use, or null when there is none
     */
    byte[] takeSpare() {
        byte[] taken = spare;
        spare = null;
        return taken;
    }

    /**
     * Keeps an array for the next poll after a batch has been handled.
     *
     * @param offered what {@link #takeSpare()} returned for this batch
     * @param batch the array the batch arrived in: {@code offered}, or a new one
     * @param eventsMade whether an {@link EslEvent} was made from any frame of the batch
     */
    void recycle(byte[] offered, byte[] batch, boolean eventsMade) {
        spare = eventsMade && batch == offered ? null : offered;
        if (!eventsMade && batch != offered && batch.length <= EventInbox.MAX_SPARE_BYTES
                && (spare == null || batch.length > spare.length)) {
            spare = batch;
        }
    }
}
