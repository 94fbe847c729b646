package org.esl4j;

import org.esl4j.dial.HangupCause;

/**
 * Handles one call handed to an {@link EslOutboundServer} with blocking calls. Runs on its own
 * thread (a virtual thread when the JVM has them), so it may block; when it returns the session is
 * closed, and when it throws while the call is up the call is hung up first (the rule is {@link
 * AsyncSessionHandler}'s). Without virtual threads each running call holds a platform thread;
 * {@link AsyncSessionHandler} needs none.
 *
 * <pre>{@code
 * SessionHandler handler = session -> {
 *     session.answer(Duration.ofSeconds(5));
 *     BridgeResult result = session.bridge(BridgeRequest.to(Endpoint.user("2000"))
 *             .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build(), Duration.ofHours(2));
 *     if (!result.isAnswered()) {                   // NO_ANSWER after about 20 s: the channel is still up
 *         session.playback("ivr/ivr-not_available.wav", Duration.ofSeconds(30));
 *         session.hangup(HangupCause.NO_ANSWER);
 *     }
 * };
 * }</pre>
 */
@FunctionalInterface
public interface SessionHandler {
    /**
     * Handles the call.
     *
     * @param session the call's session
     * @throws Exception anything; while the call is up it is logged, counted ({@link
     *     OutboundStats#handlerFailures()}) and the call hung up
     */
    void handle(EslSession session) throws Exception;
}
