package org.esl4j;

import java.util.concurrent.CompletionStage;
import org.esl4j.dial.HangupCause;

/**
 * Handles one call handed to an {@link EslOutboundServer} without a thread of its own: it chains
 * the session's non-blocking commands and returns the stage that completes when the call is
 * done, so ten thousand calls need no more threads than ten (Java 8 and later). Start the server
 * with {@link EslOutboundServer#startAsync(ServerOptions, AsyncSessionHandler)}.
 *
 * <pre>{@code
 * AsyncSessionHandler handler = session -> session.answer()
 *         .thenCompose(answered -> session.bridge(BridgeRequest.to(Endpoint.user("2000"))
 *                 .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build()))
 *         .thenCompose(agent -> agent.isAnswered()
 *                 ? CompletableFuture.completedFuture(null)
 *                 : session.playback("ivr/ivr-no_agents_available.wav")
 *                         .thenCompose(played -> session.hangup(HangupCause.NO_ANSWER)));
 * }</pre>
 *
 * <p>{@code handle} and the stages chained on the session's futures run on the server's
 * {@link ServerOptions#completionExecutor() completion executor}, never on an engine or event
 * thread; they must not block (use {@link SessionHandler} for blocking code).
 *
 * <p>The session ends, and its resources are released, at the first of:
 * <ul>
 *   <li>the returned stage completes normally: the socket is closed ({@code exit}); FreeSWITCH
 *       then hangs the channel up unless it was told to {@code resume} the dialplan;
 *   <li>the returned stage fails (or {@code handle} throws or returns null) while the channel is
 *       up: the failure is logged (WARN) and counted ({@link OutboundStats#handlerFailures()}),
 *       the call is hung up with {@link HangupCause#NORMAL_TEMPORARY_FAILURE} (SIP 503, so the
 *       caller's switch may try elsewhere), then the socket is closed;
 *   <li>the returned stage fails after the channel hung up: logged at DEBUG, not counted (the
 *       session's commands fail once the caller is gone); the socket is closed;
 *   <li>the socket closes (FreeSWITCH closes it after the hang-up and the linger period): the
 *       session ends even if the stage is still pending, and the stage's later outcome is ignored.
 * </ul>
 * The same rule applies to a {@link SessionHandler}, whose return or exception completes its stage.
 */
@FunctionalInterface
public interface AsyncSessionHandler {
    /**
     * Starts handling the call.
     *
     * @param session the call's session, already subscribed to its events (and lingering, with
     *     {@code full})
     * @return completes when the application is done with the call
     * @throws Exception anything; treated as a failed stage
     */
    CompletionStage<?> handle(EslSession session) throws Exception;
}
