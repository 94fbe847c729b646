package org.esl4j.internal;


/**
 * The native listener for FreeSWITCH's outbound {@code socket} connections. Not API: the
 * building block of {@code org.esl4j}'s outbound server and of the compat
 * {@code ESLconnection} server.
 *
 * <p>Each accepted connection has already done the {@code connect} handshake; it is returned as
 * a {@link NativeConnection} whose {@link NativeConnection#channelData()} holds the channel data.
 * Sessions beyond {@code maxSessions} are closed at once. Connections still in the handshake
 * count against {@code maxHandshakes} only, so silent peers cannot take session slots.
 *
 * <p>A session's items can be read from the session itself ({@link NativeConnection#inbox}) or,
 * once {@link #route routed}, by one thread for every session with {@link #pollRaw(long[], long)}.
 */
public final class NativeServer extends NativeHandle {
    private static final Lifecycle LIFECYCLE = new Lifecycle() {
        @Override
        public void shutdown(long handle) {
            Native.serverShutdown(handle, 0);
        }

        @Override
        public void destroy(long handle) {
            Native.serverDestroy(handle);
        }
    };

    /** Listener counters. */
    public static final class Stats {
        /** Sessions accepted (handshake done). */
        public final long sessions;
        /** Connections closed because {@code maxSessions} were active. */
        public final long rejectedOverCap;
        /** Connections whose {@code connect} handshake failed or timed out. */
        public final long handshakeFailures;
        /** Sessions alive now. */
        public final long active;

        Stats(long[] values) {
            sessions = values[0];
            rejectedOverCap = values[1];
            handshakeFailures = values[2];
            active = values[3];
        }
    }

    /** The sessions' settings (executor, command timeout). */
    private final NativeConnection.Settings sessionSettings;

    private NativeServer(long handle, NativeConnection.Settings sessionSettings) {
        super(handle, LIFECYCLE);
        this.sessionSettings = sessionSettings;
    }

    /**
     * Binds the listener.
     *
     * @param host address to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
     * @param port port, e.g. 8084; 0 picks a free one (see {@link #port()})
     * @param maxSessions most sessions at once, 0 for the default (1024)
     * @param maxHandshakes most connections in the {@code connect} handshake at once, apart from
     *     {@code maxSessions}; 0 for the default (1024)
     * @param handshakeTimeoutMs deadline for the {@code connect} reply, 0 for the default (5 s)
     * @param listenBacklog the listen backlog, 0 for the default (4096, capped by the kernel's
     *     {@code net.core.somaxconn})
     * @param settings per-session connection settings (command timeout, queue, executor)
     * @return the listening server
     * @throws org.esl4j.EslException if the address cannot be bound
     */
    public static NativeServer bind(String host, int port, int maxSessions, int maxHandshakes,
            long handshakeTimeoutMs, int listenBacklog, NativeConnection.Settings settings) {
        Native.ensureLoaded();
        String address = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]:" + port : host + ":" + port;
        long handle = Native.serverBind(NativeConnection.utf8(address), maxSessions, maxHandshakes,
                handshakeTimeoutMs, listenBacklog, settings.commandTimeoutMs, settings.queueCapacity,
                settings.blockOnOverflow, settings.spillMaxEvents, settings.spillMaxBytes);
        return new NativeServer(handle, settings);
    }

    /**
     * The bound port.
     *
     * @return the port
     */
    public int port() {
        long handle = acquire();
        try {
            return Native.serverPort(handle);
        } finally {
            release();
        }
    }

    /**
     * Waits for the next session. Blocks the calling thread, which must not be an esl4j engine
     * thread.
     *
     * @param timeoutMs how long to wait
     * @return the session, or null when none arrived in time
     * @throws org.esl4j.EslException once the server is shut down
     */
    public NativeConnection accept(long timeoutMs) {
        long handle = acquire();
        long session;
        try {
            session = Native.serverAccept(handle, timeoutMs);
        } finally {
            release();
        }
        return session == 0 ? null : NativeConnection.adopt(session, sessionSettings);
    }

    /**
     * From now on, {@code session}'s items go to {@link #pollRaw(long[], long)} tagged with {@code key},
     * followed by its end; do not also poll the session itself.
     *
     * @param session a session from {@link #accept(long)}
     * @param key the tag, unique among this server's routed sessions
     * @throws org.esl4j.EslException when the server or the session is closed
     */
    public void route(NativeConnection session, long key) {
        long handle = acquire();
        try {
            long connection = session.acquire();
            try {
                Native.serverRoute(handle, connection, key);
            } finally {
                session.release();
            }
        } finally {
            release();
        }
    }

    /** A batch of no items: what {@link #pollRaw} returns on timeout. */
    private static final byte[] EMPTY_BATCH = new byte[4];

    /**
     * Takes the next items of any routed session, waiting up to {@code timeoutMs}, for an
     * {@link EventInbox}. Blocks the calling thread, which must not be an esl4j engine thread.
     *
     * @param route set to the key the items' session was routed under (0 on timeout) and 1 when
     *     the session has ended (these were its last items; there may be none), else 0
     * @param timeoutMs how long to wait
     * @return the batch, empty on timeout
     * @throws org.esl4j.EslException once the server is closed
     */
    public byte[] pollRaw(long[] route, long timeoutMs) {
        route[0] = 0;
        route[1] = 0;
        byte[] batch;
        long handle = acquire();
        try {
            batch = Native.serverPoll(handle, route, timeoutMs);
        } finally {
            release();
        }
        return batch == null ? EMPTY_BATCH : batch;
    }

    /**
     * Listener counters.
     *
     * @return a snapshot
     */
    public Stats stats() {
        long handle = acquire();
        try {
            return new Stats(Native.serverStats(handle));
        } finally {
            release();
        }
    }

    /**
     * Stops accepting and waits up to {@code drainMs} for live sessions to end; then
     * {@link #close()} frees the server.
     *
     * @param drainMs how long to wait for sessions
     */
    public void shutdown(long drainMs) {
        long handle = acquire();
        try {
            Native.serverShutdown(handle, drainMs);
        } finally {
            release();
        }
    }
}
