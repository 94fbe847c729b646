package org.esl4j.spring;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.esl4j.EslEvent;
import org.esl4j.cluster.ClusterOptions;
import org.esl4j.cluster.EslCluster;
import org.esl4j.kafka.EslKafkaConsumer;
import org.esl4j.kafka.EslKafkaRelay;
import org.esl4j.kafka.KafkaBrokerResource;
import org.esl4j.testing.EslSimulator;
import org.junit.ClassRule;
import org.junit.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** {@code esl4j.kafka.*}: @EslListener methods fed by the consumer group, the cluster bean relayed, on a real broker. */
public class EslKafkaAutoConfigurationTest {
    private static final long WAIT_SECONDS = 120;
    @ClassRule
    public static final KafkaBrokerResource BROKER = new KafkaBrokerResource();

    @Test
    public void listenersReceiveTheRelayedEventsOfTheCluster() {
        String run = UUID.randomUUID().toString().substring(0, 8);
        try (EslSimulator sim = EslSimulator.builder().heartbeat(Duration.ZERO).start()) {
            sim.route("answered", "answer", "hangup NORMAL_CLEARING");
            new ApplicationContextRunner()
                    .withConfiguration(AutoConfigurations.of(EslKafkaAutoConfiguration.class, EslAutoConfiguration.class))
                    .withPropertyValues("esl4j.inbound.enabled=false", "esl4j.kafka.enabled=true",
                            "esl4j.kafka.bootstrap-servers=" + BROKER.bootstrapServers(),
                            "esl4j.kafka.events-topic=events-" + run, "esl4j.kafka.control-topic=relay-" + run,
                            "esl4j.kafka.relay-group=relay-" + run, "esl4j.kafka.consumer-group=consumer-" + run)
                    .withBean(EslCluster.class, () -> cluster(sim), definition -> definition.setDestroyMethodName("close"))
                    .withBean(AnswerRecorder.class, AnswerRecorder::new)
                    .run(context -> {
                        assertNull(context.getStartupFailure());
                        assertEquals(1, context.getBeansOfType(EslKafkaRelay.class).size());
                        assertEquals(1, context.getBeansOfType(EslKafkaConsumer.class).size());
                        sim.call("answered");
                        EslEvent answered = context.getBean(AnswerRecorder.class).answers.poll(WAIT_SECONDS, TimeUnit.SECONDS);
                        assertTrue("an answer arrived through Kafka", answered != null);
                        // The very event the simulator sent: same channel, same Event-Sequence.
                        sim.awaitEvent(sent -> "CHANNEL_ANSWER".equals(sent.eventName())
                                && sent.uniqueId().equals(answered.uniqueId())
                                && sent.header("Event-Sequence").equals(answered.header("Event-Sequence")),
                                Duration.ofSeconds(WAIT_SECONDS));
                    });
        }
    }

    private static EslCluster cluster(EslSimulator sim) {
        EslCluster cluster = EslCluster.start(ClusterOptions.builder().node("fs1", sim.clientOptions().build()).build());
        cluster.subscribe("CHANNEL_ANSWER");
        if (!cluster.awaitUp(1, Duration.ofSeconds(WAIT_SECONDS))) {
            cluster.close();
            throw new IllegalStateException("the cluster did not connect to the simulator");
        }
        return cluster;
    }

    /** Records the answers of node fs1. */
    static class AnswerRecorder {
        final BlockingQueue<EslEvent> answers = new LinkedBlockingQueue<>();

        @EslListener(value = "CHANNEL_ANSWER", servers = "fs1")
        void onAnswer(EslEvent event) {
            answers.add(event);
        }
    }
}
