package org.esl4j.kafka;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of an {@link EslKafkaRelay} and an {@link EslKafkaConsumer}: where the broker is, the
 * topics and groups, and the bounds of the hand-over. Every instance of an application uses the
 * same values.
 *
 * <pre>{@code
 * KafkaOptions kafka = KafkaOptions.builder().bootstrapServers("kafka1:9092,kafka2:9092").build();
 * }</pre>
 */
public final class KafkaOptions {
    private final String bootstrapServers;
    private final String eventsTopic;
    private final int eventsPartitions;
    private final String controlTopic;
    private final String relayGroup;
    private final String consumerGroup;
    private final int standbyEvents;
    private final int progressEvery;
    private final Duration progressInterval;
    private final int republishMargin;
    private final int dedupWindow;
    private final int consumerThreads;
    private final Duration sessionTimeout;
    private final Map<String, Object> clientProperties;

    private KafkaOptions(Builder builder) {
        this.bootstrapServers = builder.bootstrapServers;
        this.eventsTopic = builder.eventsTopic;
        this.eventsPartitions = builder.eventsPartitions;
        this.controlTopic = builder.controlTopic;
        this.relayGroup = builder.relayGroup;
        this.consumerGroup = builder.consumerGroup;
        this.standbyEvents = builder.standbyEvents;
        this.progressEvery = builder.progressEvery;
        this.progressInterval = builder.progressInterval;
        this.republishMargin = builder.republishMargin;
        this.dedupWindow = builder.dedupWindow;
        this.consumerThreads = builder.consumerThreads;
        this.sessionTimeout = builder.sessionTimeout;
        this.clientProperties = Collections.unmodifiableMap(new LinkedHashMap<>(builder.clientProperties));
    }

    /**
     * Starts from the defaults.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** @return Kafka's {@code bootstrap.servers} */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** @return the topic the events go to (default {@code esl4j.events}) */
    public String eventsTopic() {
        return eventsTopic;
    }

    /** @return partitions of the events topic when the relay creates it (default 12) */
    public int eventsPartitions() {
        return eventsPartitions;
    }

    /**
     * The relays' topic: one partition per FreeSWITCH node, in the order of the cluster's
     * nodes; whoever the relay group assigns partition {@code i} relays node {@code i}, and the
     * partition's last record says which event of the node was last published.
     *
     * @return the topic (default {@code esl4j.relay})
     */
    public String controlTopic() {
        return controlTopic;
    }

    /** @return the relays' consumer group (default {@code esl4j-relay}) */
    public String relayGroup() {
        return relayGroup;
    }

    /** @return the application's consumer group for the events (default {@code esl4j-consumer}) */
    public String consumerGroup() {
        return consumerGroup;
    }

    /**
     * Events every instance holds per node while another instance relays it: the most a relay
     * hand-over can recover. It should cover the node's events during a session timeout.
     *
     * @return the count (default 50,000)
     */
    public int standbyEvents() {
        return standbyEvents;
    }

    /** @return published events between two progress records of a relay (default 500) */
    public int progressEvery() {
        return progressEvery;
    }

    /** @return the longest time between two progress records while events flow (default 1 s) */
    public Duration progressInterval() {
        return progressInterval;
    }

    /**
     * Events a new relay publishes again before the first one after the last progress record,
     * because each instance receives different channels' events in a slightly different order.
     *
     * @return the count (default 1,000)
     */
    public int republishMargin() {
        return republishMargin;
    }

    /**
     * Records per partition a consumer remembers to remove duplicates, and reads back from
     * before its committed offset when it is assigned a partition.
     *
     * @return the count (default 10,000)
     */
    public int dedupWindow() {
        return dedupWindow;
    }

    /** @return threads that run the consumer's listeners (default max(2, processors)) */
    public int consumerThreads() {
        return consumerThreads;
    }

    /** @return Kafka's {@code session.timeout.ms} for both groups: how soon a dead instance is replaced (default 10 s) */
    public Duration sessionTimeout() {
        return sessionTimeout;
    }

    /** @return further Kafka client settings (security, ...), given to every client made */
    public Map<String, Object> clientProperties() {
        return clientProperties;
    }

    @Override
    public String toString() {
        return "KafkaOptions{" + bootstrapServers + ", events " + eventsTopic + ", control " + controlTopic + "}";
    }

