package org.esl4j.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.esl4j.ClientOptions;
import org.esl4j.EslClient;
import org.esl4j.EslEvent;
import org.esl4j.EslException;
import org.esl4j.Subscription;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.OriginateRequest;

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
 * <p>A facade over its parts: {@link NodeSupervisor} (connects, reconnects and tracks node health),
 * {@link OriginatePlacement} (placement and fail-over), {@link CallRouter} (commands by call UUID),
 * {@link EventFanOut} (merged, tagged events; listeners replayed onto new clients) and {@link
 * CallTracker} (the call map from events and {@code show channels}).
 *
 * <p>Thread-safe. {@link #close()} closes every node's client.
 */
public final class EslCluster implements AutoCloseable {
    private final ClusterOptions options;
    /** In configuration order: round robin and tie breaks follow it. */
    private final List<Node> nodes;
    private final Map<String, Node> nodesByName;
    private final CallRegistry calls;
    private final NodeSupervisor supervisor;
    private final EventFanOut fanOut;
    private final OriginatePlacement placement;
    private final CallRouter router;

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
        this.fanOut = new EventFanOut(options, nodes);
        this.supervisor = new NodeSupervisor(options, nodes, new CallTracker(calls), fanOut);
        this.placement = new OriginatePlacement(options.placement(), nodes, calls);
        this.router = new CallRouter(nodesByName, calls);
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
        cluster.supervisor.start();
        return cluster;
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
        return placement.originate(request);
    }

    // ---- commands by call UUID ------------------------------------------------------------------

    /**
     * The node that owns a call.
     *
     * @param callUuid a channel UUID
     * @return the node's name, or null when the call is unknown
     */
    public String nodeOf(String callUuid) {
        return router.nodeOf(callUuid);
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
        return router.routed(callUuid, client -> client.api(command));
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
        return router.routed(callUuid, client -> client.bgapi(command));
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
        return router.routed(callUuid, client -> client.execute(callUuid, app, arg, timeout));
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
        return router.hangup(callUuid, cause);
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
        return fanOut.subscribe(eventNames);
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
        return fanOut.onEvent(eventName, listener);
    }

    /**
     * Listens to every event of every node, sharded (see {@link ClusterOptions}).
     *
     * @param listener gets each event with its node
     * @return the registration; close it to stop
     */
    public Subscription onAnyEvent(ClusterEventListener listener) {
        Objects.requireNonNull(listener, "listener");
        return fanOut.onAnyEvent(listener);
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
        CallRouter.requireUuid(callUuid);
        Objects.requireNonNull(listener, "listener");
        return fanOut.onChannel(callUuid, listener);
    }

    /**
     * Listens to node health changes.
     *
     * @param listener the listener
     * @return the registration; close it to stop
     */
    public Subscription onNodeState(NodeStateListener listener) {
        Objects.requireNonNull(listener, "listener");
        return supervisor.onNodeState(listener);
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
        return supervisor.awaitUp(count, timeout);
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
        supervisor.close();
    }

    @Override
    public String toString() {
        return "EslCluster{" + states() + (supervisor.isClosed() ? ", closed" : "") + "}";
    }
}
