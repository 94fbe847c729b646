package org.esl4j;

import java.time.Duration;
import java.util.Objects;

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
public final class ClientOptions extends ConnectionOptions {
    private final String user;
    private final String password;
    private final Duration connectTimeout;
    private final ReconnectPolicy reconnect;
    private final String serverName;

    private ClientOptions(Builder builder) {
        super(builder);
        this.user = builder.user;
        this.password = builder.password;
        this.connectTimeout = builder.connectTimeout;
        this.reconnect = builder.reconnect;
        this.serverName = builder.serverName;
    }

    /**
     * Starts from the defaults: {@code 127.0.0.1:8021}, password {@code ClueCon}, 5 s connect,
     * 30 s command deadline, plain events, no reconnect, default delivery, 5 s watchdog margin,
     * futures completed on the common fork-join pool, an event queue capped at 100,000 events or
     * 256 MiB.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder holding every setting of these options, to derive options that differ in a few.
     *
     * @return a new builder; changing it leaves these options as they are
     */
    public Builder toBuilder() {
        Builder builder = new Builder().copyOf(this);
        builder.user = user;
        builder.password = password;
        builder.connectTimeout = connectTimeout;
        builder.reconnect = reconnect;
        builder.serverName = serverName;
        return builder;
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
     * The reconnect policy.
     *
     * @return the policy
     */
    public ReconnectPolicy reconnect() {
        return reconnect;
    }

    /**
     * The name this server goes by in log lines (field {@code server}), next to its address.
     *
     * @return the name, or null for none
     */
    public String serverName() {
        return serverName;
    }

    @Override
    public String toString() {
        return "ClientOptions{" + (serverName == null ? "" : serverName + "@") + host() + ":" + port() + (user == null ? "" : ", user=" + user) + ", format=" + eventFormat() + "}";
    }

    /** Collects {@link ClientOptions}. Not thread-safe. */
    public static final class Builder extends ConnectionOptions.Builder<Builder> {
        private String user;
        private String password = "ClueCon";
        private Duration connectTimeout = Duration.ofSeconds(5);
        private ReconnectPolicy reconnect = ReconnectPolicy.none();
        private String serverName;

        private Builder() {
            super(8021, 1);
        }

        @Override
        Builder self() {
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
         * A name for this server in log lines (the engine's connection lines carry it as {@code
         * server=...} next to the address), e.g. the cluster node's or the Spring server's name.
         *
         * @param value one line of at most 100 characters, or null for none
         * @return this builder
         */
        public Builder serverName(String value) {
            if (value != null && (value.isEmpty() || value.length() > 100 || value.indexOf('\n') >= 0
                    || value.indexOf('\r') >= 0 || value.indexOf('\0') >= 0)) {
                throw new IllegalArgumentException("serverName must be one line of 1 to 100 characters: " + value);
            }
            serverName = value;
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
