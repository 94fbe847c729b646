package org.esl4j;

/**
 * What event delivery does when its queue is full because listeners are slower than the event
 * flow. Whatever the policy, the events that end calls and jobs ({@code CHANNEL_HANGUP}, {@code
 * CHANNEL_HANGUP_COMPLETE}, {@code CHANNEL_DESTROY}, {@code CHANNEL_EXECUTE_COMPLETE}, {@code
 * BACKGROUND_JOB}) are still queued, in a reserve above the bound, so outcomes are never lost to
 * overflow; only a reserve exhausted as well drops them, and that is counted.
 */
public enum OverflowPolicy {
    /** Drop the new event and count it ({@link DeliveryStats#dropped()}). The default. */
    DROP_NEWEST,
    /**
     * Make the producer wait for room, up to {@link DeliveryOptions#blockTimeout()}, then drop. The
     * wait pushes back on the connection's reader, so FreeSWITCH's own queue fills instead.
     */
    BLOCK
}
