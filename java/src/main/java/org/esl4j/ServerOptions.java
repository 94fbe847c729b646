package org.esl4j;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutorService;

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
public final class ServerOptions extends ConnectionOptions {
    private final int maxSessions;
    private final int maxHandshakes;
    private final Duration handshakeTimeout;
    private final int listenBacklog;
    private final Duration linger;
    private final ExecutorService handlerExecutor;

    private ServerOptions(Builder builder) {
        super(builder);
        this.maxSessions = builder.maxSessions;
        this.maxHandshakes = builder.maxHandshakes;
        this.handshakeTimeout = builder.handshakeTimeout;
        this.listenBacklog = builder.listenBacklog;
        this.linger = builder.linger;
        this.handlerExecutor = builder.handlerExecutor;
    }

    /**
     * Starts from the defaults: {@code 127.0.0.1:8084}, 1024 sessions, 1024 handshakes at once,
     * 5 s handshake, listen backlog 4096, 30 s commands, linger 10 s (only with {@code full}), plain events, handlers on virtual threads
     * when available, futures completed on the common fork-join pool.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
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
     * The most connections in the {@code connect} handshake at once, apart from
     * {@link #maxSessions()}.
     *
     * @return the limit
     */
    public int maxHandshakes() {
        return maxHandshakes;
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
     * The listen backlog asked of the kernel.
     *
     * @return the backlog
     */
    public int listenBacklog() {
        return listenBacklog;
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
     * The executor for handlers, or null for the library's own (virtual threads when available).
     *
     * @return the executor or null
     */
    public ExecutorService handlerExecutor() {
        return handlerExecutor;
    }

    /** Collects {@link ServerOptions}. Not thread-safe. */
    public static final class Builder extends ConnectionOptions.Builder<Builder> {
        private int maxSessions = 1024;
        private int maxHandshakes = 1024;
        private Duration handshakeTimeout = Duration.ofSeconds(5);
        private int listenBacklog = 4096;
        private Duration linger = Duration.ofSeconds(10);
        private ExecutorService handlerExecutor;

        private Builder() {
            super(8084, 0);
        }

        @Override
        Builder self() {
            return this;
        }

        /**
         * The most sessions at once; more are closed at once. A connection takes a session slot
         * only once its {@code connect} handshake has succeeded.
         *
         * @param value at least 1
         * @return this builder
         */
        public Builder maxSessions(int value) {
            maxSessions = atLeastOne(value, "maxSessions");
            return this;
        }

        /**
         * The most connections in the {@code connect} handshake at once, apart from
         * {@link #maxSessions(int)}. When all are taken the server stops accepting until one
         * ends, and new connections wait in the listen backlog: peers that connect and stay
         * silent delay calls by up to {@link #handshakeTimeout(Duration)} but cannot refuse them.
         *
         * @param value at least 1
         * @return this builder
         */
        public Builder maxHandshakes(int value) {
            maxHandshakes = atLeastOne(value, "maxHandshakes");
            return this;
        }

        /**
         * The listen backlog: connections the kernel completes and holds until they are accepted,
         * so a burst of calls waits instead of retrying its SYN a second later. Linux caps it at
         * {@code net.core.somaxconn} (4096 since Linux 5.4, 128 before).
         *
         * @param value at least 1
         * @return this builder
         */
        public Builder listenBacklog(int value) {
            listenBacklog = atLeastOne(value, "listenBacklog");
            return this;
        }

        private static int atLeastOne(int value, String name) {
            if (value < 1) {
                throw new IllegalArgumentException(name + " must be at least 1: " + value);
            }
            return value;
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
         * Makes the options.
         *
         * @return the immutable options
         */
        public ServerOptions build() {
            return new ServerOptions(this);
        }
    }
}