    /** Collects {@link KafkaOptions}. Not thread-safe. */
    public static final class Builder {
        private String bootstrapServers = "localhost:9092";
        private String eventsTopic = "esl4j.events";
        private int eventsPartitions = 12;
        private String controlTopic = "esl4j.relay";
        private String relayGroup = "esl4j-relay";
        private String consumerGroup = "esl4j-consumer";
        private int standbyEvents = 50_000;
        private int progressEvery = 500;
        private Duration progressInterval = Duration.ofSeconds(1);
        private int republishMargin = 1_000;
        private int dedupWindow = 10_000;
        private int consumerThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        private Duration sessionTimeout = Duration.ofSeconds(10);
        private final Map<String, Object> clientProperties = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Kafka's {@code bootstrap.servers}.
         *
         * @param value Kafka's {@code bootstrap.servers}
         * @return this builder
         */
        public Builder bootstrapServers(String value) {
            bootstrapServers = requireText(value, "bootstrapServers");
            return this;
        }

        /**
         * The events topic.
         *
         * @param value the events topic
         * @return this builder
         */
        public Builder eventsTopic(String value) {
            eventsTopic = requireText(value, "eventsTopic");
            return this;
        }

        /**
         * Partitions of the events topic when created.
         *
         * @param value partitions of the events topic when created
         * @return this builder
         */
        public Builder eventsPartitions(int value) {
            eventsPartitions = atLeast(1, value, "eventsPartitions");
            return this;
        }

        /**
         * The relays' topic.
         *
         * @param value the relays' topic
         * @return this builder
         */
        public Builder controlTopic(String value) {
            controlTopic = requireText(value, "controlTopic");
            return this;
        }

        /**
         * The relays' group.
         *
         * @param value the relays' group
         * @return this builder
         */
        public Builder relayGroup(String value) {
            relayGroup = requireText(value, "relayGroup");
            return this;
        }

        /**
         * The consumers' group.
         *
         * @param value the consumers' group
         * @return this builder
         */
        public Builder consumerGroup(String value) {
            consumerGroup = requireText(value, "consumerGroup");
            return this;
        }

        /**
         * Events held per node for a hand-over.
         *
         * @param value events held per node for a hand-over
         * @return this builder
         */
        public Builder standbyEvents(int value) {
            standbyEvents = atLeast(1, value, "standbyEvents");
            return this;
        }

        /**
         * Published events between progress records.
         *
         * @param value published events between progress records
         * @return this builder
         */
        public Builder progressEvery(int value) {
            progressEvery = atLeast(1, value, "progressEvery");
            return this;
        }

        /**
         * Longest time between progress records.
         *
         * @param value longest time between progress records
         * @return this builder
         */
        public Builder progressInterval(Duration value) {
            progressInterval = positive(value, "progressInterval");
            return this;
        }

        /**
         * Events republished before the resume point.
         *
         * @param value events republished before the resume point
         * @return this builder
         */
        public Builder republishMargin(int value) {
            republishMargin = atLeast(0, value, "republishMargin");
            return this;
        }

        /**
         * Records per partition remembered to remove duplicates.
         *
         * @param value records per partition remembered to remove duplicates
         * @return this builder
         */
        public Builder dedupWindow(int value) {
            dedupWindow = atLeast(1, value, "dedupWindow");
            return this;
        }

        /**
         * Listener threads of a consumer.
         *
         * @param value listener threads of a consumer
         * @return this builder
         */
        public Builder consumerThreads(int value) {
            consumerThreads = atLeast(1, value, "consumerThreads");
            return this;
        }

        /**
         * Kafka's session timeout for both groups.
         *
         * @param value Kafka's session timeout for both groups
         * @return this builder
         */
        public Builder sessionTimeout(Duration value) {
            sessionTimeout = positive(value, "sessionTimeout");
            return this;
        }

        /**
         * Adds a Kafka client setting, e.g. {@code security.protocol}; given to every producer,
         * consumer and admin client made (settings the library relies on win).
         *
         * @param name the setting
         * @param value its value
         * @return this builder
         */
        public Builder clientProperty(String name, Object value) {
            clientProperties.put(requireText(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** @return the options */
        public KafkaOptions build() {
            return new KafkaOptions(this);
        }

        private static String requireText(String value, String what) {
            Objects.requireNonNull(value, what);
            if (value.trim().isEmpty()) {
                throw new IllegalArgumentException(what + " is empty");
            }
            return value.trim();
        }

        private static int atLeast(int least, int value, String what) {
            if (value < least) {
                throw new IllegalArgumentException(what + " must be at least " + least + ": " + value);
            }
            return value;
        }

        private static Duration positive(Duration value, String what) {
            Objects.requireNonNull(value, what);
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(what + " must be positive: " + value);
            }
            return value;
        }
    }
}
