package org.esl4j.cluster;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.esl4j.ClientOptions;
import org.esl4j.EslEvent;

/**
 * Settings of an {@link EslCluster}: the nodes (a name and the {@link ClientOptions} of each, with
 * its own reconnect policy), how originates are placed, which share of the calls this application
 * instance handles, and the bound of the call map.
 *
 * <pre>{@code
 * ClusterOptions options = ClusterOptions.builder()
 *         .node("fs1", ClientOptions.builder().host("10.0.0.5").reconnect(ReconnectPolicy.backoff(
 *                 Duration.ofMillis(500), Duration.ofSeconds(30), 0)).build())
 *         .node("fs2", ClientOptions.builder().host("10.0.0.6").build())
 *         .placement(Placement.LEAST_ACTIVE_CALLS)
 *         .shard(instanceIndex, instanceCount)     // e.g. from the pod ordinal
 *         .build();
 * }</pre>
 *
 * <h2>Sharding: each call handled by one application instance</h2>
 *
 * <p>With {@link Builder#shard(int, int)}, several application instances can subscribe to the same
 * FreeSWITCH servers and each call's events reach the listeners ({@link
 * EslCluster#onEvent(String, ClusterEventListener)}, {@link EslCluster#onAnyEvent(ClusterEventListener)})
 * of exactly one instance, without a shared store. The rule, identical in every JVM and easy to
 * reproduce in another language:
 *
 * <ol>
 *   <li>The key is the event's {@code Channel-Call-UUID} (shared by both legs of a call), else its
 *       {@code Unique-ID}, lower-cased.
 *   <li>The hash is 32-bit FNV-1a over the key's UTF-8 bytes (offset basis {@code 0x811C9DC5},
 *       prime {@code 0x01000193}).
 *   <li>The shard is the hash, read as an unsigned number, modulo the instance count.
 * </ol>
 *
 * <p>Events without either header ({@code HEARTBEAT}, {@code BACKGROUND_JOB}, most {@code
 * CUSTOM} events) go to shard 0 only. Caveat: a channel joined to another call later ({@code
 * uuid_bridge}) takes that call's {@code Channel-Call-UUID} from then on, so its later events may
 * move to another instance. Listeners for one channel ({@link EslCluster#onChannel(String,
 * ClusterEventListener)}) are not sharded: asking for a channel by UUID gets all its events.
 */
public final class ClusterOptions {
    private static final int FNV_OFFSET_BASIS = 0x811C9DC5;
    private static final int FNV_PRIME = 0x01000193;

    private final Map<String, ClientOptions> nodes;
    private final Placement placement;
    private final int shardIndex;
    private final int shardCount;
    private final int maxTrackedCalls;
    private final Duration retryInterval;

    private ClusterOptions(Builder builder) {
        this.nodes = Collections.unmodifiableMap(new LinkedHashMap<>(builder.nodes));
        this.placement = builder.placement;
        this.shardIndex = builder.shardIndex;
        this.shardCount = builder.shardCount;
        this.maxTrackedCalls = builder.maxTrackedCalls;
        this.retryInterval = builder.retryInterval;
    }

    /**
     * Starts from the defaults: no nodes, {@link Placement#ROUND_ROBIN}, one shard (this instance
     * handles every call), 100,000 tracked calls, a node without a client retried every 5 s.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The nodes by name, in the order they were added.
     *
     * @return an unmodifiable map
     */
    public Map<String, ClientOptions> nodes() {
        return nodes;
    }

    /**
     * How originates are placed.
     *
     * @return the placement
     */
    public Placement placement() {
        return placement;
    }

    /**
     * This instance's shard.
     *
     * @return 0 to {@link #shardCount()} - 1
     */
    public int shardIndex() {
        return shardIndex;
    }

    /**
     * How many application instances share the calls.
     *
     * @return 1 or more
     */
    public int shardCount() {
        return shardCount;
    }

    /**
     * The most call UUIDs the cluster remembers; beyond it the oldest entry is forgotten.
     *
     * @return the cap
     */
    public int maxTrackedCalls() {
        return maxTrackedCalls;
    }

    /**
     * How often a node without a client is connected again.
     *
     * @return the interval
     */
    public Duration retryInterval() {
        return retryInterval;
    }

    /**
     * The shard of a call UUID among {@code instanceCount} instances (see the class comment).
     *
     * @param callUuid the call's UUID, any case
     * @param instanceCount how many instances share the calls
     * @return 0 to {@code instanceCount - 1}
     */
    public static int shardOf(String callUuid, int instanceCount) {
        Objects.requireNonNull(callUuid, "callUuid");
        if (instanceCount < 1) {
            throw new IllegalArgumentException("instanceCount must be at least 1: " + instanceCount);
        }
        return Integer.remainderUnsigned(fnv1a32(callUuid.toLowerCase(Locale.ROOT)), instanceCount);
    }

