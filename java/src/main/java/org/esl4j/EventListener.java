package org.esl4j;

/**
 * Receives events. Called on the delivery executor: events of one channel (same {@code Unique-ID})
 * arrive one at a time and in order, events of different channels may arrive in parallel on
 * different threads. A listener that blocks delays only its own channel, and only up to the
 * dispatcher's queue bound (see {@link DeliveryOptions}).
 */
@FunctionalInterface
public interface EventListener {
    /**
     * Handles one event. Exceptions are caught, counted ({@link DeliveryStats#listenerFailures()})
     * and do not stop delivery.
     *
     * @param event the event
     */
    void onEvent(EslEvent event);
}
