package org.esl4j;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * The settings the inbound client ({@link ClientOptions}) and the outbound server's sessions
 * ({@link ServerOptions}) share: command deadline, event format, event delivery, watchdog margin
 * and where futures complete. One definition, so that the two cannot drift apart.
 */
abstract class ConnectionOptions {
    private final Duration commandTimeout;
    private final EventFormat eventFormat;
    private final DeliveryOptions delivery;
    private final Duration watchdogMargin;
    private final Executor completionExecutor;

    ConnectionOptions(Builder<?> builder) {
        this.commandTimeout = builder.commandTimeout;
        this.eventFormat = builder.eventFormat;
        this.delivery = builder.delivery;
        this.watchdogMargin = builder.watchdogMargin;
        this.completionExecutor = builder.completionExecutor;
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
     * Collects the shared settings; {@code B} is the concrete builder, returned by every setter.
     *
     * @param <B> the concrete builder
     */
    abstract static class Builder<B extends Builder<B>> {
        private Duration commandTimeout = Duration.ofSeconds(30);
        private EventFormat eventFormat = EventFormat.PLAIN;
        private DeliveryOptions delivery = DeliveryOptions.defaults();
        private Duration watchdogMargin = Duration.ofSeconds(5);
        private Executor completionExecutor = ForkJoinPool.commonPool();

        Builder() {}

        /** This builder as its concrete type. */
        abstract B self();

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
         * common fork-join pool), so that stages chained to them without {@code ...Async} run
         * there, never on the library's reader, timer or event-delivery threads. The library
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
    }
}
