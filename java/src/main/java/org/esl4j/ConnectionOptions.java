package org.esl4j;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.esl4j.internal.CompletionThreads;

/**
 * The settings the inbound client ({@link ClientOptions}) and the outbound server's sessions
 * ({@link ServerOptions}) share: address, command deadline, event format, event delivery,
 * watchdog margin, where futures complete and the event queue's hard cap. One definition, so that
 * the two cannot drift apart.
 */
abstract class ConnectionOptions {
    private final String host;
    private final int port;
    private final Duration commandTimeout;
    private final EventFormat eventFormat;
    private final DeliveryOptions delivery;
    private final Duration watchdogMargin;
    private final Executor completionExecutor;
    private final CommandObserver commandObserver;
    private final int spillMaxEvents;
    private final long spillMaxBytes;

    ConnectionOptions(Builder<?> builder) {
        this.host = builder.host;
        this.port = builder.port;
        this.commandTimeout = builder.commandTimeout;
        this.eventFormat = builder.eventFormat;
        this.delivery = builder.delivery;
        this.watchdogMargin = builder.watchdogMargin;
        this.completionExecutor = builder.completionExecutor;
        this.commandObserver = builder.commandObserver;
        this.spillMaxEvents = builder.spillMaxEvents;
        this.spillMaxBytes = builder.spillMaxBytes;
    }

    /**
     * The host: FreeSWITCH's for the client, the bind address for the server.
     *
     * @return the host name or address
     */
    public String host() {
        return host;
    }

