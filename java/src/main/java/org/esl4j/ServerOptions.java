package org.esl4j;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;

/**
 * Settings of an {@link EslOutboundServer}.
 *
 * <pre>{@code
 * ServerOptions options = ServerOptions.builder()
 *         .port(8084)                       // dialplan: <action application="socket" data="127.0.0.1:8084 async full"/>
 *         .maxSessions(500)
 *         .linger(Duration.ofSeconds(10))   // keep receiving the call's last events after hang-up
 *         .build();
 * }</pre>
 */
public final class ServerOptions {
    private final String host;
    private final int port;
    private final int maxSessions;
    private final Duration handshakeTimeout;
    private final Duration commandTimeout;
    private final Duration linger;
    private final EventFormat eventFormat;
    private final ExecutorService handlerExecutor;
    private final DeliveryOptions delivery;
    private final Duration watchdogMargin;
    private final Executor completionExecutor;

    private ServerOptions(Builder builder) {
        this.host = builder.host;
        this.port = builder.port;
        this.maxSessions = builder.maxSessions;
        this.handshakeTimeout = builder.handshakeTimeout;
        this.commandTimeout = builder.commandTimeout;
        this.linger = builder.linger;
        this.eventFormat = builder.eventFormat;
        this.handlerExecutor = builder.handlerExecutor;
        this.delivery = builder.delivery;
        this.watchdogMargin = builder.watchdogMargin;
        this.completionExecutor = builder.completionExecutor;
    }

    /**
     * Starts from the defaults: {@code 127.0.0.1:8084}, 1024 sessions, 5 s handshake, 30 s
     * commands, linger 10 s (only with {@code full}), plain events, handlers on virtual threads
     * when available, futures completed on the common fork-join pool.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The bind address.
     *
     * @return the address
     */
    public String host() {
        return host;
    }

    /**
     * The port (0: any free port).
     *
     * @return the port
     */
    public int port() {
        return port;
    }

    /**
     * The most sessions at once.
     *
     * @return the cap
     */
    public int maxSessions() {
        return maxSessions;
    }

    /**
     * Deadline for FreeSWITCH's reply to {@code connect}.
     *
     * @return the deadline
     */
    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /**
     * Default deadline for a command's reply.
     *
     * @return the deadline
     */
    public Duration commandTimeout() {
        return commandTimeout;
    }

    /**
     * How long FreeSWITCH keeps the socket after hang-up; zero for no {@code linger}.
     *
     * @return the linger time
     */
    public Duration linger() {
        return linger;
    }

    /**
     * The event format for {@code myevents}.
     *
     * @return the format
     */
    public EventFormat eventFormat() {
        return eventFormat;
    }

    /**
     * The executor for handlers, or null for the library's own (virtual threads when available).
     *
     * @return the executor or null
     */
    public ExecutorService handlerExecutor() {
        return handlerExecutor;
    }

    /**
     * Event delivery settings for all sessions.
     *
     * @return the settings
     */
    public DeliveryOptions delivery() {
        return delivery;
    }

    /**
     * Time the watchdog allows beyond a bridge's ring timeouts.
     *
     * @return the margin
     */
    public Duration watchdogMargin() {
        return watchdogMargin;
    }

    /**
     * Where the futures of the sessions are completed (see {@link Builder#completionExecutor}).
     *
     * @return the executor
     */
    public Executor completionExecutor() {
        return completionExecutor;
    }

    /** Collects {@link ServerOptions}. Not thread-safe. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 8084;
        private int maxSessions = 1024;
        private Duration handshakeTimeout = Duration.ofSeconds(5);
        private Duration commandTimeout = Duration.ofSeconds(30);
        private Duration linger = Duration.ofSeconds(10);
        private EventFormat eventFormat = EventFormat.PLAIN;
        private ExecutorService handlerExecutor;
        private DeliveryOptions delivery = DeliveryOptions.defaults();
        private Duration watchdogMargin = Duration.ofSeconds(5);
        private Executor completionExecutor = ForkJoinPool.commonPool();

        private Builder() {}

        /**
         * The bind address (default {@code 127.0.0.1}; {@code 0.0.0.0} for every interface).
         *
         * @param value the address
         * @return this builder
         */
        public Builder host(String value) {
            host = Objects.requireNonNull(value, "host");
            return this;
        }

        /**
         * The port; 0 picks a free one (see {@link EslOutboundServer#port()}).
         *
         * @param value 0..65535
         * @return this builder
         */
        public Builder port(int value) {
            if (value < 0 || value > 65535) {
                throw new IllegalArgumentException("port out of range: " + value);
            }
            port = value;
            return this;
        }

        /**
         * The most sessions at once; more are closed at once.
         *
         * @param value at least 1
         * @return this builder
         */
        public Builder maxSessions(int value) {
            if (value < 1) {
                throw new IllegalArgumentException("maxSessions must be at least 1: " + value);
            }
            maxSessions = value;
            return this;
        }

        /**
         * Deadline for FreeSWITCH's reply to {@code connect}.
         *
         * @param value a positive duration
         * @return this builder
         */
        public Builder handshakeTimeout(Duration value) {
            handshakeTimeout = Futures.requirePositive(value, "handshakeTimeout");
            return this;
        }

        /**
         * Default deadline for a command's reply.
         *
         * @param value a positive duration
         * @return this builder
         */
        public Builder commandTimeout(Duration value) {
            commandTimeout = Futures.requirePositive(value, "commandTimeout");
            return this;
        }

        /**
         * Linger after hang-up (whole seconds, rounded up); zero for none. Needs {@code full} on
         * the socket application, and is skipped without it.
         *
         * @param value zero or more
         * @return this builder
         */
        public Builder linger(Duration value) {
            if (value.isNegative()) {
                throw new IllegalArgumentException("linger must not be negative");
            }
            linger = value;
            return this;
        }

        /**
         * The event format for {@code myevents}.
         *
         * @param value the format
         * @return this builder
         */
        public Builder eventFormat(EventFormat value) {
            eventFormat = Objects.requireNonNull(value, "eventFormat");
            return this;
        }

        /**
         * Runs handlers on this executor (not shut down by the server).
         *
         * @param value the executor
         * @return this builder
         */
        public Builder handlerExecutor(ExecutorService value) {
            handlerExecutor = Objects.requireNonNull(value, "handlerExecutor");
            return this;
        }

        /**
         * Event delivery settings.
         *
         * @param value the settings
         * @return this builder
         */
        public Builder delivery(DeliveryOptions value) {
            delivery = Objects.requireNonNull(value, "delivery");
            return this;
        }

        /**
         * Time the watchdog allows beyond a bridge's ring timeouts.
         *
         * @param value zero or more
         * @return this builder
         */
        public Builder watchdogMargin(Duration value) {
            if (value.isNegative()) {
                throw new IllegalArgumentException("watchdogMargin must not be negative");
            }
            watchdogMargin = value;
            return this;
        }

        /**
         * Completes the futures the sessions return on this executor (default: the common
         * fork-join pool), so that stages chained to them without {@code ...Async} run there,
         * never on the library's reader, timer or event-delivery threads. The server does not
         * shut it down. It must run tasks on its own threads (not {@code Runnable::run}) and keep
         * one free for the library: a session's setup ({@code myevents}, {@code linger}) waits
         * for it.
         *
         * @param value the executor
         * @return this builder
         */
        public Builder completionExecutor(Executor value) {
            completionExecutor = Objects.requireNonNull(value, "completionExecutor");
            return this;
        }

        /**
         * Makes the options.
         *
         * @return the immutable options
         */
        public ServerOptions build() {
            return new ServerOptions(this);
        }
    }
}
