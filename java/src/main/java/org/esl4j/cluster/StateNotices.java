package org.esl4j.cluster;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.esl4j.Subscription;

/**
 * The {@link NodeStateListener}s of a cluster and the node state changes not yet told to them.
 * Changes are queued while a node's monitor is held and told after every lock is released, one
 * thread at a time and in the order they happened, so a listener may call back into the cluster.
 */
final class StateNotices {
    private final List<NodeStateListener> listeners = new CopyOnWriteArrayList<>();
    private final Queue<Runnable> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean telling = new AtomicBoolean();

    Subscription add(NodeStateListener listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** Queues a change; may be called under any lock. */
    void queue(String node, NodeState previous, NodeState next) {
        pending.add(() -> {
            for (NodeStateListener listener : listeners) {
                try {
                    listener.onNodeState(node, previous, next);
                } catch (RuntimeException ignored) {
                    // A listener's bug must not stop health tracking.
                }
            }
        });
    }

    /** Tells the queued changes; the caller holds no lock. */
    void tell() {
        while (!pending.isEmpty() && telling.compareAndSet(false, true)) {
            try {
                Runnable notice;
                while ((notice = pending.poll()) != null) {
                    notice.run();
                }
            } finally {
                telling.set(false);
            }
        }
    }
}
