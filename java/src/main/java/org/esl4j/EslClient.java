package org.esl4j;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.esl4j.dial.AttemptWatchdog;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.BridgeResult;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.dial.OriginateResult;
import org.esl4j.internal.FrameCodec;
import org.esl4j.internal.NativeConnection;
import org.esl4j.internal.NativeLog;
import org.esl4j.internal.Words;

/**
 * An inbound Event Socket client: connects to FreeSWITCH (port 8021), runs API commands, receives
 * events, originates and controls calls.
 *
 * <p>Commands return {@link CompletableFuture}s and have blocking overloads that take a timeout.
 * Events go to listeners registered by event name, channel UUID or Job-UUID; they are delivered
 * in order per channel and in parallel across channels (see {@link DeliveryOptions}).
 *
 * <p>A consumer of the whole event flood that reads a few headers of each event can read them in
 * place with {@link #onEventView(EventViewListener)}, without an event object per event.
 *
 * <p>The no-answer timeout of an inbound originate, 30 seconds:
 *
 * <pre>{@code
 * try (EslClient client = EslClient.connect(ClientOptions.builder().password("ClueCon").build())) {
 *     OriginateRequest request = OriginateRequest.to(Endpoint.gateway("gw1", "13800138000"))
 *             .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
 *             .build();
 *     OriginateResult result = client.originate(request).get(60, TimeUnit.SECONDS);
 *     if (!result.succeeded() && result.cause() == HangupCause.NO_ANSWER) {
 *         // nobody answered within 30 s (early media is ignored unless you opt in)
 *     }
 * }
 * }</pre>
 *
 * <p>The callback pattern with separate timeouts for the two legs:
 *
 * <pre>{@code
 * OriginateRequest callback = OriginateRequest.to(Endpoint.user("1000"))
 *         .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
 *         .application(Application.bridge(BridgeRequest.to(Endpoint.user("2000"))
 *                 .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build()))
 *         .build();
 * OriginateResult result = client.originate(callback).join();
 * result.failedLeg(); // A (1000 did not answer) or B (2000 did not), with result.cause()
 * }</pre>
 *
 * <p>Thread-safe. {@link #close()} fails everything still pending. Futures complete on {@link
 * ClientOptions.Builder#completionExecutor(java.util.concurrent.Executor) the completion executor}
 * (by default the library's own daemon threads, made on demand), never on the library's reader,
 * timer or delivery threads, so a stage that blocks holds only its own thread.
 */
public final class EslClient implements AutoCloseable {
    private static final int POLL_BATCH = 1024;
    /** Events the client itself needs: job results, and the outcome of executed applications. */
    private static final List<String> BASE_EVENTS = Collections.singletonList("BACKGROUND_JOB");
    /** Envelope content types of the engine's reconnect notices (see NativeConnection.Settings). */
    private static final List<String> CALL_CONTROL_EVENTS =
            Arrays.asList("CHANNEL_EXECUTE_COMPLETE", "CHANNEL_BRIDGE", "CHANNEL_HANGUP_COMPLETE");

    private final ClientOptions options;
    private final EventRouter router = new EventRouter();
    private final EventDispatcher dispatcher;
    private final EventViews views;
    private final AttemptWatchdog watchdog = AttemptWatchdog.create();
    private final List<ConnectionListener> connectionListeners = new CopyOnWriteArrayList<>();
    /**
     * Subscribed event names, so call control subscribes only to what is missing. The engine
     * itself replays the subscriptions and filters after a reconnect.
     */
    private final Set<String> subscribed = Collections.synchronizedSet(new LinkedHashSet<String>());
    /** Futures completed by events rather than by the engine; failed on close. */
    private final Set<CompletableFuture<?>> pending = Collections.synchronizedSet(new LinkedHashSet<CompletableFuture<?>>());
    private final Thread reader;
    /**
     * One engine connection for the client's life: the engine reconnects it per the policy. Null
     * only until the first connection of {@link #connectInBackground(ClientOptions)} is made.
     */
    private volatile NativeConnection connection;
    /**
     * Guards {@link #connection}'s first assignment against subscriptions and filters asked for
     * before it, which wait in {@link #deferredEvents} and {@link #deferredFilters}.
     */
    private final Object firstConnect = new Object();
    private final Set<String> deferredEvents = new LinkedHashSet<>();
    private final List<String[]> deferredFilters = new ArrayList<>();
    /** Opened by close: wakes the background connector out of its back-off at once. */
    private final CountDownLatch closing = new CountDownLatch(1);
    /** The engine's counters read just before the connection was closed; null while open. */
    private volatile NativeConnection.Stats finalEngineStats;
    private volatile boolean closed;

