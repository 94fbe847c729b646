package org.esl4j.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.esl4j.ConnectionEvent;
import org.esl4j.EslClient;
import org.esl4j.EslException;
import org.esl4j.Subscription;

/**
 * Keeps every node connected and knows its health: connects each node on its own threads, wires a
 * new client in (call tracking, subscriptions, the application's listeners), follows the client's
 * connection events, and when the client gives up tries a new one every {@link
 * ClusterOptions#retryInterval()}. Nothing here waits for a dead node.
 */
final class NodeSupervisor {
    /** How long an idle connector thread lives; connects are rare once every node is up. */
    private static final long CONNECTOR_IDLE_SECONDS = 10;

    private final ClusterOptions options;
    private final List<Node> nodes;
    private final CallTracker tracker;
    private final EventFanOut fanOut;
    private final ScheduledExecutorService connector;
    private final StateNotices notices = new StateNotices();
    /** Notified on every state change, for {@link #awaitUp(int, Duration)}. */
    private final Object stateSignal = new Object();
    private volatile boolean closed;

    NodeSupervisor(ClusterOptions options, List<Node> nodes, CallTracker tracker, EventFanOut fanOut) {
        this.options = options;
        this.nodes = nodes;
        this.tracker = tracker;
        this.fanOut = fanOut;
        this.connector = newConnector(nodes.size());
    }