    /**
     * The port: FreeSWITCH's event socket for the client, the listening port for the server (0:
     * any free one, see {@link EslOutboundServer#port()}).
     *
     * @return the port
     */
    public int port() {
        return port;
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
     * The event format ({@code event plain|json} on the client, {@code myevents} in a session).
     *
     * @return the format
     */
    public EventFormat eventFormat() {
        return eventFormat;
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
     * Time the watchdog allows beyond the ring timeouts of an originate or a bridge.
     *
     * @return the margin
     */
    public Duration watchdogMargin() {
        return watchdogMargin;
    }

    /**
     * Where returned futures are completed (see {@link Builder#completionExecutor(Executor)}).
     *
     * @return the executor
     */
    public Executor completionExecutor() {
        return completionExecutor;
    }

    /**
     * Who is told each command's duration and outcome.
     *
     * @return the observer, or null when none was set
     */
    public CommandObserver commandObserver() {
        return commandObserver;
    }

    /**
     * Hard cap of a connection's event queue in events (see {@link Builder#spill(int, long)}).
     *
     * @return the most events
     */
    public int spillMaxEvents() {
        return spillMaxEvents;
    }

    /**
     * Hard cap of a connection's event queue in bytes (see {@link Builder#spill(int, long)}).
     *
     * @return the most bytes of event frames
     */
    public long spillMaxBytes() {
        return spillMaxBytes;
    }

    /**
     * Collects the shared settings; {@code B} is the concrete builder, returned by every setter.
     *
     * @param <B> the concrete builder
     */
    abstract static class Builder<B extends Builder<B>> {
        private final int lowestPort;
        private String host = "127.0.0.1";
        private int port;
        private Duration commandTimeout = Duration.ofSeconds(30);
        private EventFormat eventFormat = EventFormat.PLAIN;
        private DeliveryOptions delivery = DeliveryOptions.defaults();
        private Duration watchdogMargin = Duration.ofSeconds(5);
        private Executor completionExecutor = CompletionThreads.shared();
        private CommandObserver commandObserver;
        private int spillMaxEvents = 100_000;
        private long spillMaxBytes = 256L * 1024 * 1024;

        Builder(int defaultPort, int lowestPort) {
            this.port = defaultPort;
            this.lowestPort = lowestPort;
        }

        /** This builder as its concrete type. */
        abstract B self();

        /** Takes every shared setting of {@code from}, for a {@code toBuilder()}. */
        final B copyOf(ConnectionOptions from) {
            host = from.host;
            port = from.port;
            commandTimeout = from.commandTimeout;
            eventFormat = from.eventFormat;
            delivery = from.delivery;
            watchdogMargin = from.watchdogMargin;
            completionExecutor = from.completionExecutor;
            commandObserver = from.commandObserver;
            spillMaxEvents = from.spillMaxEvents;
            spillMaxBytes = from.spillMaxBytes;
            return self();
        }

        /**
         * The host: FreeSWITCH's for the client, the address to bind for the server (default
         * {@code 127.0.0.1}; {@code 0.0.0.0} for every interface).
         *
         * @param value host name or address
         * @return this builder
         */
        public B host(String value) {
            host = Objects.requireNonNull(value, "host");
            return self();
        }

        /**
         * The port: FreeSWITCH's event socket for the client, 1..65535, default 8021; the port to
         * listen on for the server, 0..65535 where 0 picks a free one (see {@link
         * EslOutboundServer#port()}), default 8084.
         *
         * @param value the port
         * @return this builder
         */
        public B port(int value) {
            if (value < lowestPort || value > 65535) {
                throw new IllegalArgumentException("port out of range: " + value);
            }
            port = value;
            return self();
        }

        /**
         * Default deadline for a command's reply (default 30 s).
         *
         * @param value a positive duration
         * @return this builder
         */
        public B commandTimeout(Duration value) {
            commandTimeout = Futures.requirePositive(value, "commandTimeout");
            return self();
        }

        /**
         * The event format (default plain).
         *
         * @param value the format
         * @return this builder
         */
        public B eventFormat(EventFormat value) {
            eventFormat = Objects.requireNonNull(value, "eventFormat");
            return self();
        }

        /**
         * Event delivery settings (default {@link DeliveryOptions#defaults()}).
         *
         * @param value the settings
         * @return this builder
         */
        public B delivery(DeliveryOptions value) {
            delivery = Objects.requireNonNull(value, "delivery");
            return self();
        }

        /**
         * Time the watchdog allows beyond the ring timeouts of an originate or a bridge before it
         * ends the attempt itself (default 5 s).
         *
         * @param value zero or more
         * @return this builder
         */
        public B watchdogMargin(Duration value) {
            if (value.isNegative()) {
                throw new IllegalArgumentException("watchdogMargin must not be negative");
            }
            watchdogMargin = value;
            return self();
        }

        /**
         * Completes the futures the client or the sessions return on this executor (default: the
         * library's own daemon threads, made on demand, so that a stage that blocks cannot starve
         * other completions the way it can on the one-thread common pool of a 2-core machine), so
         * that stages chained to them without {@code ...Async} run there, never on the library's
         * reader, timer or event-delivery threads. The library
         * does not shut it down. It must run tasks on its own threads (not {@code Runnable::run})
         * and keep one free for the library: {@code connect}, a reconnect and a session's setup
         * ({@code myevents}, {@code linger}) wait for it.
         *
         * @param value the executor
         * @return this builder
         */
        public B completionExecutor(Executor value) {
            completionExecutor = Objects.requireNonNull(value, "completionExecutor");
            return self();
        }

        /**
         * Tells {@code observer} the duration and outcome of every command, e.g. for a latency
         * metric. It gets each command's name, never its arguments: the client's {@code api},
         * {@code bgapi} (including originates), {@code event}, {@code nixevent} and {@code filter};
         * an outbound session's {@code execute <app>} (answer, playback, bridge, ...),
         * {@code hangup}, {@code linger}, {@code api} and its set-up ({@code myevents}).
         *
         * @param observer the observer, or null for none (the default)
         * @return this builder
         */
        public B commandObserver(CommandObserver observer) {
            commandObserver = observer;
            return self();
        }

        /**
         * The hard cap of a connection's event queue in the native engine (default 100,000 events,
         * FreeSWITCH's own per-listener limit, and 256 MiB of frames). The queue normally holds
         * up to its soft bound; past it, it still takes every event while a command awaits its
         * reply (so a reply never waits behind unread events) and every call-ending event. An
         * event that would pass the cap overloads the connection: pending commands fail with
         * {@link EslOverloadedException}, listeners get {@link ConnectionEvent.Type#OVERLOADED}
         * with the counts, the connection is closed and the reconnect policy applies.
         *
         * @param maxEvents at least 1
         * @param maxBytes at least 1
         * @return this builder
         */
        public B spill(int maxEvents, long maxBytes) {
            if (maxEvents < 1 || maxBytes < 1) {
                throw new IllegalArgumentException("spill caps must be positive: " + maxEvents + ", " + maxBytes);
            }
            spillMaxEvents = maxEvents;
            spillMaxBytes = maxBytes;
            return self();
        }
    }
}