    private EslClient(ClientOptions options, NativeConnection connection) {
        this.options = options;
        this.connection = connection;
        this.dispatcher = new EventDispatcher(router, options.delivery(), "esl4j-events");
        this.reader = new Thread(this::readLoop, "esl4j-reader-" + options.host() + ":" + options.port());
        this.reader.setDaemon(true);
        this.views = new EventViews(reader);
    }

    /**
     * Connects and authenticates, blocking up to the connect timeout, then subscribes to {@code
     * BACKGROUND_JOB} (needed by {@link #bgapi(String)}).
     *
     * @param options the settings
     * @return the connected client
     * @throws EslException on refusal, timeout, bad credentials ({@link EslAuthException})
     */
    public static EslClient connect(ClientOptions options) {
        Objects.requireNonNull(options, "options");
        EslClient client = new EslClient(options, open(options));
        try {
            client.reader.start();
            client.subscribeBaseEvents();
        } catch (RuntimeException failure) {
            client.close();
            throw failure;
        }
        return client;
    }

    /**
     * Returns at once, without a connection, and connects on an esl4j daemon thread ({@code
     * esl4j-connect-host:port}): attempts follow the options' {@link ReconnectPolicy} (the first at
     * once, then waits from its initial delay doubling up to its maximum, giving up after its
     * maximum attempts unless that is 0), each bounded by the connect timeout. For an application
     * that must start while FreeSWITCH is down.
     *
     * <p>Until the first connection: commands fail at once with {@link
     * EslConnectionClosedException}; {@link #subscribe(String...)} and {@link #filter(String,
     * String)} are remembered, complete at once, and are sent once connected (a refusal then is
     * logged); listeners may be registered as usual. Once connected, {@link ConnectionEvent.Type#CONNECTED}
     * is told and the client behaves as one from {@link #connect(ClientOptions)}. When the policy
     * gives up (bad credentials end the attempts at once), {@link ConnectionEvent.Type#CLOSED} is
     * told with the last failure. {@link #close()} ends the attempts: an attempt under way finishes
     * (within the connect timeout) and its connection is closed.
     *
     * @param options the settings; their reconnect policy must be enabled
     * @return the client, not connected yet
     * @throws IllegalArgumentException when the options' reconnect policy is {@link ReconnectPolicy#none()}
     */
    public static EslClient connectInBackground(ClientOptions options) {
        Objects.requireNonNull(options, "options");
        if (!options.reconnect().enabled()) {
            throw new IllegalArgumentException("connecting in the background needs a reconnect policy (ReconnectPolicy.backoff)");
        }
        EslClient client = new EslClient(options, null);
        Thread connector = new Thread(client::connectLoop, "esl4j-connect-" + options.host() + ":" + options.port());
        connector.setDaemon(true);
        connector.start();
        return client;
    }

    /** The background connector: tries per the reconnect policy until connected, closed or given up. */
    private void connectLoop() {
        ReconnectPolicy policy = options.reconnect();
        long delayMillis = policy.initialDelay().toMillis();
        for (int attempt = 1; !closed; attempt++) {
            NativeConnection opened;
            try {
                opened = open(options);
            } catch (RuntimeException failure) {
                // Only a refusal, a timeout or an unreachable server is worth another attempt.
                boolean last = !(failure instanceof EslException) || failure instanceof EslAuthException
                        || (policy.maxAttempts() > 0 && attempt >= policy.maxAttempts());
                NativeLog.log(NativeLog.WARN, "esl4j::client", "connect attempt " + attempt + " to " + options.host() + ":"
                        + options.port() + " failed" + (last ? ", giving up: " : ": ") + failure.getMessage());
                if (last) {
                    givenUp("connecting gave up: " + failure.getMessage());
                    return;
                }
                if (awaitClosing(delayMillis)) {
                    return;
                }
                delayMillis = Math.min(Math.max(1, delayMillis * 2), policy.maxDelay().toMillis());
                continue;
            }
            if (!firstConnected(opened)) {
                opened.close();
            }
            return;
        }
    }

