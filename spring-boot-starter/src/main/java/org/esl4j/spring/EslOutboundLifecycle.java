package org.esl4j.spring;

import java.time.Duration;
import java.util.Collections;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.esl4j.EslException;
import org.esl4j.EslOutboundServer;
import org.esl4j.OutboundStats;
import org.esl4j.ServerOptions;
import org.esl4j.SessionHandler;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Runs the outbound server with the application context: listens once the context is ready, and
 * on shutdown stops accepting calls and lets the running ones finish for up to {@code
 * esl4j.outbound.drain-timeout} (within Spring's {@code spring.lifecycle.timeout-per-shutdown-phase})
 * before closing them. The bound port is published as {@value #LOCAL_PORT_PROPERTY} (like Spring
 * Boot's {@code local.server.port}), so {@code esl4j.outbound.port=0} tests can read it with
 * {@code @Value("${local.esl4j.outbound.port}")}.
 */
public final class EslOutboundLifecycle implements SmartLifecycle {
    /** Like a web server: started after ordinary beans, stopped before them. */
    static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 1024;
    /** The property holding the port the running server listens on. */
    public static final String LOCAL_PORT_PROPERTY = "local.esl4j.outbound.port";
    private static final String PORT_SOURCE = "esl4j.outbound.localPort";
    private static final Log LOG = LogFactory.getLog(EslOutboundLifecycle.class);

    private final ServerOptions options;
    private final SessionHandler handler;
    private final Duration drain;
    private final CommandTimings commandTimings;
    private final ConfigurableEnvironment environment;
    private volatile EslOutboundServer server;
    /** The server started last; kept after it stops, since its final counters stay readable. */
    private volatile EslOutboundServer lastStarted;

    EslOutboundLifecycle(ServerOptions options, SessionHandler handler, Duration drain, CommandTimings commandTimings,
            ConfigurableEnvironment environment) {
        this.options = options;
        this.handler = handler;
        this.drain = drain;
        this.commandTimings = commandTimings;
        this.environment = environment;
    }

    /** The observer the sessions' commands report to (the options' command observer). */
    CommandTimings commandTimings() {
        return commandTimings;
    }

    @Override
    public synchronized void start() {
        if (server != null) {
            return;
        }
        try {
            server = EslOutboundServer.start(options, handler);
            lastStarted = server;
        } catch (EslException failure) {
            throw new EslStartupException("Cannot run the esl4j outbound server on " + options.host() + ":" + options.port()
                    + ": " + failure.getMessage(),
                    "Free the port, or set esl4j.outbound.bind-address / esl4j.outbound.port (and the socket application's"
                            + " address in the dialplan) to one that can be bound.", failure);
        }
        // Replaced on each start: a restarted server with port 0 gets another port.
        environment.getPropertySources().remove(PORT_SOURCE);
        environment.getPropertySources().addFirst(new MapPropertySource(PORT_SOURCE,
                Collections.singletonMap(LOCAL_PORT_PROPERTY, server.port())));
        LOG.info("esl4j outbound server listening on " + options.host() + ":" + server.port());
    }

    @Override
    public void stop() {
        EslOutboundServer running;
        synchronized (this) {
            running = server;
            server = null;
        }
        if (running != null) {
            running.shutdown(drain);
            LOG.info("esl4j outbound server stopped: " + running.stats());
        }
    }

    @Override
    public void stop(Runnable callback) {
        // Draining may take a while: off the caller's thread, so other beans of the phase stop meanwhile.
        Thread stopper = new Thread(() -> {
            try {
                stop();
            } finally {
                callback.run();
            }
        }, "esl4j-outbound-drain");
        stopper.setDaemon(true);
        stopper.start();
    }

    @Override
    public boolean isRunning() {
        return server != null;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    /**
     * The port the server listens on (useful with {@code esl4j.outbound.port=0}).
     *
     * @return the port
     * @throws IllegalStateException when the server is not running
     */
    public int port() {
        EslOutboundServer running = server;
        if (running == null) {
            throw new IllegalStateException("the esl4j outbound server is not running");
        }
        return running.port();
    }

    /**
     * The server's counters; after a stop, its final ones (so the counters never go back).
     *
     * @return the counters, or null before the first start
     */
    OutboundStats statsOrNull() {
        EslOutboundServer latest = lastStarted;
        return latest == null ? null : latest.stats();
    }
}
