package org.esl4j.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a bean method that receives FreeSWITCH events from the inbound connections. The method
 * takes one {@link org.esl4j.EslEvent}.
 *
 * <pre>{@code
 * @Component
 * class Hangups {
 *     @EslListener("CHANNEL_HANGUP_COMPLETE")
 *     void onHangup(EslEvent event) {
 *         log.info("{} hung up: {}", event.uniqueId(), event.hangupCause());
 *     }
 * }
 * }</pre>
 *
 * <p>The events named here are subscribed to on start-up, after every listener is registered, so
 * none is missed. One channel's events reach the listeners in the order FreeSWITCH sent them, one
 * at a time; different channels are delivered in parallel. An exception is logged and counted and
 * never stops delivery.
 *
 * <p>With {@code esl4j.kafka.enabled=true} (esl4j-kafka on the class path) the methods receive the
 * events of the Kafka consumer group instead: each call's events in one instance of the
 * application (see {@code org.esl4j.kafka.EslKafkaConsumer}); the relayed cluster subscribes.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface EslListener {
    /**
     * Event names, e.g. {@code CHANNEL_ANSWER}; {@code ALL} or nothing for every event received
     * (nothing also subscribes to nothing: list subscriptions in {@code esl4j.inbound.subscriptions}).
     *
     * @return the event names
     */
    String[] value() default {};

    /**
     * A {@code CUSTOM} event's subclass, e.g. {@code sofia::register}; leave {@link #value()} empty
     * (or {@code CUSTOM}).
     *
     * @return the subclass, or empty
     */
    String subclass() default "";

    /**
     * Only events of this channel ({@code Unique-ID}); {@code ${...}} placeholders are resolved.
     *
     * @return the channel UUID, or empty for every channel
     */
    String channel() default "";

    /**
     * Names of the inbound servers to listen to (see {@code esl4j.inbound.servers}); empty for all.
     * With {@code esl4j.kafka.enabled}, the names of the relayed cluster's nodes.
     *
     * @return the server names
     */
    String[] servers() default {};
}
