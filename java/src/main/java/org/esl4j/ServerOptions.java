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
    private final Duration handshakeTimeout;
    private final Duration linger;
    private final ExecutorService handlerExecutor;

    private ServerOptions(Builder builder) {
        super(builder);
        this.maxSessions = builder.maxSessions;
        this.handshakeTimeout = builder.handshakeTimeout;
        this.linger = builder.linger;
        this.handlerExecutor = builder.handlerExecutor;
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
        private Duration handshakeTimeout = Duration.ofSeconds(5);
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
