package org.esl4j.spring;

import java.util.List;
import org.esl4j.EventListener;
import org.esl4j.Subscription;

/**
 * Where {@link EslListener} methods get their events from instead of the inbound connections:
 * the Kafka consumer group when {@code esl4j.kafka.enabled} (see {@link EslKafkaAutoConfiguration}).
 * Free of Kafka's types, so the registrar loads without esl4j-kafka on the class path.
 */
interface EslEventSource {
    /**
     * Registers a listener.
     *
     * @param eventName an event name or CUSTOM subclass, or null for every event
     * @param nodes node names whose events it gets; empty for all
     * @param listener the listener
     * @return the registration
     */
    Subscription listen(String eventName, List<String> nodes, EventListener listener);

    /** Starts delivering, once every listener known at start-up is registered. */
    void start();
}
