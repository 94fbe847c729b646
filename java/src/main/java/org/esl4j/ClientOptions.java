package org.esl4j;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * Settings of an {@link EslClient}.
 *
 * <pre>{@code
 * ClientOptions options = ClientOptions.builder()
 *         .host("10.0.0.5").port(8021).password("ClueCon")
 *         .connectTimeout(Duration.ofSeconds(5))
 *         .commandTimeout(Duration.ofSeconds(30))
 *         .reconnect(ReconnectPolicy.backoff(Duration.ofMillis(500), Duration.ofSeconds(30), 0))
 *         .delivery(DeliveryOptions.builder().threads(8).build())
 *         .build();
 * }</pre>
 */
public final class ClientOptions {
    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final Duration connectTimeout;
    private final Duration commandTimeout;
    private final EventFormat eventFormat;
    private final ReconnectPolicy reconnect;
    private final DeliveryOptions delivery;
    private final Duration watchdogMargin;
    private final Executor completionExecutor;

    private ClientOptions(Builder builder) {
        this.host = builder.host;
        this.port = builder.port;
        this.user = builder.user;
        this.password = builder.password;
        this.connectTimeout = builder.connectTimeout;
        this.commandTimeout = builder.commandTimeout;
        this.eventFormat = builder.eventFormat;
        this.reconnect = builder.reconnect;
        this.delivery = builder.delivery;
        this.watchdogMargin = builder.watchdogMargin;
        this.completionExecutor = builder.completionExecutor;
    }

    /**
     * Starts from the defaults: {@code 127.0.0.1:8021}, password {@code ClueCon}, 5 s connect,
     * 30 s command deadline, plain events, no reconnect, default delivery, 5 s watchdog margin,
     * futures completed on the common fork-join pool.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The host.
     *
     * @return the host name or address
     */
    public String host() {
        return host;
    }

    /**
     * The port.
     *
     * @return the port
     */
    public int port() {
        return port;
    }

    /**
     * The {@code userauth} user.
     *
     * @return {@code user@domain}, or null for plain {@code auth}
     */
    public String user() {
        return user;
    }

    /**
     * The password.
     *
     * @return the password
     */
    String password() {
        return password;
    }

    /**
     * Deadline for connecting and authenticating.
     *
     * @return the deadline
     */
    public Duration connectTimeout() {
        return connectTimeout;
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
     * The event format.
     *
     * @return the format
     */
    public EventFormat eventFormat() {
        return eventFormat;
    }

    /**
     * The reconnect policy.
     *
     * @return the policy
     */
    public ReconnectPolicy reconnect() {
        return reconnect;
    }

    /**
     * Event delivery settings.
     *
     * @return the settings
     */
    public DeliveryOptions delivery() {
        return delivery;
    }

    /**
     * Time the watchdog allows beyond an originate's timeouts.
     *
     * @return the margin
     */
    public Duration watchdogMargin() {
        return watchdogMargin;
    }

    /**
     * Where the futures of the client are completed (see {@link Builder#completionExecutor}).
     *
     * @return the executor
     */
    public Executor completionExecutor() {
        return completionExecutor;
    }

    @Override
    public String toString() {
        return "ClientOptions{" + host + ":" + port + (user == null ? "" : ", user=" + user) + ", format=" + eventFormat + "}";
    }

    /** Collects {@link ClientOptions}. Not thread-safe. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 8021;
        private String user;
        private String password = "ClueCon";
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration commandTimeout = Duration.ofSeconds(30);
        private EventFormat eventFormat = EventFormat.PLAIN;
        private ReconnectPolicy reconnect = ReconnectPolicy.none();
        private DeliveryOptions delivery = DeliveryOptions.defaults();
        private Duration watchdogMargin = Duration.ofSeconds(5);
        private Executor completionExecutor = ForkJoinPool.commonPool();

        private Builder() {}

        /**
         * The FreeSWITCH host.
         *
         * @param value host name or address
         * @return this builder
         */
        public Builder host(String value) {
            host = Objects.requireNonNull(value, "host");
            return this;
        }

        /**
         * The event socket port.
         *
         * @param value 1..65535
         * @return this builder
         */
        public Builder port(int value) {
            if (value < 1 || value > 65535) {
                throw new IllegalArgumentException("port out of range: " + value);
            }
            port = value;
            return this;
        }

        /**
         * The password for {@code auth}.
         *
         * @param value the password
         * @return this builder
         */
        public Builder password(String value) {
            password = Objects.requireNonNull(value, "password");
            return this;
        }

        /**
         * Authenticate with {@code userauth user@domain:password} instead of {@code auth}.
         *
         * @param value {@code user@domain}
         * @return this builder
         */
        public Builder user(String value) {
            if (value != null && value.indexOf('@') < 0) {
                throw new IllegalArgumentException("user must be user@domain: " + value);
            }
            user = value;
            return this;
        }

        /**
         * Deadline for connecting and authenticating.
         *
         * @param value a positive duration
         * @return this builder
         */
        public Builder connectTimeout(Duration value) {
            connectTimeout = Futures.requirePositive(value, "connectTimeout");
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
         * The event format.
         *
         * @param value the format
         * @return this builder
         */
        public Builder eventFormat(EventFormat value) {
            eventFormat = Objects.requireNonNull(value, "eventFormat");
            return this;
        }

        /**
         * The reconnect policy.
         *
         * @param value the policy
         * @return this builder
         */
        public Builder reconnect(ReconnectPolicy value) {
            reconnect = Objects.requireNonNull(value, "reconnect");
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
         * Time the watchdog allows beyond an originate's timeouts.
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
         * Completes the futures this client returns on this executor (default: the common
         * fork-join pool), so that stages chained to them without {@code ...Async} run there,
         * never on the library's reader, timer or event-delivery threads. The library does not
         * shut it down. It must run tasks on its own threads (not {@code Runnable::run}) and keep
         * one free for the library: {@code connect} and a reconnect wait for it.
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
        public ClientOptions build() {
            return new ClientOptions(this);
        }
    }
}
