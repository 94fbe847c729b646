package org.esl4j;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.esl4j.dial.AttemptWatchdog;
import org.esl4j.dial.HangupCause;
import org.esl4j.internal.EventInbox;
import org.esl4j.internal.FrameCodec;
import org.esl4j.internal.NativeConnection;
import org.esl4j.internal.NativeLog;
import org.esl4j.internal.NativeServer;

/**
 * The server FreeSWITCH's {@code socket} dialplan application connects to (outbound mode): one
 * {@link EslSession} per call, handled either by an {@link AsyncSessionHandler} ({@link
 * #startAsync}: no thread per call, on any Java version) or by a blocking {@link SessionHandler}
 * ({@link #start}) on its own thread — a virtual thread when the JVM has them (Java 21+), else a
 * platform thread — so a handler that blocks never stalls other calls. The events of all
 * sessions are read by one shared thread. When a session ends and what happens to the call when
 * its handler fails: see {@link AsyncSessionHandler}.
 *
 * <p>Dialplan: {@code <action application="socket" data="127.0.0.1:8084 async full"/>}.
 *
 * <pre>{@code
 * try (EslOutboundServer server = EslOutboundServer.start(ServerOptions.builder().port(8084).build(), session -> {
 *     session.answer(Duration.ofSeconds(5));
 *     BridgeResult result = session.bridge(BridgeRequest.to(Endpoint.user("2000"))
 *             .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build(), Duration.ofHours(2));
 *     if (!result.isAnswered()) {
 *         session.hangup(HangupCause.NO_ANSWER); // the channel was still up: our choice of cause
 *     }
 * })) {
 *     ...
 *     server.shutdown(Duration.ofSeconds(30)); // graceful: stop accepting, let calls finish
 * }
 * }</pre>
 */
public final class EslOutboundServer implements AutoCloseable {
    /** Session handler threads: esl4j-call-1, esl4j-call-2, ... */
    static final String CALL_THREAD_PREFIX = "esl4j-call-";
    private static final long ACCEPT_WAIT_MS = 200;
    private static final String LOG_TARGET = "esl4j::outbound";
    /** What a failed handler hangs the call up with (see {@link AsyncSessionHandler}). */
    static final HangupCause FAILED_HANDLER_CAUSE = HangupCause.NORMAL_TEMPORARY_FAILURE;
    /** How long one poll for routed events waits, so that the reader notices a close soon. */
    private static final long EVENT_WAIT_MS = 200;

    private final ServerOptions options;
    private final AsyncSessionHandler handler;
    private final NativeServer server;
    private final EventRouter router = new EventRouter();
    private final EventDispatcher dispatcher;
    private final AttemptWatchdog watchdog = AttemptWatchdog.create();
    private final ExecutorService handlers;
    private final boolean ownsHandlers;
    private final Thread acceptor;
    private final Thread eventReader;
    /** Sessions whose events are routed to {@link #eventReader}, by route key. */
    private final Map<Long, EslSession> routed = new ConcurrentHashMap<>();
    /** The last route key handed out; only the acceptor thread uses it. */
    private long lastRouteKey;
    private final AtomicLong handlerFailures = new AtomicLong();
    private final AtomicLong overloadedSessions = new AtomicLong();
    private final AtomicLong criticalDropped = new AtomicLong();
    private final Set<EslSession> live = ConcurrentHashMap.newKeySet();
    private volatile boolean accepting = true;
    private volatile boolean closed;
    /** The listener's last counters, read just before it was freed; null while it is open. */
    private volatile NativeServer.Stats finalStats;

    private EslOutboundServer(ServerOptions options, AsyncSessionHandler handler, ExecutorService handlers,
            boolean ownsHandlers) {
        this.options = options;
        this.handler = handler;
        this.handlers = handlers;
        this.ownsHandlers = ownsHandlers;
        NativeConnection.Settings settings = new NativeConnection.Settings()
                .commandTimeoutMs(options.commandTimeout().toMillis())
                // BLOCK must reach the engine too, or its own queue would drop what delivery keeps.
                .blockOnOverflow(options.delivery().overflowPolicy() == OverflowPolicy.BLOCK)
                .spill(options.spillMaxEvents(), options.spillMaxBytes())
                .executor(options.completionExecutor());
        this.server = NativeServer.bind(options.host(), options.port(), options.maxSessions(),
                options.maxHandshakes(), options.handshakeTimeout().toMillis(), options.listenBacklog(), settings);
        this.dispatcher = new EventDispatcher(router, options.delivery(), "esl4j-session-events");
        this.acceptor = new Thread(this::acceptLoop, "esl4j-outbound-accept-" + port());
        this.acceptor.setDaemon(true);
        // It blocks in native code, which would pin a virtual thread's carrier: a platform thread.
        this.eventReader = new Thread(this::readEvents, "esl4j-outbound-events-" + port());
        this.eventReader.setDaemon(true);
    }

