package org.esl4j.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.esl4j.ClientOptions;
import org.esl4j.ConnectionEvent;
import org.esl4j.EslClient;
import org.esl4j.EslEvent;
import org.esl4j.EslException;
import org.esl4j.EventListener;
import org.esl4j.HangupCause;
import org.esl4j.Subscription;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.dial.OriginateResult;
import org.esl4j.internal.Words;

/**
 * One client for several FreeSWITCH servers: originates placed on a healthy node, commands for a
 * call sent to the node that owns it, the events of every node merged and tagged with their node,
 * and (with {@link ClusterOptions.Builder#shard(int, int)}) each call's events handled by exactly
 * one of several application instances.
 *
 * <pre>{@code
 * try (EslCluster cluster = EslCluster.start(ClusterOptions.builder()
 *         .node("fs1", ClientOptions.builder().host("10.0.0.5").build())
 *         .node("fs2", ClientOptions.builder().host("10.0.0.6").build())
 *         .placement(Placement.LEAST_ACTIVE_CALLS).build())) {
 *     cluster.awaitUp(1, Duration.ofSeconds(5));
 *     cluster.onEvent("CHANNEL_ANSWER", e -> System.out.println(e.node() + " answered " + e.event().uniqueId()));
 *     cluster.subscribe("CHANNEL_ANSWER").get(5, TimeUnit.SECONDS);
 *     PlacedOriginate call = cluster.originate(OriginateRequest.to(Endpoint.user("1000")).build()).get(90, TimeUnit.SECONDS);
 *     cluster.hangup(call.result().channelUuid(), HangupCause.NORMAL_CLEARING);   // goes to call.node()
 * }
 * }</pre>
 *
 * <p>Each node has its own {@link EslClient}, which reconnects by the node's {@link
 * org.esl4j.ReconnectPolicy}; when it gives up, or the node cannot be reached at all, the cluster
 * tries a new client every {@link ClusterOptions#retryInterval()} on its own threads. Nothing the
 * cluster does waits for a dead node: {@link #start(ClusterOptions)} returns at once and connects
 * in the background, originates go only to nodes that are {@link NodeState#UP}.
 *
 * <p><b>The call map.</b> The cluster learns which node owns each call UUID: from the leg UUIDs
 * of the originates it sends (chosen before sending, so a ringing call can already be hung up),
 * and from every node's {@code CHANNEL_CREATE}; a {@code CHANNEL_HANGUP_COMPLETE} removes the
 * entry. Each time a node connects or reconnects, its {@code show channels} list corrects the map
 * for what happened while no events came (calls already up are routable from the start). The
 * map is bounded ({@link ClusterOptions#maxTrackedCalls()}, oldest forgotten first). A command
 * for a UUID not in the map fails with {@link UnknownCallException}; it is never broadcast or
 * sent to a guessed node.
 *
 * <p>Thread-safe. {@link #close()} closes every node's client.
 */
public final class EslCluster implements AutoCloseable {
    /** Events every node is subscribed to, for the call map and the channel counts. */
    private static final List<String> TRACKED_EVENTS = Arrays.asList("CHANNEL_CREATE", "CHANNEL_HANGUP_COMPLETE");
    /** The node's channels, to correct the call map after a connect or a gap. */
    private static final String LIST_CHANNELS = "show channels";
    /** How long an idle connector thread lives; connects are rare once every node is up. */
    private static final long CONNECTOR_IDLE_SECONDS = 10;

    private final ClusterOptions options;
    /** In configuration order: round robin and tie breaks follow it. */
    private final List<Node> nodes;
    private final Map<String, Node> nodesByName;
    private final CallRegistry calls;
    private final ScheduledExecutorService connector;
    private final AtomicInteger roundRobin = new AtomicInteger();
    private final List<NodeStateListener> stateListeners = new CopyOnWriteArrayList<>();
    /**
     * State changes not yet told to the listeners, in the order they happened. They are queued
     * while a node's monitor is held and told after every lock is released, so a listener may call
     * back into the cluster.
     */
    private final Queue<Runnable> stateNotices = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean noticesRunning = new AtomicBoolean();
    /** Notified on every state change, for {@link #awaitUp(int, Duration)}. */
    private final Object stateSignal = new Object();
    /**
     * Guards {@link #registrations}, {@link #subscribed} and the install of a node's client, so a
     * listener or subscription added at any time reaches every client exactly once. Taken before a
     * node's monitor, never after.
     */
    private final Object lock = new Object();
    private final List<Registration> registrations = new ArrayList<>();
    private final Set<String> subscribed = new LinkedHashSet<>();
    private volatile boolean closed;

