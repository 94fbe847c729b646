package org.esl4j;

/**
 * What event delivery does when its queue is full because listeners are slower than the event
 * flow. Whatever the policy, the events that end calls and jobs ({@code CHANNEL_HANGUP}, {@code
 * CHANNEL_HANGUP_COMPLETE}, {@code CHANNEL_DESTROY}, {@code CHANNEL_EXECUTE_COMPLETE}, {@code
 * BACKGROUND_JOB}) are never dropped: they go to a reserve above the bound, and when that is full
 * too the reader waits for room, so the connection's own queue keeps them (up to its hard cap,
 * {@link ClientOptions.Builder#spill(int, long)}; past it the connection is overloaded, see {@link
 * ConnectionEvent.Type#OVERLOADED}). Command replies never wait behind events, whatever the policy.
 */
public enum OverflowPolicy {
    /** Drop the new event and count it ({@link DeliveryStats#dropped()}). The default. */
    DROP_NEWEST,
    /**
     * Make the producer wait for room, up to {@link DeliveryOptions#blockTimeout()}, then drop. The
     * wait pushes back on the connection's reader, which stops reading the socket (so FreeSWITCH's
     * own queue fills instead) except while a command awaits its reply: a listener may call {@code
     * client.api(...)} and wait for it.
     */
    BLOCK
}
