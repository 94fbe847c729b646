package org.esl4j.internal;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Java owner of one native object ({@code Arc<T>} behind a {@code long}). Not API.
 *
 * <p>Rules that make it impossible to free native memory under a running call:
 * <ul>
 * <li>a call takes a lease with {@link #acquire()} and gives it back with {@link #release()} in a
 * {@code finally}; after {@link #close()} no new lease is granted;</li>
 * <li>{@link #close()} first asks the native side to shut down (so blocked calls return), and
 * the native object is destroyed exactly once, when the last lease is released.</li>
 * </ul>
 * An owner that is never closed is closed by a {@link PhantomReference} safety net after it
 * becomes unreachable, with a warning (Java 8 has no {@code Cleaner}).
 */
public abstract class NativeHandle implements AutoCloseable {
    private static final Log LOG = Log.of(NativeHandle.class);

    /** How a kind of native object shuts down and is freed. */
    public interface Lifecycle {
        /**
         * Stops the native object (closes sockets, wakes blocked calls). The handle stays valid.
         *
         * @param handle the native handle
         */
        void shutdown(long handle);

        /**
         * Frees the native object. Called exactly once, with no call in flight.
         *
         * @param handle the native handle
         */
        void destroy(long handle);
    }

    private final Cell cell;

    /**
     * Takes ownership of a native handle.
     *
     * @param handle a non-zero handle returned by a native constructor
     * @param lifecycle how to shut it down and free it
     */
    protected NativeHandle(long handle, Lifecycle lifecycle) {
        if (handle == 0) {
            throw new IllegalArgumentException("null native handle");
        }
        this.cell = new Cell(handle, lifecycle, getClass().getSimpleName());
        LeakGuard.register(this, cell);
    }

    /**
     * Takes a lease: the native object stays alive until the matching {@link #release()}.
     *
     * @return the handle to pass to native code
     * @throws org.esl4j.EslConnectionClosedException after {@link #close()}
     */
    protected final long acquire() {
        return cell.acquire();
    }

    /** Gives back a lease taken by {@link #acquire()}. */
    protected final void release() {
        cell.release();
    }

    /**
     * Whether {@link #close()} has been called.
     *
     * @return true once closed
     */
    public final boolean isClosed() {
        return cell.isClosed();
    }

    /** Shuts the native object down and frees it after the last running call. Idempotent. */
    @Override
    public void close() {
        cell.close();
    }

    /** The state shared with the leak guard; must not reference the owner. */
    static final class Cell {
        private static final int CLOSED = 1 << 30;
        private final long handle;
        private final Lifecycle lifecycle;
        private final String owner;
        /** Lease count (the owner holds one until close) plus the CLOSED bit. */
        private final AtomicInteger state = new AtomicInteger(1);

        Cell(long handle, Lifecycle lifecycle, String owner) {
            this.handle = handle;
            this.lifecycle = lifecycle;
            this.owner = owner;
        }

        long acquire() {
            while (true) {
                int current = state.get();
                if ((current & CLOSED) != 0) {
                    throw new org.esl4j.EslConnectionClosedException(owner + " is closed");
                }
                if (state.compareAndSet(current, current + 1)) {
                    return handle;
                }
            }
        }

        void release() {
            if (state.decrementAndGet() == CLOSED) {
                lifecycle.destroy(handle);
            }
        }

        boolean isClosed() {
            return (state.get() & CLOSED) != 0;
        }

        /**
         * Closes once.
         *
         * @return true if this call closed it
         */
        boolean close() {
            while (true) {
                int current = state.get();
                if ((current & CLOSED) != 0) {
                    return false;
                }
                if (state.compareAndSet(current, current | CLOSED)) {
                    break;
                }
            }
            try {
                lifecycle.shutdown(handle);
            } finally {
                release(); // the owner's lease
            }
            return true;
        }
    }

    /** Closes owners that were dropped without {@code close()}. */
    static final class LeakGuard extends PhantomReference<Object> {
        private static final ReferenceQueue<Object> QUEUE = new ReferenceQueue<>();
        /** Keeps the phantom references themselves reachable until processed. */
        private static final Set<LeakGuard> PENDING = Collections.synchronizedSet(
                Collections.newSetFromMap(new IdentityHashMap<LeakGuard, Boolean>()));
        private static Thread reaper;
        private final Cell cell;

        private LeakGuard(Object owner, Cell cell) {
            super(owner, QUEUE);
            this.cell = cell;
        }

        static void register(Object owner, Cell cell) {
            PENDING.add(new LeakGuard(owner, cell));
            startReaper();
        }

        private static synchronized void startReaper() {
            if (reaper != null) {
                return;
            }
            reaper = new Thread(LeakGuard::reap, "esl4j-leak-guard");
            reaper.setDaemon(true);
            reaper.start();
        }

        private static void reap() {
            while (true) {
                Reference<?> reference;
                try {
                    reference = QUEUE.remove(60_000L);
                } catch (InterruptedException e) {
                    return;
                }
                if (reference instanceof LeakGuard) {
                    LeakGuard guard = (LeakGuard) reference;
                    PENDING.remove(guard);
                    try {
                        if (guard.cell.close()) {
                            LOG.warn(guard.cell.owner + " was not closed; closed by the garbage collector");
                        }
                    } catch (RuntimeException e) {
                        LOG.warn("closing a leaked " + guard.cell.owner + " failed", e);
                    }
                }
            }
        }
    }
}