    /** A thread per node at most, so a node whose connect hangs until its timeout delays no other. */
    private static ScheduledExecutorService newConnector(int nodeCount) {
        AtomicInteger threadNumber = new AtomicInteger();
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(nodeCount, task -> {
                    Thread thread = new Thread(task, "esl4j-cluster-connect-" + threadNumber.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        executor.setKeepAliveTime(CONNECTOR_IDLE_SECONDS, TimeUnit.SECONDS);
        executor.allowCoreThreadTimeOut(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        return executor;
    }

    /** Connects every node in the background, in parallel. */
    void start() {
        for (Node node : nodes) {
            connector.execute(() -> connect(node));
        }
    }

    Subscription onNodeState(NodeStateListener listener) {
        return notices.add(listener);
    }

    boolean isClosed() {
        return closed;
    }

    private void connect(Node node) {
        if (closed) {
            return;
        }
        EslClient client;
        try {
            client = EslClient.connect(node.options);
        } catch (RuntimeException failed) {
            node.lastFailure = failed.toString();
            retryLater(node);
            return;
        }
        try {
            install(node, client);
        } catch (RuntimeException failed) {
            node.lastFailure = failed.toString();
            client.close();
            retryLater(node);
        }
    }

    /**
     * Wires a freshly connected client in: the call tracker first (so it has seen an event before
     * any application listener does), the connection watcher, the subscriptions, the application's
     * listeners; then the node is {@link NodeState#UP}.
     */
    private void install(Node node, EslClient client) {
        client.onAnyEvent(event -> tracker.track(node.name, event));
        client.onConnectionEvent(event -> connectionChanged(node, client, event));
        List<String> names = new ArrayList<>(CallTracker.TRACKED_EVENTS);
        names.addAll(fanOut.subscribedNames());
        awaitOnConnect(client.subscribe(names.toArray(new String[0])), node, "subscribe");
        long asOf = tracker.version();
        try {
            tracker.reconcile(node.name, awaitOnConnect(client.api(CallTracker.LIST_CHANNELS), node,
                    CallTracker.LIST_CHANNELS), asOf);
        } catch (RuntimeException listRefused) {
            // e.g. a userauth user without the permission: the map learns from events only.
        }
        if (!fanOut.attachNewClient(node, client, names, () -> goLive(node, client))) {
            return;
        }
        notices.tell();
        if (!client.isConnected() && !node.options.reconnect().enabled()) {
            // Lost, perhaps before its connection watcher could tell, and nothing will reconnect
            // it: start over with a new client. A reconnecting client is kept (its watcher sees
            // the outcome); closing it here lost the node for a retry interval whenever a server
            // went away just after the node came up.
            client.close();
        }
    }

    /**
     * Makes {@code client} the node's and the node UP (RECONNECTING if already lost); false (and
     * the client closed) once closed.
     */
    private boolean goLive(Node node, EslClient client) {
        synchronized (node) {
            if (closed) {
                client.close();
                return false;
            }
            node.client = client;
            node.lastFailure = null;
            // Lost meanwhile: the watcher may have heard DISCONNECTED before the node was this client's.
            transition(node, client.isConnected() ? NodeState.UP : NodeState.RECONNECTING);
            return true;
        }
    }

    private void connectionChanged(Node node, EslClient client, ConnectionEvent event) {
        try {
            nodeConnectionChanged(node, client, event);
        } finally {
            notices.tell();
        }
    }

    private void nodeConnectionChanged(Node node, EslClient client, ConnectionEvent event) {
        synchronized (node) {
            if (node.client != client) {
                return;
            }
            switch (event.type()) {
                case DISCONNECTED:
                    transition(node, NodeState.RECONNECTING);
                    return;
                case RECONNECTED:
                    // UP once the call map has caught up with the gap, below.
                    break;
                case OVERLOADED:
                    // The disconnect (or close) that follows moves the node; keep why for its health.
                    node.lastFailure = event.reason();
                    return;
                case CONNECTED:
                    // Sent only to clients made by connectInBackground; nodes connect in the foreground.
                    return;
                case CLOSED:
                default:
                    node.client = null;
                    node.lastFailure = event.reason();
                    if (!closed) {
                        transition(node, NodeState.DOWN);
                        retryLater(node);
                    }
                    return;
            }
        }
        catchUpAfterReconnect(node, client);
    }

    /** Replays the subscriptions and corrects the call map for the gap; then the node is UP. */
    private void catchUpAfterReconnect(Node node, EslClient client) {
        // The client replays what it had accepted; this also covers a subscribe that reached it
        // while it was reconnecting. Harmless when already subscribed.
        List<String> names = fanOut.subscribedNames();
        if (!names.isEmpty()) {
            client.subscribe(names.toArray(new String[0]));
        }
        long asOf = tracker.version();
        client.api(CallTracker.LIST_CHANNELS).whenComplete((list, failure) -> {
            if (failure == null) {
                tracker.reconcile(node.name, list, asOf);
            }
            synchronized (node) {
                if (node.client == client && client.isConnected()) {
                    transition(node, NodeState.UP);
                }
            }
            notices.tell();
        });
    }

    /**
     * Changes a node's state and queues the notice; the caller holds the node's monitor and tells
     * the notices once it released every lock.
     */
    private void transition(Node node, NodeState next) {
        NodeState previous = node.state;
        if (previous == next) {
            return;
        }
        node.state = next;
        notices.queue(node.name, previous, next);
        synchronized (stateSignal) {
            stateSignal.notifyAll();
        }
    }

    private void retryLater(Node node) {
        if (closed) {
            return;
        }
        try {
            connector.schedule(() -> connect(node), options.retryInterval().toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException shutDown) {
            // The cluster is closing.
        }
    }

    /** See {@link EslCluster#awaitUp(int, Duration)}. */
    boolean awaitUp(int count, Duration timeout) {
        if (count < 1 || count > nodes.size()) {
            throw new IllegalArgumentException("count must be 1 to " + nodes.size() + ": " + count);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (stateSignal) {
            while (!closed) {
                int up = 0;
                for (Node node : nodes) {
                    if (node.state == NodeState.UP) {
                        up++;
                    }
                }
                long left = deadline - System.nanoTime();
                if (up >= count) {
                    return true;
                }
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(stateSignal, left);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new EslException(EslException.Kind.INVALID_STATE, "awaitUp: interrupted");
                }
            }
            return false;
        }
    }

    /** Closes every node's client and stops reconnecting. Idempotent. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        connector.shutdownNow();
        for (Node node : nodes) {
            EslClient client;
            synchronized (node) {
                client = node.client;
                node.client = null;
                node.state = NodeState.DOWN;
            }
            if (client != null) {
                client.close();
            }
        }
        synchronized (stateSignal) {
            stateSignal.notifyAll();
        }
    }

    /** Waits for a command a new client runs before its node is up (on a connector thread). */
    private static <T> T awaitOnConnect(CompletableFuture<T> reply, Node node, String what) {
        try {
            return reply.get(node.options.commandTimeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException failed) {
            throw new EslException(EslException.Kind.COMMAND_FAILED, what + " on node " + node.name + " failed: " + failed, failed);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new EslException(EslException.Kind.INVALID_STATE, what + " on node " + node.name + ": interrupted");
        }
    }
}
