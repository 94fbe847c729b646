package org.esl4j;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * How events reach listeners: on which executor, with how much queueing, and what happens when
 * listeners fall behind.
 *
 * <p>Delivery is ordered per channel ({@code Unique-ID}) and parallel across channels. Events
 * without a channel go to one lane of their own, except {@code BACKGROUND_JOB}s, which are
 * ordered per {@code Job-UUID}.
 *
 * <pre>{@code
 * DeliveryOptions delivery = DeliveryOptions.builder()
 *         .threads(8)
 *         .maxQueuedEvents(50_000)
 *         .overflowPolicy(OverflowPolicy.DROP_NEWEST)
 *         .build();
 * }</pre>
 */
public final class DeliveryOptions {
    private final Executor executor;
    private final int threads;
    private final int maxQueuedEvents;
    private final int criticalReserve;
    private final OverflowPolicy overflowPolicy;
    private final Duration blockTimeout;

    private DeliveryOptions(Builder builder) {
        this.executor = builder.executor;
        this.threads = builder.threads;
        this.maxQueuedEvents = builder.maxQueuedEvents;
        this.criticalReserve = builder.criticalReserve < 0 ? builder.maxQueuedEvents : builder.criticalReserve;
        this.overflowPolicy = builder.overflowPolicy;
        this.blockTimeout = builder.blockTimeout;
    }

    /**
     * Starts from the defaults: a library pool of {@code max(2, processors)} daemon threads,
     * 10,000 queued events, {@link OverflowPolicy#DROP_NEWEST}.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The defaults.
     *
     * @return the default options
     */
    public static DeliveryOptions defaults() {
        return builder().build();
    }

    /**
     * The executor given by the application.
     *
     * @return the executor, or null when the library makes its own pool
     */
    public Executor executor() {
        return executor;
    }

    /**
     * Threads of the library's own pool (ignored when an executor is given).
     *
     * @return the thread count
     */
    public int threads() {
        return threads;
    }

    /**
     * The queue bound.
     *
     * @return the most events queued before the overflow policy applies
     */
    public int maxQueuedEvents() {
        return maxQueuedEvents;
    }

    /**
     * Room above the bound kept for call-ending events; when it is full as well, the reader waits
     * for room rather than drop one.
     *
     * @return the reserve
     */
    public int criticalReserve() {
        return criticalReserve;
    }

    /**
     * The overflow policy.
     *
     * @return the policy
     */
    public OverflowPolicy overflowPolicy() {
        return overflowPolicy;
    }

    /**
     * How long {@link OverflowPolicy#BLOCK} waits for room before dropping.
     *
     * @return the timeout
     */
    public Duration blockTimeout() {
        return blockTimeout;
    }

    /** Collects {@link DeliveryOptions}. Not thread-safe. */
    public static final class Builder {
        private Executor executor;
        private int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        private int maxQueuedEvents = 10_000;
        private int criticalReserve = -1;
        private OverflowPolicy overflowPolicy = OverflowPolicy.DROP_NEWEST;
        private Duration blockTimeout = Duration.ofSeconds(1);

        private Builder() {}

        /**
         * Runs listeners on this executor (not shut down by the library). It should run tasks
         * in parallel; a direct ({@code Runnable::run}) executor makes delivery synchronous.
         *
         * @param value the executor
         * @return this builder
         */
        public Builder executor(Executor value) {
            executor = Objects.requireNonNull(value, "executor");
            return this;
        }

        /**
         * Threads of the library's own pool.
         *
         * @param value at least 1
         * @return this builder
         */
        public Builder threads(int value) {
            if (value < 1) {
                throw new IllegalArgumentException("threads must be at least 1: " + value);
            }
            threads = value;
            return this;
        }

        /**
         * The queue bound.
         *
         * @param value at least 1
         * @return this builder
         */
        public Builder maxQueuedEvents(int value) {
            if (value < 1) {
                throw new IllegalArgumentException("maxQueuedEvents must be at least 1: " + value);
            }
            maxQueuedEvents = value;
            return this;
        }

        /**
         * Room above the bound for call-ending events (default: as much as the bound).
         *
         * @param value at least 0
         * @return this builder
         */
        public Builder criticalReserve(int value) {
            if (value < 0) {
                throw new IllegalArgumentException("criticalReserve must not be negative: " + value);
            }
            criticalReserve = value;
            return this;
        }

        /**
         * The overflow policy.
         *
         * @param value the policy
         * @return this builder
         */
        public Builder overflowPolicy(OverflowPolicy value) {
            overflowPolicy = Objects.requireNonNull(value, "overflowPolicy");
            return this;
        }

        /**
         * How long {@link OverflowPolicy#BLOCK} waits for room.
         *
         * @param value a positive duration
         * @return this builder
         */
        public Builder blockTimeout(Duration value) {
            blockTimeout = Futures.requirePositive(value, "blockTimeout");
            return this;
        }

        /**
         * Makes the options.
         *
         * @return the immutable options
         */
        public DeliveryOptions build() {
            return new DeliveryOptions(this);
        }
    }
}
