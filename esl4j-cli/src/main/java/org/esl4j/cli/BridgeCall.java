package org.esl4j.cli;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.esl4j.EslSession;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.BridgeResult;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.Timeouts;

/**
 * What {@code esl4j serve} and the demo do with each outbound call: answer, bridge to a target
 * with a no-answer timeout, and when nobody answers, play a message on the channel (which is
 * still up) and hang up with {@code NO_ANSWER}.
 */
final class BridgeCall {
    /** Longest wait for answer, playback and hangup commands. */
    private static final Duration STEP_LIMIT = Duration.ofSeconds(30);
    /** Longest bridged call before the handler gives up waiting for it to end. */
    private static final Duration CALL_LIMIT = Duration.ofHours(4);

    /** What happened to one call. */
    static final class Outcome {
        final BridgeResult bridge;
        final boolean playedMessage;

        Outcome(BridgeResult bridge, boolean playedMessage) {
            this.bridge = bridge;
            this.playedMessage = playedMessage;
        }

        @Override
        public String toString() {
            if (bridge.isAnswered()) {
                return "bridged, ANSWERED; the call has ended";
            }
            return "not answered: " + bridge.cause() + " (DIALSTATUS " + bridge.dialStatus() + "); channel still up: "
                    + bridge.callerChannelUp()
                    + (playedMessage ? "; played the message and hung up NO_ANSWER" : "");
        }
    }

    private final Endpoint target;
    private final Duration noAnswer;
    private final String message;

    BridgeCall(Endpoint target, Duration noAnswer, String message) {
        this.target = target;
        this.noAnswer = noAnswer;
        this.message = message;
    }

    /** The bridge request for each call (fresh leg UUIDs every time). */
    BridgeRequest request() {
        return BridgeRequest.to(target).timeouts(Timeouts.noAnswer(noAnswer)).build();
    }

    /** Answers, then bridges with {@code request}: one of {@link #request()}, built for this call. */
    Outcome handle(EslSession session, BridgeRequest request) throws Exception {
        session.answer(STEP_LIMIT);
        BridgeResult result = session.bridge(request, CALL_LIMIT);
        boolean played = false;
        if (!result.isAnswered() && result.callerChannelUp()) {
            session.playback(message, STEP_LIMIT);
            played = true;
            session.hangup(HangupCause.NO_ANSWER).get(STEP_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        }
        return new Outcome(result, played);
    }
}