    /**
     * Binds and starts accepting calls, each handled by a blocking handler on its own thread
     * ({@link ServerOptions#handlerExecutor()}, by default a virtual thread on Java 21+).
     *
     * @param options the settings
     * @param handler handles each call
     * @return the running server
     * @throws EslException when the address cannot be bound
     */
    public static EslOutboundServer start(ServerOptions options, SessionHandler handler) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(handler, "handler");
        boolean owned = options.handlerExecutor() == null;
        ExecutorService threads = owned ? defaultHandlerExecutor(options.maxSessions()) : options.handlerExecutor();
        try {
            return begin(new EslOutboundServer(options, onThreads(handler, threads), threads, owned));
        } catch (RuntimeException notBound) {
            if (owned) {
                threads.shutdownNow();
            }
            throw notBound;
        }
    }

    /**
     * Binds and starts accepting calls, each handled by an asynchronous handler that needs no
     * thread of its own ({@link ServerOptions#handlerExecutor()} is not used).
     *
     * @param options the settings
     * @param handler handles each call
     * @return the running server
     * @throws EslException when the address cannot be bound
     */
    public static EslOutboundServer startAsync(ServerOptions options, AsyncSessionHandler handler) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(handler, "handler");
        return begin(new EslOutboundServer(options, handler, null, false));
    }

    private static EslOutboundServer begin(EslOutboundServer started) {
        started.eventReader.start();
        started.acceptor.start();
        return started;
    }

    /** A blocking handler as a stage: it runs on one of {@code threads} and completes when it returns. */
    static AsyncSessionHandler onThreads(SessionHandler handler, Executor threads) {
        return session -> {
            CompletableFuture<Void> returned = new CompletableFuture<>();
            threads.execute(() -> {
                try {
                    handler.handle(session);
                    returned.complete(null);
                } catch (Throwable failure) {
                    returned.completeExceptionally(failure);
                }
            });
            return returned;
        };
    }

    /**
     * Virtual threads named {@code esl4j-call-N} (Java 21+, found by reflection so the library runs
     * on Java 8), else a pool of platform threads with the same names.
     */
    static ExecutorService defaultHandlerExecutor(int maxThreads) {
        try {
            // Thread.ofVirtual().name("esl4j-call-", 1).factory(), through the public Thread.Builder.
            Class<?> builderType = Class.forName("java.lang.Thread$Builder");
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            builder = builderType.getMethod("name", String.class, long.class).invoke(builder, CALL_THREAD_PREFIX, 1L);
            ThreadFactory factory = (ThreadFactory) builderType.getMethod("factory").invoke(builder);
            Method perTask = Executors.class.getMethod("newThreadPerTaskExecutor", ThreadFactory.class);
            return (ExecutorService) perTask.invoke(null, factory);
        } catch (ReflectiveOperationException | RuntimeException notAvailable) {
            return boundedPool(maxThreads, daemonThreads(CALL_THREAD_PREFIX));
        }
    }

    private static ExecutorService boundedPool(int maxThreads, ThreadFactory threads) {
        return new ThreadPoolExecutor(0, maxThreads, 60, TimeUnit.SECONDS, new SynchronousQueue<Runnable>(), threads);
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    private void acceptLoop() {
        while (accepting) {
            NativeConnection connection;
            try {
                connection = server.accept(ACCEPT_WAIT_MS);
            } catch (RuntimeException shutDown) {
                break;
            }
            if (connection != null) {
                startSession(connection);
            }
        }
    }

    private void startSession(NativeConnection connection) {
        EslSession session = new EslSession(this, connection);
        long key = ++lastRouteKey;
        live.add(session);
        // Registered before routing, so the reader knows the session when its first items come.
        routed.put(key, session);
        try {
            server.route(connection, key);
        } catch (EslException notRouted) {
            // It stays routed: its end still comes through the reader (or when the reader stops).
            live.remove(session);
            session.close();
            return;
        }
        // Async, not thenCompose: a prepare() whose replies came before this line would run the
        // handler here, on the accept thread, where a slow handler holds up every later call.
        session.prepare().thenComposeAsync(ready -> invoke(handler, session), this::onExecutor)
                .whenComplete((done, failure) -> onExecutor(() -> endSession(session, failure, false)));
    }

    /** Called by the event reader once a session's connection has ended and its last events went out. */
    private void connectionEnded(EslSession session) {
        session.connectionEnded();
        // The clean-up moves to the completion executor.
        onExecutor(() -> endSession(session, null, true));
    }

    private static CompletableFuture<Object> invoke(AsyncSessionHandler handler, EslSession session) {
        CompletableFuture<Object> outcome = new CompletableFuture<>();
        try {
            CompletionStage<?> stage = handler.handle(session);
            if (stage == null) {
                throw new NullPointerException("the session handler returned null instead of a stage");
            }
            stage.whenComplete((value, failure) -> {
                if (failure != null) {
                    outcome.completeExceptionally(failure);
                } else {
                    outcome.complete(value);
                }
            });
        } catch (Throwable failure) {
            outcome.completeExceptionally(failure);
        }
        return outcome;
    }

    private void onExecutor(Runnable task) {
        try {
            options.completionExecutor().execute(task);
        } catch (RejectedExecutionException shutDown) {
            task.run();
        }
    }

    /**
     * Ends a session once: at its handler's outcome or at the end of its connection, whichever
     * comes first (the rule is documented on {@link AsyncSessionHandler}).
     */
    private void endSession(EslSession session, Throwable failure, boolean connectionEnded) {
        if (!session.end()) {
            return;
        }
        live.remove(session);
        if (failure == null || connectionEnded) {
            session.close();
            return;
        }
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (!session.isChannelUp()) {
            NativeLog.log(NativeLog.DEBUG, LOG_TARGET, session + ": handler ended after the hang-up: " + cause);
            session.close();
            return;
        }
        handlerFailures.incrementAndGet();
        NativeLog.log(NativeLog.WARN, LOG_TARGET, session + ": handler failed; hanging up with "
                + FAILED_HANDLER_CAUSE + ": " + stackTrace(cause));
        session.hangup(FAILED_HANDLER_CAUSE).whenComplete((done, refused) -> session.close());
    }

    private static String stackTrace(Throwable failure) {
        StringWriter text = new StringWriter();
        failure.printStackTrace(new PrintWriter(text));
        return text.toString();
    }

    /**
     * The one reader of every session's events: moves them to the dispatcher (which keeps each
     * channel's order) and ends a session's futures when its connection has ended.
     */
    private void readEvents() {
        long[] route = new long[2];
        EventInbox inbox = new EventInbox(timeoutMs -> server.pollRaw(route, timeoutMs));
        try {
            for (FrameCodec.Batch batch = inbox.take(EVENT_WAIT_MS); batch != null;
                    batch = inbox.take(EVENT_WAIT_MS)) {
                if (route[0] == 0) {
                    continue; // timed out
                }
                // A session's other items (its disconnect notice) end it through route[1] below;
                // an overload is counted and said, as the engine closed the call's socket for it.
                long key = route[0];
                dispatcher.dispatchEvents(batch, (kind, item) -> {
                    if (kind == FrameCodec.KIND_OVERLOADED) {
                        overloaded(routed.get(key), item);
                    }
                });
                if (route[1] != 0) {
                    EslSession session = routed.remove(route[0]);
                    if (session != null) {
                        connectionEnded(session);
                    }
                }
            }
        } finally {
            // Sessions whose end never came through (the listener was closed first) end now.
            for (EslSession session : routed.values()) {
                connectionEnded(session);
            }
            routed.clear();
        }
    }

    private void overloaded(EslSession session, EslEvent notice) {
        overloadedSessions.incrementAndGet();
        long critical = Long.parseLong(notice.header("Overload-Critical-Dropped"));
        criticalDropped.addAndGet(critical);
        NativeLog.log(NativeLog.WARN, LOG_TARGET, session + ": event queue reached its hard cap with "
                + notice.header("Overload-Queued") + " events queued (" + notice.header("Overload-Dropped")
                + " ordinary and " + critical + " call-ending events dropped); the call's socket was closed");
    }

    ServerOptions options() {
        return options;
    }

    EventRouter router() {
        return router;
    }

    EventDispatcher dispatcher() {
        return dispatcher;
    }

    AttemptWatchdog watchdog() {
        return watchdog;
    }

    /**
     * The bound port (useful with port 0).
     *
     * @return the port
     */
    public int port() {
        return server.port();
    }

    /**
     * The server's counters. After {@link #close()} (or {@link #shutdown(Duration)}) they stay
     * readable: the final counts, with no session active.
     *
     * @return a snapshot
     */
    public synchronized OutboundStats stats() {
        NativeServer.Stats last = finalStats;
        if (last != null) {
            return new OutboundStats(last.sessions, last.rejectedOverCap, last.handshakeFailures, 0, handlerFailures.get(),
                    overloadedSessions.get(), criticalDropped.get());
        }
        NativeServer.Stats stats = server.stats();
        return new OutboundStats(stats.sessions, stats.rejectedOverCap, stats.handshakeFailures, stats.active,
                handlerFailures.get(), overloadedSessions.get(), criticalDropped.get());
    }

    /**
     * Event delivery counters of all sessions.
     *
     * @return a snapshot
     */
    public DeliveryStats deliveryStats() {
        return dispatcher.stats();
    }

    /**
     * Graceful shutdown: stops accepting, waits up to {@code drain} for the running calls to end,
     * then closes what is left.
     *
     * @param drain how long running calls may continue
     */
    public void shutdown(Duration drain) {
        accepting = false;
        if (!closed) {
            server.shutdown(drain.toMillis());
        }
        close();
    }

    /** Stops at once: closes the listener and every session. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        accepting = false;
        for (EslSession session : live) {
            session.close();
        }
        synchronized (this) {
            // Kept before the listener is freed, so that stats() still answers after close.
            try {
                finalStats = server.stats();
            } finally {
                server.close();
            }
        }
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(5));
            eventReader.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
        if (ownsHandlers) {
            handlers.shutdownNow();
        }
        watchdog.close();
        dispatcher.close();
    }
}
