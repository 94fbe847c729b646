package org.esl4j.kafka;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.esl4j.EslException;

/** The Kafka clients the relay and the consumer make, with the settings they rely on. */
final class KafkaClients {
    private static final long ADMIN_TIMEOUT_SECONDS = 30;
    private static final long RETRY_MS = 100;

    private KafkaClients() {
    }

    private static Map<String, Object> base(KafkaOptions options, String clientId) {
        Map<String, Object> config = new HashMap<>(options.clientProperties());
        config.put("bootstrap.servers", options.bootstrapServers());
        config.put("client.id", clientId);
        return config;
    }

    /** Idempotent, acknowledged by every in-sync replica: a relay's sends are never reordered. */
    static Map<String, Object> producer(KafkaOptions options, String clientId) {
        Map<String, Object> config = base(options, clientId);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 2);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return config;
    }

    /** A group member that commits by hand; {@code group} null for a reader assigned by hand. */
    static Map<String, Object> consumer(KafkaOptions options, String clientId, String group) {
        Map<String, Object> config = base(options, clientId);
        if (group != null) {
            config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) options.sessionTimeout().toMillis());
            config.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) Math.max(100, options.sessionTimeout().toMillis() / 5));
            // A rebalance moves only the partitions of the instance that came or went.
            config.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        }
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return config;
    }

    /**
     * Creates a topic unless it exists, and checks that it has at least {@code partitions}.
     *
     * @throws EslException when the broker cannot be asked, or the topic has too few partitions
     */
    /** A topic just created may be unknown to the broker that answers for a moment: asked again. */
    private static TopicDescription describe(Admin admin, String topic)
            throws ExecutionException, TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ADMIN_TIMEOUT_SECONDS);
        while (true) {
            try {
                return admin.describeTopics(Collections.singleton(topic)).allTopicNames()
                        .get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS).get(topic);
            } catch (ExecutionException failed) {
                if (!(failed.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
                    throw failed;
                }
                TimeUnit.MILLISECONDS.sleep(RETRY_MS);
            }
        }
    }

    static void ensureTopic(KafkaOptions options, String topic, int partitions, Map<String, String> configs) {
        try (Admin admin = Admin.create(base(options, "esl4j-admin"))) {
            try {
                admin.createTopics(Collections.singleton(new NewTopic(topic, partitions, (short) -1).configs(configs)))
                        .all().get(ADMIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException failed) {
                if (!(failed.getCause() instanceof TopicExistsException)) {
                    throw failed;
                }
            }
            TopicDescription description = describe(admin, topic);
            if (description.partitions().size() < partitions) {
                throw new EslException(EslException.Kind.INVALID_STATE, "topic " + topic + " has "
                        + description.partitions().size() + " partitions; it needs at least " + partitions);
            }
        } catch (ExecutionException | TimeoutException failed) {
            throw new EslException(EslException.Kind.IO, "Kafka at " + options.bootstrapServers()
                    + ": cannot create or describe topic " + topic + ": " + failed, failed);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new EslException(EslException.Kind.INVALID_STATE, "interrupted while creating topic " + topic);
        }
    }
}