    private EslCluster(ClusterOptions options) {
        this.options = options;
        List<Node> configured = new ArrayList<>();
        Map<String, Node> byName = new HashMap<>();
        for (Map.Entry<String, ClientOptions> entry : options.nodes().entrySet()) {
            Node node = new Node(entry.getKey(), entry.getValue());
            configured.add(node);
            byName.put(node.name, node);
        }
        this.nodes = Collections.unmodifiableList(configured);
        this.nodesByName = Collections.unmodifiableMap(byName);
        this.calls = new CallRegistry(options.maxTrackedCalls());
        AtomicInteger threadNumber = new AtomicInteger();
        // A thread per node at most, so a node whose connect hangs until its timeout delays no other.
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(configured.size(), task -> {
                    Thread thread = new Thread(task, "esl4j-cluster-connect-" + threadNumber.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        executor.setKeepAliveTime(CONNECTOR_IDLE_SECONDS, TimeUnit.SECONDS);
        executor.allowCoreThreadTimeOut(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.connector = executor;
    }

    /**
     * Starts the cluster: every node is connected in the background, in parallel; this returns at
     * once. Wait for nodes with {@link #awaitUp(int, Duration)} or {@link
     * #onNodeState(NodeStateListener)}.
     *
     * @param options the nodes and settings
     * @return the running cluster
     */
    public static EslCluster start(ClusterOptions options) {
        Objects.requireNonNull(options, "options");
        EslCluster cluster = new EslCluster(options);
        for (Node node : cluster.nodes) {
            cluster.connector.execute(() -> cluster.connect(node));
        }
        return cluster;
    }

    // ---- node lifecycle -------------------------------------------------------------------------

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
        client.onAnyEvent(event -> track(node.name, event));
        client.onConnectionEvent(event -> connectionChanged(node, client, event));
        List<String> names = new ArrayList<>(TRACKED_EVENTS);
        synchronized (lock) {
            names.addAll(subscribed);
        }
        awaitOnConnect(client.subscribe(names.toArray(new String[0])), node, "subscribe");
        long asOf = calls.version();
        try {
            reconcile(node, awaitOnConnect(client.api(LIST_CHANNELS), node, LIST_CHANNELS), asOf);
        } catch (RuntimeException listRefused) {
            // e.g. a userauth user without the permission: the map learns from events only.
        }
        synchronized (lock) {
            List<String> late = new ArrayList<>(subscribed);
            late.removeAll(names);
            if (!late.isEmpty()) {
                // Added while the first subscribe was on the wire; the client replays it once accepted.
                client.subscribe(late.toArray(new String[0]));
            }
            for (Registration registration : registrations) {
                registration.attach(node, client);
            }
            synchronized (node) {
                if (closed) {
                    client.close();
                    return;
                }
                node.client = client;
                node.lastFailure = null;
                transition(node, NodeState.UP);
            }
        }
        tellStateListeners();
        if (!client.isConnected()) {
            // Lost before its connection watcher could tell: start over with a new client.
            client.close();
        }
    }

    private void connectionChanged(Node node, EslClient client, ConnectionEvent event) {
        try {
            nodeConnectionChanged(node, client, event);
        } finally {
            tellStateListeners();
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
        // The client replays what it had accepted; this also covers a subscribe that reached it
        // while it was reconnecting. Harmless when already subscribed.
        List<String> names;
        synchronized (lock) {
            names = new ArrayList<>(subscribed);
        }
        if (!names.isEmpty()) {
            client.subscribe(names.toArray(new String[0]));
        }
        long asOf = calls.version();
        client.api(LIST_CHANNELS).whenComplete((list, failure) -> {
            if (failure == null) {
                reconcile(node, list, asOf);
            }
            synchronized (node) {
                if (node.client == client && client.isConnected()) {
                    transition(node, NodeState.UP);
                }
            }
            tellStateListeners();
        });
    }

    /**
     * Hang-ups and new calls during a gap reached no listener: the node's channel list (the first
     * column of {@code show channels}) corrects the call map. A refused list changes nothing.
     */
    private void reconcile(Node node, String channelList, long asOf) {
        if (channelList.startsWith("-")) {
            return;
        }
        Set<String> live = new HashSet<>();
        for (String line : channelList.split("\n")) {
            int comma = line.indexOf(',');
            String first = (comma < 0 ? line : line.substring(0, comma)).trim();
            if (comma > 0 && !first.equals("uuid") && first.indexOf(' ') < 0) {
                live.add(first);
            }
        }
        calls.reconcile(node.name, live, asOf);
    }

    /**
     * Changes a node's state and queues the notice; the caller holds the node's monitor and calls
     * {@link #tellStateListeners()} once it released every lock.
     */
    private void transition(Node node, NodeState next) {
        NodeState previous = node.state;
        if (previous == next) {
            return;
        }
        node.state = next;
        stateNotices.add(() -> {
            for (NodeStateListener listener : stateListeners) {
                try {
                    listener.onNodeState(node.name, previous, next);
                } catch (RuntimeException ignored) {
                    // A listener's bug must not stop health tracking.
                }
            }
        });
        synchronized (stateSignal) {
            stateSignal.notifyAll();
        }
    }

    /** Tells queued state changes, one thread at a time, in order; the caller holds no lock. */
    private void tellStateListeners() {
        while (!stateNotices.isEmpty() && noticesRunning.compareAndSet(false, true)) {
            try {
                Runnable notice;
                while ((notice = stateNotices.poll()) != null) {
                    notice.run();
                }
            } finally {
                noticesRunning.set(false);
            }
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

    private void track(String node, EslEvent event) {
        String uuid = event.uniqueId();
        if (uuid == null) {
            return;
        }
        String name = event.eventName();
        if ("CHANNEL_CREATE".equals(name)) {
            calls.created(uuid, node);
        } else if ("CHANNEL_HANGUP_COMPLETE".equals(name)) {
            calls.hungUp(uuid, node);
        }
    }

    // ---- originate ------------------------------------------------------------------------------

    /**
     * Originates on a healthy node chosen by the {@link ClusterOptions#placement() placement}.
     *
     * <p>Fail-over: if the originate could not be sent to the chosen node at all (the node lost
     * its connection just before, or its client refused the command for a local limit, {@link
     * EslException.Kind#OVERLOADED}), it goes to the next healthy node. Once the command may have
     * reached a FreeSWITCH, it is never sent to another: a call may already be ringing there, and
     * dialing again would ring the callee twice (a connection that drops after the command was
     * written, or a reply that times out, says nothing about whether the call exists). Such a
     * failure completes the future exceptionally, naming the node; the request's leg UUIDs stay
     * routed to that node, so the application can look the call up or hang it up with {@link
     * #hangup(String, HangupCause)}. A failed call ({@code -ERR NO_ANSWER} and the like) is an
     * outcome, not a send failure: it is returned, not retried elsewhere.
     *
     * @param request the originate; its leg UUIDs are known before sending
     * @return the outcome and the node; fails with {@link NodeUnavailableException} when no node
     *     could take it (nothing was sent), or with the node's failure when the outcome is unknown
     */
    public CompletableFuture<PlacedOriginate> originate(OriginateRequest request) {
        Objects.requireNonNull(request, "request");
        List<String> legs = new ArrayList<>(request.legUuids());
        BridgeRequest second = request.application().bridgeRequest();
        if (second != null) {
            legs.addAll(second.legUuids());
        }
        CompletableFuture<PlacedOriginate> placed = new CompletableFuture<>();
        place(request, legs, candidates(), 0, new ArrayList<String>(), placed);
        return placed;
    }

    /** The healthy nodes, in the order the placement tries them. */
    private List<Node> candidates() {
        List<Node> healthy = new ArrayList<>();
        for (Node node : nodes) {
            if (node.usableClient() != null) {
                healthy.add(node);
            }
        }
        if (healthy.size() < 2) {
            return healthy;
        }
        if (options.placement() == Placement.ROUND_ROBIN) {
            Collections.rotate(healthy, -Math.floorMod(roundRobin.getAndIncrement(), healthy.size()));
        } else {
            Map<Node, Integer> load = new LinkedHashMap<>();
            for (Node node : healthy) {
                load.put(node, calls.channels(node.name));
            }
            // A stable sort: equal loads keep the configuration order.
            healthy.sort(Comparator.comparing(load::get));
        }
        return healthy;
    }

    private void place(OriginateRequest request, List<String> legs, List<Node> candidates, int first,
            List<String> skipped, CompletableFuture<PlacedOriginate> placed) {
        for (int index = first; index < candidates.size(); index++) {
            Node node = candidates.get(index);
            EslClient client = node.usableClient();
            if (client == null) {
                skipped.add(node.describeState());
                continue;
            }
            // Counted and routable from now on: the call may ring before its events arrive.
            calls.expect(legs, node.name);
            int next = index + 1;
            client.originate(request).whenComplete((result, failure) -> {
                if (failure == null) {
                    settle(node, legs, result);
                    placed.complete(new PlacedOriginate(node.name, result));
                } else if (notSent(failure)) {
                    calls.dropUnconfirmed(legs, node.name);
                    skipped.add(node.name + " refused it: " + unwrap(failure).getMessage());
                    place(request, legs, candidates, next, skipped, placed);
                } else {
                    placed.completeExceptionally(outcomeUnknown(node.name, legs, failure));
                }
            });
            return;
        }
        for (Node node : nodes) {
            if (!candidates.contains(node)) {
                skipped.add(node.describeState());
            }
        }
        placed.completeExceptionally(new NodeUnavailableException(
                "no healthy node could take the originate, so it was not sent: " + String.join("; ", skipped)));
    }

    private void settle(Node node, List<String> legs, OriginateResult result) {
        if (result.succeeded() && result.channelUuid() != null) {
            calls.created(result.channelUuid(), node.name);
        }
        calls.dropUnconfirmed(legs, node.name);
    }

    /** Whether the client refused the command before writing it (see {@link #originate}). */
    private static boolean notSent(Throwable failure) {
        Throwable cause = unwrap(failure);
        return cause instanceof EslException && ((EslException) cause).kind() == EslException.Kind.OVERLOADED;
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    private static Throwable outcomeUnknown(String node, List<String> legs, Throwable failure) {
        Throwable cause = unwrap(failure);
        if (!(cause instanceof EslException) || ((EslException) cause).kind() == EslException.Kind.INVALID_COMMAND) {
            return cause;
        }
        EslException explained = EslException.of(((EslException) cause).kind(), "originate on node " + node + ": "
                + cause.getMessage() + "; not tried on another node, since the call may exist on " + node
                + " (its UUIDs " + legs + " stay routed there)");
        explained.initCause(cause);
        return explained;
    }

    // ---- commands by call UUID ------------------------------------------------------------------

    /**
     * The node that owns a call.
     *
     * @param callUuid a channel UUID
     * @return the node's name, or null when the call is unknown
     */
    public String nodeOf(String callUuid) {
        return calls.ownerOf(requireUuid(callUuid));
    }

    /**
     * {@code api <command>} on the node that owns {@code callUuid}, e.g. {@code apiForCall(uuid,
     * "uuid_getvar " + uuid + " sip_call_id")}.
     *
     * @param callUuid the call that decides the node
     * @param command the API command and arguments
     * @return the output; fails with {@link UnknownCallException} or {@link
     *     NodeUnavailableException} without sending anything
     */
    public CompletableFuture<String> apiForCall(String callUuid, String command) {
        Objects.requireNonNull(command, "command");
        return routed(callUuid, client -> client.api(command));
    }

    /**
     * {@code bgapi <command>} on the node that owns {@code callUuid}.
     *
     * @param callUuid the call that decides the node
     * @param command the API command and arguments
     * @return the job's output; fails with {@link UnknownCallException} or {@link
     *     NodeUnavailableException} without sending anything
     */
    public CompletableFuture<String> bgapiForCall(String callUuid, String command) {
        Objects.requireNonNull(command, "command");
        return routed(callUuid, client -> client.bgapi(command));
    }

    /**
     * Runs a dialplan application on a call, on the node that owns it (see {@link
     * EslClient#execute(String, String, String, Duration)}).
     *
     * @param callUuid the channel
     * @param app the application, e.g. {@code "playback"}
     * @param arg its argument, or null
     * @param timeout how long the application may run
     * @return its CHANNEL_EXECUTE_COMPLETE; fails with {@link UnknownCallException} or {@link
     *     NodeUnavailableException} without sending anything
     */
    public CompletableFuture<EslEvent> execute(String callUuid, String app, String arg, Duration timeout) {
        Objects.requireNonNull(app, "app");
        Objects.requireNonNull(timeout, "timeout");
        return routed(callUuid, client -> client.execute(callUuid, app, arg, timeout));
    }

    /**
     * Hangs a call up ({@code uuid_kill <uuid> <cause>}) on the node that owns it. When the node
     * says the channel does not exist, the call is forgotten and the future fails.
     *
     * @param callUuid the channel
     * @param cause the hang-up cause
     * @return completes when the node accepted; fails with {@link UnknownCallException} or {@link
     *     NodeUnavailableException} without sending anything, or with {@link
     *     EslException.Kind#COMMAND_FAILED} when the node answered {@code -ERR}
     */
    public CompletableFuture<Void> hangup(String callUuid, HangupCause cause) {
        Objects.requireNonNull(cause, "cause");
        return routed(callUuid, client -> client.api("uuid_kill " + callUuid + " " + cause.name())).thenApply(output -> {
            String reply = output.trim();
            if (reply.startsWith("-ERR")) {
                String owner = calls.ownerOf(callUuid);
                if (owner != null) {
                    calls.hungUp(callUuid, owner);
                }
                throw new EslException(EslException.Kind.COMMAND_FAILED, "uuid_kill " + callUuid + ": " + reply);
            }
            return null;
        });
    }

    private <T> CompletableFuture<T> routed(String callUuid, Function<EslClient, CompletableFuture<T>> command) {
        requireUuid(callUuid);
        CompletableFuture<T> failed = new CompletableFuture<>();
        String owner = calls.ownerOf(callUuid);
        if (owner == null) {
            failed.completeExceptionally(new UnknownCallException(callUuid));
            return failed;
        }
        Node node = nodesByName.get(owner);
        EslClient client = node.usableClient();
        if (client == null) {
            failed.completeExceptionally(new NodeUnavailableException("call " + callUuid + " belongs to node " + owner
                    + ", which takes no commands now (" + node.describeState() + "); the command was not sent"));
            return failed;
        }
        return command.apply(client);
    }

    /** A UUID is one word: anything else could smuggle arguments into a command line. */
    private static String requireUuid(String callUuid) {
        return Words.requireWord(callUuid, "callUuid");
    }

    /**
     * A node's client, for commands addressed to the node itself rather than to a call.
     *
     * @param node the node's name
     * @return its connected client
     * @throws IllegalArgumentException when there is no such node
     * @throws NodeUnavailableException when the node is not {@link NodeState#UP}
     */
    public EslClient client(String node) {
        Node found = requireNode(node);
        EslClient client = found.usableClient();
        if (client == null) {
            throw new NodeUnavailableException("node " + found.describeState());
        }
        return client;
    }

    // ---- events ---------------------------------------------------------------------------------

    /**
     * Subscribes every node to events; remembered, and sent to nodes that connect later.
     * {@code CHANNEL_CREATE} and {@code CHANNEL_HANGUP_COMPLETE} are always subscribed (the call
     * map needs them).
     *
     * @param eventNames event names, or {@code "ALL"}
     * @return completes when every node that is up now accepted
     */
    public CompletableFuture<Void> subscribe(String... eventNames) {
        List<String> names = new ArrayList<>();
        for (String name : eventNames) {
            names.add(Words.requireWord(name, "event name"));
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("no event names");
        }
        List<EslClient> targets = new ArrayList<>();
        synchronized (lock) {
            subscribed.addAll(names);
            for (Node node : nodes) {
                EslClient client = node.usableClient();
                if (client != null) {
                    targets.add(client);
                }
            }
        }
        List<CompletableFuture<Void>> accepted = new ArrayList<>();
        for (EslClient client : targets) {
            accepted.add(client.subscribe(names.toArray(new String[0])));
        }
        return CompletableFuture.allOf(accepted.toArray(new CompletableFuture<?>[0]));
    }

    /**
     * Listens to one event name (or CUSTOM subclass) on every node, sharded (see {@link
     * ClusterOptions}). Subscribe to it too ({@link #subscribe(String...)}).
     *
     * @param eventName the event name or subclass
     * @param listener gets each event with its node
     * @return the registration; close it to stop
     */
    public Subscription onEvent(String eventName, ClusterEventListener listener) {
        Objects.requireNonNull(eventName, "eventName");
        Objects.requireNonNull(listener, "listener");
        return register((node, client) -> client.onEvent(eventName, tagged(node, listener, true)));
    }

    /**
     * Listens to every event of every node, sharded (see {@link ClusterOptions}).
     *
     * @param listener gets each event with its node
     * @return the registration; close it to stop
     */
    public Subscription onAnyEvent(ClusterEventListener listener) {
        Objects.requireNonNull(listener, "listener");
        return register((node, client) -> client.onAnyEvent(tagged(node, listener, true)));
    }

    /**
     * Listens to every event of one channel, whichever node it is on. Not sharded: the
     * application asked for this call.
     *
     * @param callUuid the channel UUID
     * @param listener gets each event with its node
     * @return the registration; close it to stop
     */
    public Subscription onChannel(String callUuid, ClusterEventListener listener) {
        requireUuid(callUuid);
        Objects.requireNonNull(listener, "listener");
        return register((node, client) -> client.onChannel(callUuid, tagged(node, listener, false)));
    }

    private EventListener tagged(String node, ClusterEventListener listener, boolean sharded) {
        return event -> {
            if (!sharded || options.ownsEvent(event)) {
                listener.onEvent(new ClusterEvent(node, event));
            }
        };
    }

    private Subscription register(BiFunction<String, EslClient, Subscription> attachTo) {
        Registration registration = new Registration(attachTo);
        synchronized (lock) {
            registrations.add(registration);
            for (Node node : nodes) {
                EslClient client = node.client;
                if (client != null) {
                    registration.attach(node, client);
                }
            }
        }
        return registration;
    }

    /** An application listener, attached to every node's current client. */
    private final class Registration implements Subscription {
        private final BiFunction<String, EslClient, Subscription> attachTo;
        /** By node name; guarded by the cluster's lock. */
        private final Map<String, Subscription> attached = new HashMap<>();

        Registration(BiFunction<String, EslClient, Subscription> attachTo) {
            this.attachTo = attachTo;
        }

        void attach(Node node, EslClient client) {
            Subscription previous = attached.put(node.name, attachTo.apply(node.name, client));
            if (previous != null) {
                previous.close();
            }
        }

        @Override
        public void close() {
            synchronized (lock) {
                registrations.remove(this);
                for (Subscription subscription : attached.values()) {
                    subscription.close();
                }
                attached.clear();
            }
        }
    }

    /**
     * Listens to node health changes.
     *
     * @param listener the listener
     * @return the registration; close it to stop
     */
    public Subscription onNodeState(NodeStateListener listener) {
        Objects.requireNonNull(listener, "listener");
        stateListeners.add(listener);
        return () -> stateListeners.remove(listener);
    }

    // ---- state ----------------------------------------------------------------------------------

    /**
     * A node's health.
     *
     * @param node the node's name
     * @return its state
     * @throws IllegalArgumentException when there is no such node
     */
    public NodeState state(String node) {
        return requireNode(node).state;
    }

    /**
     * Every node's health, in configuration order.
     *
     * @return a snapshot
     */
    public Map<String, NodeState> states() {
        Map<String, NodeState> states = new LinkedHashMap<>();
        for (Node node : nodes) {
            states.put(node.name, node.state);
        }
        return Collections.unmodifiableMap(states);
    }

    /**
     * A node's active channels, as {@link Placement#LEAST_ACTIVE_CALLS} counts them.
     *
     * @param node the node's name
     * @return the count
     * @throws IllegalArgumentException when there is no such node
     */
    public int activeChannels(String node) {
        return calls.channels(requireNode(node).name);
    }

    /**
     * How many call UUIDs the call map holds.
     *
     * @return at most {@link ClusterOptions#maxTrackedCalls()}
     */
    public int trackedCalls() {
        return calls.size();
    }

    /**
     * Waits until at least {@code count} nodes are {@link NodeState#UP}.
     *
     * @param count how many nodes
     * @param timeout the longest wait
     * @return true when they are, false when the time ran out or the cluster closed
     */
    public boolean awaitUp(int count, Duration timeout) {
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

    /**
     * The options the cluster was made with.
     *
     * @return the options
     */
    public ClusterOptions options() {
        return options;
    }

    private Node requireNode(String name) {
        Objects.requireNonNull(name, "node");
        Node node = nodesByName.get(name);
        if (node == null) {
            throw new IllegalArgumentException("no node named " + name + "; nodes: " + nodesByName.keySet());
        }
        return node;
    }

    /** Closes every node's client (failing what is pending) and stops reconnecting. Idempotent. */
    @Override
    public void close() {
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

    @Override
    public String toString() {
        return "EslCluster{" + states() + (closed ? ", closed" : "") + "}";
    }
}
