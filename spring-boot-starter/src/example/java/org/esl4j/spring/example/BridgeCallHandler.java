package org.esl4j.spring.example;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.esl4j.EslSession;
import org.esl4j.SessionHandler;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.BridgeResult;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.Timeouts;
import org.springframework.stereotype.Component;

/**
 * Answers each call FreeSWITCH hands over ({@code <action application="socket"
 * data="127.0.0.1:8084 async full"/>}) and bridges it to one destination with a no-answer
 * timeout; when nobody answers, hangs the caller up with the bridge's cause.
 */
@Component
public class BridgeCallHandler implements SessionHandler {
    private static final Log LOG = LogFactory.getLog(BridgeCallHandler.class);
    private static final Duration COMMAND = Duration.ofSeconds(10);
    /** The longest a bridged call may last before the handler gives up on it. */
    private static final Duration LONGEST_CALL = Duration.ofHours(4);

    private final Endpoint destination;
    private final Duration noAnswerTimeout;

    /**
     * Made by Spring from the example's settings.
     *
     * @param settings the destination and its no-answer timeout
     */
    public BridgeCallHandler(CallServiceProperties settings) {
        this.destination = Endpoint.of(settings.bridgeTo());
        this.noAnswerTimeout = settings.noAnswerTimeout();
    }

    @Override
    public void handle(EslSession session) throws Exception {
        session.answer(COMMAND);
        BridgeRequest bridge = BridgeRequest.to(destination).timeouts(Timeouts.noAnswer(noAnswerTimeout)).build();
        BridgeResult result = session.bridge(bridge, LONGEST_CALL);
        if (!result.isAnswered()) {
            HangupCause cause = result.cause() == null ? HangupCause.NO_ANSWER : result.cause();
            LOG.info("call " + session.uuid() + ": " + destination + " did not answer (" + cause + ")");
            session.hangup(cause).get(COMMAND.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}
