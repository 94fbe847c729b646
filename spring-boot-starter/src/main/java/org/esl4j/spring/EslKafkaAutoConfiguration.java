package org.esl4j.spring;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.esl4j.EventListener;
import org.esl4j.Subscription;
import org.esl4j.cluster.ClusterEventListener;
import org.esl4j.cluster.EslCluster;
import org.esl4j.kafka.EslKafkaConsumer;
import org.esl4j.kafka.EslKafkaRelay;
import org.esl4j.kafka.KafkaOptions;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * FreeSWITCH events through Kafka ({@code esl4j.kafka.enabled=true}, esl4j-kafka on the class
 * path): {@link EslListener} methods receive the events of the consumer group instead of the
 * inbound connections, and an {@link EslCluster} bean of the application is relayed to the topic.
 */
@AutoConfiguration(before = EslAutoConfiguration.class)
@ConditionalOnClass(EslKafkaConsumer.class)
@ConditionalOnProperty(prefix = "esl4j.kafka", name = "enabled", havingValue = "true")
@EnableConfigurationProperties(EslKafkaAutoConfiguration.Properties.class)
public class EslKafkaAutoConfiguration {
    /** Made by Spring. */
    public EslKafkaAutoConfiguration() {}

    /**
     * The options, from {@code esl4j.kafka.*}.
     *
     * @param properties the settings
     * @return the options
     */
    @Bean
    @ConditionalOnMissingBean
    KafkaOptions eslKafkaOptions(Properties properties) {
        KafkaOptions.Builder options = KafkaOptions.builder().bootstrapServers(properties.getBootstrapServers())
                .eventsTopic(properties.getEventsTopic()).controlTopic(properties.getControlTopic())
                .relayGroup(properties.getRelayGroup()).consumerGroup(properties.getConsumerGroup())
                .sessionTimeout(properties.getSessionTimeout()).standbyEvents(properties.getStandbyEvents());
        properties.getClient().forEach(options::clientProperty);
        return options.build();
    }

    /**
     * The consumer; {@link EslListener} methods are registered on it, then it is started.
     *
     * @param options the options
     * @return the consumer, not yet started
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    EslKafkaConsumer eslKafkaConsumer(KafkaOptions options) {
        return EslKafkaConsumer.create(options);
    }

    /**
     * The source the listener registrar uses.
     *
     * @param consumer the consumer
     * @return the source
     */
    @Bean
    EslEventSource eslKafkaEventSource(EslKafkaConsumer consumer) {
        return new EslEventSource() {
            @Override
            public Subscription listen(String eventName, List<String> nodes, EventListener listener) {
                ClusterEventListener filtered = event -> {
                    if (nodes.isEmpty() || nodes.contains(event.node())) {
                        listener.onEvent(event.event());
                    }
                };
                return eventName == null ? consumer.onAnyClusterEvent(filtered) : consumer.onClusterEvent(eventName, filtered);
            }

            @Override
            public void start() {
                consumer.start();
            }
        };
    }

    /**
     * Relays the application's cluster, unless {@code esl4j.kafka.relay=false}.
     *
     * @param cluster the application's cluster (not sharded)
     * @param options the options
     * @return the running relay
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnBean(EslCluster.class)
    @ConditionalOnMissingBean
    @ConditionalOnProperty(prefix = "esl4j.kafka", name = "relay", havingValue = "true", matchIfMissing = true)
    EslKafkaRelay eslKafkaRelay(EslCluster cluster, KafkaOptions options) {
        return EslKafkaRelay.start(cluster, options);
    }

    /** The {@code esl4j.kafka.*} settings; see {@link KafkaOptions} for what each means. */
    @ConfigurationProperties("esl4j.kafka")
    public static class Properties {
        /** Whether events go through Kafka. */
        private boolean enabled;

        /** Whether this instance may relay the application's EslCluster bean. */
        private boolean relay = true;

        /** Kafka's bootstrap.servers. */
        private String bootstrapServers = "localhost:9092";

        /** The events topic. */
        private String eventsTopic = "esl4j.events";

        /** The relays' topic, one partition per FreeSWITCH node. */
        private String controlTopic = "esl4j.relay";

        /** The relays' consumer group. */
        private String relayGroup = "esl4j-relay";

        /** The consumer group of the application's listeners. */
        private String consumerGroup = "esl4j-consumer";

        /** How soon Kafka replaces a dead instance. */
        private Duration sessionTimeout = Duration.ofSeconds(10);

        /** Events every instance holds per node for a relay hand-over. */
        private int standbyEvents = 50_000;

        /** Further Kafka client settings, e.g. security.protocol. */
        private final Map<String, String> client = new LinkedHashMap<>();

        /** @return whether events go through Kafka */
        public boolean isEnabled() {
            return enabled;
        }

        /** @param value whether events go through Kafka */
        public void setEnabled(boolean value) {
            enabled = value;
        }

        /** @return whether this instance may relay */
        public boolean isRelay() {
            return relay;
        }

        /** @param value whether this instance may relay */
        public void setRelay(boolean value) {
            relay = value;
        }

        /** @return bootstrap.servers */
        public String getBootstrapServers() {
            return bootstrapServers;
        }

        /** @param value bootstrap.servers */
        public void setBootstrapServers(String value) {
            bootstrapServers = value;
        }

        /** @return the events topic */
        public String getEventsTopic() {
            return eventsTopic;
        }

        /** @param value the events topic */
        public void setEventsTopic(String value) {
            eventsTopic = value;
        }

        /** @return the relays' topic */
        public String getControlTopic() {
            return controlTopic;
        }

        /** @param value the relays' topic */
        public void setControlTopic(String value) {
            controlTopic = value;
        }

        /** @return the relays' group */
        public String getRelayGroup() {
            return relayGroup;
        }

        /** @param value the relays' group */
        public void setRelayGroup(String value) {
            relayGroup = value;
        }

        /** @return the listeners' group */
        public String getConsumerGroup() {
            return consumerGroup;
        }

        /** @param value the listeners' group */
        public void setConsumerGroup(String value) {
            consumerGroup = value;
        }

        /** @return the session timeout */
        public Duration getSessionTimeout() {
            return sessionTimeout;
        }

        /** @param value the session timeout */
        public void setSessionTimeout(Duration value) {
            sessionTimeout = value;
        }

        /** @return events held per node */
        public int getStandbyEvents() {
            return standbyEvents;
        }

        /** @param value events held per node */
        public void setStandbyEvents(int value) {
            standbyEvents = value;
        }

        /** @return further client settings */
        public Map<String, String> getClient() {
            return client;
        }
    }
}
