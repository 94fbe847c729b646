package org.freeswitch.esl;

import java.util.concurrent.atomic.AtomicInteger;

import org.esl4j.internal.Log;
import org.esl4j.internal.NativeConnection;
import org.esl4j.internal.NativeServer;

/**
 * Listens for FreeSWITCH's outbound {@code socket} connections and hands each call over as an
 * {@link ESLconnection} whose {@link ESLconnection#getInfo()} is the channel data: the Java
 * counterpart of libesl's {@code esl_listen} / {@code esl_listen_threaded} plus
 * {@code esl_attach_handle} (the {@code connect} handshake is already done). Not part of the SWIG
 * binding, which could not accept outbound calls from Java.
 *
 * <pre>{@code
 * ESLserver.listen("127.0.0.1", 8084, new ESLserver.Handler() {
 *     public void handle(ESLconnection con) {
 *         String uuid = con.getInfo().getHeader("unique-id", -1);
 *         con.execute("answer", null, null);
 *     }
 * });
 * }</pre>
 */
public class ESLserver implements AutoCloseable {
    private static final Log LOG = Log.of(ESLserver.class);
    private static final long ACCEPT_SLICE_MS = 500L;
    private static final AtomicInteger THREADS = new AtomicInteger();

    /** Handles one outbound call. */
    public interface Handler {
        /**
         * Runs the call, on its own thread. The connection is disconnected when this returns.
         *
         * @param connection the call's connection
         */
        void handle(ESLconnection connection);
    }

    private final NativeServer server;
    private volatile boolean closed;

    /**
     * Binds the listener.
     *
     * @param host address to listen on, e.g. {@code 127.0.0.1}
     * @param port port, e.g. 8084; 0 picks a free one (see {@link #port()})
     * @throws org.esl4j.EslException if the address cannot be bound
     */
    public ESLserver(String host, int port) {
        this.server = NativeServer.bind(host, port, 0, 0, 0, 0, ESLconnection.compatSettings());
    }

    /**
     * Binds and serves forever, one thread per call (libesl's {@code esl_listen_threaded}).
     *
     * @param host address to listen on
     * @param port port
     * @param handler runs each call
     */
    public static void listen(String host, int port, Handler handler) {
        try (ESLserver server = new ESLserver(host, port)) {
            server.serve(handler);
        }
    }

    /**
     * The bound port.
     *
     * @return the port
     */
    public int port() {
        return server.port();
    }

    /**
     * Waits for the next call.
     *
     * @param timeoutMs how long to wait
     * @return the call's connection, or null when none arrived in time or the server is closed
     */
    public ESLconnection accept(int timeoutMs) {
        if (closed) {
            return null;
        }
        try {
            NativeConnection session = server.accept(Math.max(0, timeoutMs));
            return session == null ? null : new ESLconnection(session);
        } catch (RuntimeException e) {
            if (!closed) {
                LOG.warn("accepting an outbound call failed", e);
            }
            return null;
        }
    }

    /**
     * Accepts calls until {@link #close()}, running {@code handler} for each on its own thread.
     *
     * @param handler runs each call
     */
    public void serve(final Handler handler) {
        while (!closed) {
            final ESLconnection connection = accept((int) ACCEPT_SLICE_MS);
            if (connection == null) {
                continue;
            }
            Thread thread = new Thread(new Runnable() {
                @Override
                public void run() {
                    try {
                        handler.handle(connection);
                    } catch (RuntimeException e) {
                        LOG.warn("outbound call handler failed", e);
                    } finally {
                        connection.disconnect();
                    }
                }
            }, "esl4j-call-" + THREADS.incrementAndGet());
            thread.start();
        }
    }

    /** Stops accepting calls; calls in progress continue until their handlers return. */
    @Override
    public void close() {
        closed = true;
        server.close();
    }
}
