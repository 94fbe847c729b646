package org.esl4j;

/**
 * Receives each event as an {@link EventView}: read in place from the client's reused poll batch,
 * with no event object and no copy, for consumers of the full event flood that read a few headers
 * of each event. Registered with {@link EslClient#onEventView(EventViewListener)}.
 *
 * <p>Called on the client's reading thread, synchronously, one event at a time in the order
 * FreeSWITCH sent them, before the event goes to the {@link EventListener}s. <b>It must be
 * fast</b>: while it runs, the client reads nothing more, so a slow listener pushes back on the
 * engine, whose bounded queue and overflow rules then apply (see {@link DeliveryOptions}; events
 * dropped there are counted in {@link DeliveryStats}, never lost silently). Hand slow work to
 * another thread with {@link EventView#toEvent()}.
 *
 * <pre>{@code
 * client.onEventView(view -> {
 *     if (view.eventNameIs("CHANNEL_ANSWER")) {
 *         answered.add(view.uniqueId());
 *     }
 * });
 * }</pre>
 */
@FunctionalInterface
public interface EventViewListener {
    /**
     * Reads one event. The view is valid only during this call and only on this thread; keep
     * {@link EventView#toEvent()} to use the event later. Exceptions are caught, counted ({@link
     * DeliveryStats#listenerFailures()}), logged, and do not stop delivery.
     *
     * @param view the event, valid until this call returns
     */
    void onEvent(EventView view);
}