    /** 32-bit FNV-1a of the text's UTF-8 bytes. */
    static int fnv1a32(String text) {
        int hash = FNV_OFFSET_BASIS;
        for (byte octet : text.getBytes(StandardCharsets.UTF_8)) {
            hash ^= octet & 0xFF;
            hash *= FNV_PRIME;
        }
        return hash;
    }

    /**
     * Whether this instance's sharded listeners get the event: its call UUID hashes to {@link
     * #shardIndex()}, or it has none and this is shard 0.
     *
     * @param event an event
     * @return true when this instance handles it
     */
    public boolean ownsEvent(EslEvent event) {
        if (shardCount == 1) {
            return true;
        }
        String key = event.channelCallUuid();
        if (key == null || key.isEmpty()) {
            key = event.uniqueId();
        }
        if (key == null || key.isEmpty()) {
            return shardIndex == 0;
        }
        return shardOf(key, shardCount) == shardIndex;
    }

    @Override
    public String toString() {
        return "ClusterOptions{nodes=" + nodes.keySet() + ", " + placement + ", shard " + shardIndex + "/" + shardCount + "}";
    }

    /** Collects {@link ClusterOptions}. Not thread-safe. */
    public static final class Builder {
        private final Map<String, ClientOptions> nodes = new LinkedHashMap<>();
        private Placement placement = Placement.ROUND_ROBIN;
        private int shardIndex;
        private int shardCount = 1;
        private int maxTrackedCalls = 100_000;
        private Duration retryInterval = Duration.ofSeconds(5);

        private Builder() {
        }

        /**
         * Adds a node. Its client reconnects by the options' own {@link
         * org.esl4j.ReconnectPolicy}; when that gives up (or the first connect fails), the cluster
         * makes a new client every {@link #retryInterval(Duration)}.
         *
         * @param name a unique name, e.g. {@code "fs1"}; events and results are tagged with it, and
         *     it is the connection's {@link ClientOptions#serverName()} in log lines unless the
         *     options name the server already
         * @param options where the node is and how to talk to it
         * @return this builder
         */
        public Builder node(String name, ClientOptions options) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(options, "options");
            if (name.trim().isEmpty()) {
                throw new IllegalArgumentException("a node name must not be blank");
            }
            if (nodes.containsKey(name)) {
                throw new IllegalArgumentException("node added twice: " + name);
            }
            if (options.serverName() != null) {
                nodes.put(name, options);
                return this;
            }
            try {
                // The engine's log lines of this node's connection then say which node they are.
                nodes.put(name, options.toBuilder().serverName(name).build());
            } catch (IllegalArgumentException unfit) {
                throw new IllegalArgumentException("a node name must be one line of 1 to 100 characters: " + name, unfit);
            }
            return this;
        }

        /**
         * How originates are placed (default {@link Placement#ROUND_ROBIN}).
         *
         * @param value the placement
         * @return this builder
         */
        public Builder placement(Placement value) {
            placement = Objects.requireNonNull(value, "placement");
            return this;
        }

        /**
         * Makes this instance one of {@code instanceCount} that share the calls: its event
         * listeners get only the calls whose UUID hashes to {@code instanceIndex} (see {@link
         * ClusterOptions}). Every instance must use the same count. Default: 0 of 1 (all calls).
         *
         * @param instanceIndex this instance, 0 to {@code instanceCount - 1}
         * @param instanceCount how many instances there are
         * @return this builder
         */
        public Builder shard(int instanceIndex, int instanceCount) {
            if (instanceCount < 1 || instanceIndex < 0 || instanceIndex >= instanceCount) {
                throw new IllegalArgumentException("need 0 <= instanceIndex < instanceCount: " + instanceIndex + " of " + instanceCount);
            }
            shardIndex = instanceIndex;
            shardCount = instanceCount;
            return this;
        }

        /**
         * The most call UUIDs remembered for routing (default 100,000); beyond it the oldest is
         * forgotten, and commands for it fail with {@link UnknownCallException}. Bounds memory when
         * hang-ups are missed (a node's connection gap).
         *
         * @param value at least 1
         * @return this builder
         */
        public Builder maxTrackedCalls(int value) {
            if (value < 1) {
                throw new IllegalArgumentException("maxTrackedCalls must be at least 1: " + value);
            }
            maxTrackedCalls = value;
            return this;
        }

        /**
         * How often a node without a client (down at start, or its reconnect policy gave up) is
         * connected again (default 5 s).
         *
         * @param value a positive duration
         * @return this builder
         */
        public Builder retryInterval(Duration value) {
            Objects.requireNonNull(value, "retryInterval");
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException("retryInterval must be positive: " + value);
            }
            retryInterval = value;
            return this;
        }

        /**
         * Makes the options.
         *
         * @return the immutable options
         * @throws IllegalArgumentException when no node was added
         */
        public ClusterOptions build() {
            if (nodes.isEmpty()) {
                throw new IllegalArgumentException("a cluster needs at least one node");
            }
            return new ClusterOptions(this);
        }
    }
}