    /** Waits the back-off; true when the client was closed meanwhile. */
    private boolean awaitClosing(long delayMillis) {
        try {
            return closing.await(delayMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    /**
     * Makes the first connection the client's, sends what was asked for before it and tells
     * CONNECTED; false when the client was closed meanwhile (the caller closes the connection).
     */
    private boolean firstConnected(NativeConnection opened) {
        Set<String> events;
        List<String[]> filters;
        synchronized (firstConnect) {
            if (closed) {
                return false;
            }
            connection = opened;
            events = new LinkedHashSet<>(BASE_EVENTS);
            events.addAll(deferredEvents);
            filters = new ArrayList<>(deferredFilters);
            deferredEvents.clear();
            deferredFilters.clear();
        }
        reader.start();
        applyDeferred("subscribe " + events, subscribe(events.toArray(new String[0])));
        for (String[] filter : filters) {
            applyDeferred("filter " + filter[0], filter(filter[0], filter[1]));
        }
        fireConnectionEvent(new ConnectionEvent(ConnectionEvent.Type.CONNECTED,
                "connected to " + options.host() + ":" + options.port(), Duration.ZERO, 0));
        return true;
    }

    private void applyDeferred(String what, CompletableFuture<Void> sent) {
        try {
            Futures.await(sent, options.commandTimeout(), what);
        } catch (EslException refused) {
            NativeLog.log(NativeLog.WARN, "esl4j::client", what + " asked before the connection was refused: " + refused.getMessage());
        }
    }

    /** The background connector gave up before any connection: the client ends as after a loss. */
    private void givenUp(String reason) {
        synchronized (firstConnect) {
            if (closed) {
                return;
            }
            closed = true;
        }
        closing.countDown();
        failPending(reason);
        watchdog.close();
        dispatcher.close();
        fireConnectionEvent(new ConnectionEvent(ConnectionEvent.Type.CLOSED, reason, Duration.ZERO, 0));
    }

    /**
     * Remembers a subscription or filter asked for before the first connection of {@link
     * #connectInBackground(ClientOptions)}; false once connected (then it is sent as usual).
     */
    private boolean deferred(Runnable remember) {
        synchronized (firstConnect) {
            if (connection != null || closed) {
                return false;
            }
            remember.run();
            return true;
        }
    }

    /**
     * Subscribes to what {@code bgapi} needs. A {@code userauth} user whose {@code
     * esl-allowed-events} leaves BACKGROUND_JOB out is refused ({@code -ERR permission denied});
     * that user can still use everything else, so the refusal is logged and {@code bgapi} reports
     * it when called instead of failing the connect.
     */
    private void subscribeBaseEvents() {
        try {
            Futures.await(subscribe(BASE_EVENTS.toArray(new String[0])), options.commandTimeout(), "subscribe");
        } catch (EslException refused) {
            if (refused.kind() != EslException.Kind.COMMAND_FAILED) {
                throw refused;
            }
            NativeLog.log(NativeLog.WARN, "esl4j::client", "BACKGROUND_JOB subscription refused, bgapi and originate"
                    + " will fail on this connection: " + refused.getMessage());
        }
    }

    private static NativeConnection open(ClientOptions options) {
        ReconnectPolicy reconnect = options.reconnect();
        NativeConnection.Settings settings = new NativeConnection.Settings()
                .connectTimeoutMs(options.connectTimeout().toMillis())
                .commandTimeoutMs(options.commandTimeout().toMillis())
                // BLOCK must reach the engine too, or its own queue would drop what delivery keeps.
                .blockOnOverflow(options.delivery().overflowPolicy() == OverflowPolicy.BLOCK)
                .spill(options.spillMaxEvents(), options.spillMaxBytes())
                .reconnect(reconnect.initialDelay().toMillis(), reconnect.maxDelay().toMillis(), reconnect.maxAttempts())
                .executor(options.completionExecutor())
                .serverName(options.serverName());
        return NativeConnection.connect(options.host(), options.port(), options.user(), options.password(), settings);
    }

    /** The connection, for a command; while reconnecting the engine fails commands itself. */
    private NativeConnection live() {
        if (closed) {
            throw new EslConnectionClosedException("client is closed");
        }
        NativeConnection current = connection;
        if (current == null) {
            throw new EslConnectionClosedException("not connected yet: connecting in the background to "
                    + options.host() + ":" + options.port());
        }
        return current;
    }

    // ---- API commands ------------------------------------------------------------------------

    /**
     * {@code api <command>}: runs on FreeSWITCH's connection thread, blocking event delivery on
     * this connection meanwhile; prefer {@link #bgapi(String)} for anything slow (originate!).
     *
     * @param command the API command and arguments, e.g. {@code "status"}
     * @return the output (which may itself start with {@code -ERR})
     */
    public CompletableFuture<String> api(String command) {
        return observed("api " + verb(command), () -> live().api(command, 0).thenApply(EslClient::apiOutput));
    }

    /**
     * Blocking {@link #api(String)}, run on the calling thread: it writes the command and the
     * engine's reader hands the reply straight back to it (no executor in between). Not
     * interruptible once sent: it returns at the reply, at {@code timeout}, or when the connection
     * ends; an interrupted thread does not send ({@code INVALID_STATE}). On a virtual thread it
     * waits on the future form instead, which does not pin the carrier.
     *
     * @param command the API command and arguments
     * @param timeout how long to wait (above zero)
     * @return the output
     * @throws EslTimeoutException when no reply came in time
     * @throws IllegalArgumentException when {@code timeout} is not above zero
     */
    public String api(String command, Duration timeout) {
        long millis = Futures.engineMillis(Futures.requirePositive(timeout, "timeout"));
        // On this thread: the engine writes the command from here and hands the reply back here.
        return Futures.observedNow(options.commandObserver(), "api " + verb(command),
                () -> apiOutput(live().apiBlocking(command, millis)));
    }

    private <T> CompletableFuture<T> observed(String name, Supplier<CompletableFuture<T>> command) {
        return Futures.observed(options.commandObserver(), name, command);
    }

    /** The API command's name: its first word, without the arguments (they may hold passwords). */
    static String verb(String command) {
        if (command == null) {
            return "";
        }
        int end = 0;
        while (end < command.length() && command.charAt(end) > ' ') {
            end++;
        }
        return command.substring(0, end);
    }

    private static String apiOutput(EslEvent reply) {
        String replyText = reply.header("Reply-Text");
        if (replyText != null && replyText.startsWith("-ERR")) {
            throw new EslException(EslException.Kind.COMMAND_FAILED, replyText);
        }
        return reply.body();
    }

    /**
     * {@code bgapi <command>}: runs in its own FreeSWITCH thread; completes with the job's output
     * from its {@code BACKGROUND_JOB} event.
     *
     * @param command the API command and arguments
     * @return the job's output
     */
    public CompletableFuture<String> bgapi(String command) {
        return backgroundJob(command, Duration.ZERO);
    }

    private CompletableFuture<String> backgroundJob(String command, Duration jobDeadline) {
        // Already subscribed unless the server refused BACKGROUND_JOB at connect: then this
        // fails at once with that refusal instead of waiting for a job event that never comes.
        return ensureSubscribed(BASE_EVENTS).thenCompose(ready -> observed("bgapi " + verb(command),
                () -> live().bgapiJob(command, jobDeadline.toMillis()).thenApply(EslClient::jobOutput)));
    }

    private static String jobOutput(List<EslEvent> replyAndJob) {
        if (replyAndJob.size() < 2) {
            throw new EslException(EslException.Kind.PROTOCOL, "bgapi finished without BACKGROUND_JOB");
        }
        return replyAndJob.get(1).body();
    }

    /**
     * Blocking {@link #bgapi(String)}, run on the calling thread as {@link #api(String, Duration)}
     * is.
     *
     * @param command the API command and arguments
     * @param timeout how long to wait for the job's result (above zero)
     * @return the job's output
     * @throws EslTimeoutException when the job did not finish in time
     * @throws IllegalArgumentException when {@code timeout} is not above zero
     */
    public String bgapi(String command, Duration timeout) {
        long millis = Futures.engineMillis(Futures.requirePositive(timeout, "timeout"));
        Futures.await(ensureSubscribed(BASE_EVENTS), timeout, "subscribe BACKGROUND_JOB");
        return Futures.observedNow(options.commandObserver(), "bgapi " + verb(command),
                () -> jobOutput(live().bgapiJobBlocking(command, millis)));
    }

    // ---- subscriptions and listeners ----------------------------------------------------------

    /**
     * Subscribes to events ({@code event <format> <names>}); the names are remembered and sent
     * again after a reconnect. {@code CUSTOM} subclasses go after the word {@code CUSTOM}, e.g.
     * {@code subscribe("CHANNEL_ANSWER", "CUSTOM", "sofia::register")}.
     *
     * @param eventNames event names, or {@code "ALL"}
     * @return completes when FreeSWITCH accepted the subscription
     */
    public CompletableFuture<Void> subscribe(String... eventNames) {
        List<String> names = new ArrayList<>();
        for (String name : eventNames) {
            names.add(Words.requireWord(name, "event name"));
        }
        if (names.isEmpty()) {
            return Futures.failed(new IllegalArgumentException("no event names"));
        }
        if (deferred(() -> deferredEvents.addAll(names))) {
            return CompletableFuture.completedFuture(null);
        }
        return observed("event", () -> live().subscribe(options.eventFormat().wireName(), String.join(" ", names))
                .thenApply(reply -> {
                    subscribed.addAll(names);
                    return (Void) null;
                }));
    }

    /**
     * Subscribes to the events this client's call control needs, unless already subscribed
     * (directly or through {@code ALL}).
     */
    private CompletableFuture<Void> ensureSubscribed(List<String> names) {
        List<String> missing = new ArrayList<>();
        synchronized (subscribed) {
            if (subscribed.contains("ALL")) {
                return CompletableFuture.completedFuture(null);
            }
            for (String name : names) {
                if (!subscribed.contains(name)) {
                    missing.add(name);
                }
            }
        }
        return missing.isEmpty() ? CompletableFuture.<Void>completedFuture(null) : subscribe(missing.toArray(new String[0]));
    }

    /**
     * Unsubscribes ({@code nixevent <names>}).
     *
     * @param eventNames event names
     * @return completes when FreeSWITCH accepted
     */
    public CompletableFuture<Void> unsubscribe(String... eventNames) {
        List<String> names = new ArrayList<>();
        for (String name : eventNames) {
            names.add(Words.requireWord(name, "event name"));
        }
        if (deferred(() -> deferredEvents.removeAll(names))) {
            return CompletableFuture.completedFuture(null);
        }
        return observed("nixevent", () -> live().unsubscribe(String.join(" ", names)).thenApply(reply -> {
            subscribed.removeAll(names);
            return (Void) null;
        }));
    }

    /**
     * Adds a server-side filter ({@code filter <header> <value>}): once any filter exists, only
     * matching events are sent. Remembered and sent again after a reconnect.
     *
     * @param header the header name, e.g. {@code Unique-ID}
     * @param value the value to match
     * @return completes when FreeSWITCH accepted the filter
     */
    public CompletableFuture<Void> filter(String header, String value) {
        Words.requireWord(header, "header");
        Objects.requireNonNull(value, "value");
        if (deferred(() -> deferredFilters.add(new String[] {header, value}))) {
            return CompletableFuture.completedFuture(null);
        }
        return observed("filter", () -> live().filter(header, value).thenApply(reply -> (Void) null));
    }

    /**
     * Listens to one event name (any case), or to a CUSTOM subclass such as {@code
     * sofia::register}. Subscribe to the event too ({@link #subscribe(String...)}).
     *
     * @param eventName the event name or subclass
     * @param listener the listener
     * @return the registration; close it to stop
     */
    public Subscription onEvent(String eventName, EventListener listener) {
        return router.onEvent(eventName, listener);
    }

    /**
     * Listens to every event of one channel ({@code Unique-ID}).
     *
     * @param uuid the channel UUID
     * @param listener the listener
     * @return the registration; close it to stop
     */
    public Subscription onChannel(String uuid, EventListener listener) {
        return router.onChannel(uuid, listener);
    }

    /**
     * Listens to the {@code BACKGROUND_JOB} of one job.
     *
     * @param jobUuid the Job-UUID
     * @param listener the listener
     * @return the registration; close it to stop
     */
    public Subscription onJob(String jobUuid, EventListener listener) {
        return router.onJob(jobUuid, listener);
    }

    /**
     * Listens to every event received.
     *
     * @param listener the listener
     * @return the registration; close it to stop
     */
    public Subscription onAnyEvent(EventListener listener) {
        return router.onEverything(listener);
    }

    /**
     * Reads every event in place, on the client's reading thread, before the {@link EventListener}s
     * get it: the fast path for consumers of the whole event flood that read a few headers of each
     * event (no event object, no copy of its bytes, and the poll batch array reused while no
     * regular listener takes the event). The view is valid only during the listener call; the
     * listener must be fast, since the client reads nothing more while it runs (see {@link
     * EventViewListener}).
     *
     * <pre>{@code
     * client.onEventView(view -> counter.add(view.eventName(), view.uniqueId()));
     * }</pre>
     *
     * @param listener the listener
     * @return the registration; close it to stop
     */
    public Subscription onEventView(EventViewListener listener) {
        return views.add(listener);
    }

    /**
     * Listens to connection changes: lost, restored with a gap, closed.
     *
     * @param listener the listener
     * @return the registration; close it to stop
     */
    public Subscription onConnectionEvent(ConnectionListener listener) {
        Objects.requireNonNull(listener, "listener");
        connectionListeners.add(listener);
        return () -> connectionListeners.remove(listener);
    }

    // ---- call control ---------------------------------------------------------------------------

    /**
     * Originates a call with {@code bgapi} and reports the typed outcome. For the callback pattern
     * ({@link org.esl4j.dial.Application#bridge(BridgeRequest)}) the outcome also covers the second
     * leg, read from the first leg's {@code CHANNEL_EXECUTE_COMPLETE} for {@code bridge}. A
     * watchdog ends an attempt FreeSWITCH overruns ({@code uuid_kill} of its legs) and reports
     * {@link OriginateResult#watchdogExpired()}.
     *
     * @param request the originate
     * @return the outcome; fails only when the command itself could not be run
     */
    public CompletableFuture<OriginateResult> originate(OriginateRequest request) {
        Objects.requireNonNull(request, "request");
        boolean callback = request.application().bridgeRequest() != null;
        Duration deadline = request.watchdogDeadline(options.watchdogMargin());
        // For a callback, the outcome of the second leg is on the answered first leg's channel;
        // which first leg answers is known only from the job's reply, so every one is watched.
        Map<String, CompletableFuture<EslEvent>> secondLegs = new LinkedHashMap<>();
        List<Subscription> watches = new ArrayList<>();
        if (callback) {
            for (String legUuid : request.legUuids()) {
                CompletableFuture<EslEvent> outcome = new CompletableFuture<>();
                secondLegs.put(legUuid, outcome);
                pending.add(outcome);
                watches.add(router.onChannel(legUuid, event -> {
                    if (("CHANNEL_EXECUTE_COMPLETE".equals(event.eventName()) && "bridge".equals(event.application()))
                            || "CHANNEL_HANGUP_COMPLETE".equals(event.eventName())) {
                        outcome.complete(event);
                    }
                }));
            }
        }
        AtomicReference<OriginateResult> firstLeg = new AtomicReference<>();
        CompletableFuture<OriginateResult> attempt = ensureSubscribed(callback ? CALL_CONTROL_EVENTS : BASE_EVENTS)
                .thenCompose(ready -> backgroundJob(request.command(), deadline.plus(options.commandTimeout())))
                .thenApply(OriginateResult::fromApiResponse)
                .thenCompose(first -> {
                    firstLeg.set(first);
                    CompletableFuture<EslEvent> second = secondLegs.get(first.channelUuid());
                    return !callback || !first.succeeded() || second == null
                            ? CompletableFuture.completedFuture(first)
                            : second.thenApply(event -> first.withBridge(BridgeResult.fromExecuteComplete(event)));
                });
        List<String> legs = new ArrayList<>(request.legUuids());
        if (callback) {
            legs.addAll(request.application().bridgeRequest().legUuids());
        }
        CompletableFuture<OriginateResult> guarded = watchdog.guard(attempt, deadline, () -> {
            OriginateResult first = firstLeg.get();
            return first != null && first.succeeded()
                    ? first.withBridge(BridgeResult.watchdogExpired())
                    : OriginateResult.watchdogExpired(request.uuid());
        }, () -> killLegs(legs));
        guarded.whenComplete((result, failure) -> {
            pending.removeAll(secondLegs.values());
            for (Subscription watch : watches) {
                watch.close();
            }
        });
        // Completed by a delivery lane (the callback's second leg) or the watchdog's timer.
        return Futures.completeOn(guarded, options.completionExecutor());
    }

    private void killLegs(List<String> uuids) {
        // A closed handle refuses commands by throwing; while reconnecting the engine fails them.
        NativeConnection current = connection;
        if (!closed && current != null) {
            ChannelControl.killLegs(current, uuids);
        }
    }

    /**
     * Runs a dialplan application on a channel ({@code sendmsg <uuid>} execute) and completes with
     * its {@code CHANNEL_EXECUTE_COMPLETE}.
     *
     * @param uuid the channel
     * @param app the application, e.g. {@code "playback"}
     * @param arg its argument, or null
     * @param timeout how long the application may run
     * @return the CHANNEL_EXECUTE_COMPLETE event
     */
    public CompletableFuture<EslEvent> execute(String uuid, String app, String arg, Duration timeout) {
        Objects.requireNonNull(uuid, "uuid");
        return ensureSubscribed(CALL_CONTROL_EVENTS)
                .thenCompose(ready -> Futures.attempt(() -> ChannelControl.execute(live(), uuid, app, arg, timeout)));
    }

    /**
     * Bridges a channel this client controls (e.g. parked after an originate) with the typed
     * bridge request: sets its caller-channel variables, runs {@code bridge}, and reads the
     * outcome. A no-answer leaves the channel up (see {@link BridgeRequest}).
     *
     * @param uuid the controlled channel
     * @param request the bridge
     * @param callLimit the longest the bridged call may last before the future fails
     * @return the outcome
     */
    public CompletableFuture<BridgeResult> bridge(String uuid, BridgeRequest request, Duration callLimit) {
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(request, "request");
        return Futures.completeOn(ensureSubscribed(CALL_CONTROL_EVENTS).thenCompose(ready -> Futures.attempt(
                () -> ChannelControl.bridge(live(), router, watchdog, uuid, uuid, request, options.watchdogMargin(),
                        callLimit))), options.completionExecutor());
    }

    // ---- state ----------------------------------------------------------------------------------

    /**
     * Event delivery counters, the engine's event queue in front of delivery included.
     *
     * @return a snapshot
     */
    public DeliveryStats deliveryStats() {
        NativeConnection.Stats engine = engineStats();
        return engine == null ? dispatcher.stats()
                : dispatcher.stats(engine.dropped, engine.criticalDropped, engine.overloads);
    }

    /** The engine queue's counters: live, or the last ones once closed (null if none were read). */
    private NativeConnection.Stats engineStats() {
        NativeConnection current = connection;
        if (current == null) {
            return finalEngineStats;
        }
        try {
            return current.stats();
        } catch (RuntimeException closedAlready) {
            return finalEngineStats;
        }
    }

    /** Closes the engine connection, keeping its last counters for {@link #deliveryStats()}. */
    private void closeConnection() {
        finalEngineStats = engineStats();
        NativeConnection current = connection;
        if (current != null) {
            current.close();
        }
    }

    /**
     * Whether the connection is up.
     *
     * @return false while reconnecting and after close
     */
    public boolean isConnected() {
        NativeConnection current = connection;
        return !closed && current != null && current.isConnected();
    }

    /**
     * The options the client was made with.
     *
     * @return the options
     */
    public ClientOptions options() {
        return options;
    }

    /**
     * Closes the connection, fails every pending command and wait with {@link
     * EslConnectionClosedException}, and stops delivery. Idempotent.
     */
    @Override
    public void close() {
        synchronized (firstConnect) {
            if (closed) {
                return;
            }
            closed = true;
        }
        closing.countDown();
        closeConnection();
        failPending("client closed");
        watchdog.close();
        dispatcher.close();
        fireConnectionEvent(new ConnectionEvent(ConnectionEvent.Type.CLOSED, "closed by the application", Duration.ZERO, 0));
    }

    private void failPending(String reason) {
        List<CompletableFuture<?>> waiting;
        synchronized (pending) {
            waiting = new ArrayList<>(pending);
            pending.clear();
        }
        for (CompletableFuture<?> future : waiting) {
            future.completeExceptionally(new EslConnectionClosedException(reason));
        }
    }

    private void fireConnectionEvent(ConnectionEvent event) {
        for (ConnectionListener listener : connectionListeners) {
            try {
                listener.onConnectionEvent(event);
            } catch (RuntimeException ignored) {
                // A listener's bug must not stop the reader.
            }
        }
    }

    // ---- reader -----------------------------------------------------------------------------------

    private void readLoop() {
        dispatcher.dispatchUntilEnded(connection.inbox(POLL_BATCH), () -> closed, this::onNotice, views);
        if (!closed) {
            lostForGood();
        }
    }

    /** Turns the engine's overload and reconnect notices into connection events, in stream order. */
    private void onNotice(int kind, EslEvent envelope) {
        if (kind == FrameCodec.KIND_DISCONNECTED) {
            fireConnectionEvent(new ConnectionEvent(ConnectionEvent.Type.DISCONNECTED, "connection lost", Duration.ZERO, 0));
        } else if (kind == FrameCodec.KIND_OVERLOADED) {
            fireConnectionEvent(ConnectionEvent.overloaded(Long.parseLong(envelope.header("Overload-Dropped")),
                    Long.parseLong(envelope.header("Overload-Critical-Dropped")),
                    Long.parseLong(envelope.header("Overload-Queued"))));
        } else if (kind == FrameCodec.KIND_RECONNECTED) {
            int attempts = Integer.parseInt(envelope.header("Reconnect-Attempts"));
            long gapMicros = Long.parseLong(envelope.header("Reconnect-Gap-Micros"));
            Duration gap = Duration.ofNanos(TimeUnit.MICROSECONDS.toNanos(gapMicros));
            fireConnectionEvent(new ConnectionEvent(ConnectionEvent.Type.RECONNECTED,
                    "reconnected after " + attempts + " attempt(s)", gap, attempts));
        }
    }

    /**
     * The engine ended the connection: lost without a reconnect policy (no notice came from the
     * engine, so DISCONNECTED is told here), or the policy gave up.
     */
    private void lostForGood() {
        ReconnectPolicy policy = options.reconnect();
        if (!policy.enabled()) {
            fireConnectionEvent(new ConnectionEvent(ConnectionEvent.Type.DISCONNECTED, "connection lost", Duration.ZERO, 0));
        }
        closed = true;
        closeConnection();
        failPending("connection lost");
        dispatcher.close();
        watchdog.close();
        fireConnectionEvent(new ConnectionEvent(ConnectionEvent.Type.CLOSED,
                policy.enabled() ? "reconnect gave up" : "connection lost", Duration.ZERO, 0));
    }

    @Override
    public String toString() {
        return "EslClient{" + options.host() + ":" + options.port() + (closed ? ", closed" : "") + "}";
    }
}
