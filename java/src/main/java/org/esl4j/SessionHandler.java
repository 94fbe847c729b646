package org.esl4j;

/**
 * Handles one call handed to an {@link EslOutboundServer}. Runs on its own thread (a virtual
 * thread when the JVM has them), so it may block; when it returns or throws, the session is
 * closed (after the linger period FreeSWITCH was asked for).
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
     * @throws Exception anything; it is counted ({@link OutboundStats#handlerFailures()}) and the
     *     session is closed
     */
    void handle(EslSession session) throws Exception;
}
