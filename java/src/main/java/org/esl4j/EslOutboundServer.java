package org.esl4j;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Objects;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
import org.esl4j.internal.NativeConnection;
import org.esl4j.internal.NativeServer;

/**
 * The server FreeSWITCH's {@code socket} dialplan application connects to (outbound mode): one
 * {@link EslSession} per call, each handled by a {@link SessionHandler} on its own thread —
 * a virtual thread when the JVM has them (Java 21+), else a platform thread — so a handler that
 * blocks never stalls other calls. The events of all sessions are read by one shared thread, so
 * a session costs no thread of its own beyond its handler's.
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
    /** How long one poll for routed events waits, so that the reader notices a close soon. */
    private static final long EVENT_WAIT_MS = 200;

    private final ServerOptions options;
    private final SessionHandler handler;
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
    private final Set<EslSession> live = ConcurrentHashMap.newKeySet();
    private volatile boolean accepting = true;
    private volatile boolean closed;
    /** The listener's last counters, read just before it was freed; null while it is open. */
    private volatile NativeServer.Stats finalStats;

    private EslOutboundServer(ServerOptions options, SessionHandler handler) {
        this.options = options;
        this.handler = handler;
        NativeConnection.Settings settings = new NativeConnection.Settings()
                .commandTimeoutMs(options.commandTimeout().toMillis())
                // BLOCK must reach the engine too, or its own queue would drop what delivery keeps.
                .blockOnOverflow(options.delivery().overflowPolicy() == OverflowPolicy.BLOCK)
                .executor(options.completionExecutor());
        this.server = NativeServer.bind(options.host(), options.port(), options.maxSessions(),
                options.handshakeTimeout().toMillis(), settings);
        this.dispatcher = new EventDispatcher(router, options.delivery(), "esl4j-session-events");
        this.ownsHandlers = options.handlerExecutor() == null;
        this.handlers = ownsHandlers ? defaultHandlerExecutor(options.maxSessions()) : options.handlerExecutor();
        this.acceptor = new Thread(this::acceptLoop, "esl4j-outbound-accept-" + port());
        this.acceptor.setDaemon(true);
        // It blocks in native code, which would pin a virtual thread's carrier: a platform thread.
        this.eventReader = new Thread(this::readEvents, "esl4j-outbound-events-" + port());
        this.eventReader.setDaemon(true);
    }

    /**
     * Binds and starts accepting calls.
     *
     * @param options the settings
     * @param handler handles each call
     * @return the running server
     * @throws EslException when the address cannot be bound
     */
    public static EslOutboundServer start(ServerOptions options, SessionHandler handler) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(handler, "handler");
        EslOutboundServer started = new EslOutboundServer(options, handler);
        started.eventReader.start();
        started.acceptor.start();
        return started;
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
            handlers.execute(() -> runHandler(session));
        } catch (RejectedExecutionException | EslException notStarted) {
            // It stays routed: its end still comes through the reader (or when the reader stops).
            live.remove(session);
            session.close();
        }
    }

    /**
     * The one reader of every session's events: moves them to the dispatcher (which keeps each
     * channel's order) and ends a session's futures when its connection has ended.
     */
    private void readEvents() {
        try {
            while (true) {
                NativeServer.Routed next;
                try {
                    next = server.poll(EVENT_WAIT_MS);
                } catch (RuntimeException listenerClosed) {
                    return;
                }
                if (next == null) {
                    continue;
                }
                // A session's envelopes (its disconnect notice) end it through next.ended below.
                dispatcher.dispatchEvents(next.items, envelope -> { });
                if (next.ended) {
                    EslSession session = routed.remove(next.key);
                    if (session != null) {
                        session.connectionEnded();
                    }
                }
            }
        } finally {
            // Sessions whose end never came through (the listener was closed first) end now.
            for (EslSession session : routed.values()) {
                session.connectionEnded();
            }
            routed.clear();
        }
    }

    private void runHandler(EslSession session) {
        try {
            session.prepare();
            handler.handle(session);
        } catch (Exception | LinkageError | AssertionError failure) {
            handlerFailures.incrementAndGet();
        } finally {
            live.remove(session);
            session.close();
        }
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
            return new OutboundStats(last.sessions, last.rejectedOverCap, last.handshakeFailures, 0, handlerFailures.get());
        }
        NativeServer.Stats stats = server.stats();
        return new OutboundStats(stats.sessions, stats.rejectedOverCap, stats.handshakeFailures, stats.active,
                handlerFailures.get());
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
