package org.esl4j.readme;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.esl4j.EslOutboundServer;
import org.esl4j.ServerOptions;
import org.esl4j.SessionHandler;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.BridgeResult;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.Timeouts;

/**
 * README, "outbound server": FreeSWITCH's dialplan hands each call to us
 * ({@code <action application="socket" data="127.0.0.1:8084 async full"/>}); we answer and bridge
 * to an agent with a 20 s no-answer timeout, and the caller's channel stays up when nobody answers.
 */
public final class OutboundQuickStart {
    private OutboundQuickStart() {
    }

    /** What each call does; one thread per call, so blocking is fine. */
    public static final SessionHandler HANDLER = session -> {
        session.answer(Duration.ofSeconds(5));
        BridgeResult agent = session.bridge(BridgeRequest.to(Endpoint.user("2000"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20)))
                .build(), Duration.ofHours(2));
        if (!agent.isAnswered()) {                      // NO_ANSWER after 20 s; the caller is still up
            session.playback("ivr/ivr-no_agents_available.wav", Duration.ofSeconds(30));
            session.hangup(HangupCause.NO_ANSWER).get(5, TimeUnit.SECONDS);
        }
    };

    /**
     * Serves on 127.0.0.1:8084 until the process is stopped.
     *
     * @param args none
     * @throws InterruptedException when interrupted
     */
    public static void main(String[] args) throws InterruptedException {
        try (EslOutboundServer server = EslOutboundServer.start(ServerOptions.builder().port(8084).build(), HANDLER)) {
            System.out.println("outbound server on port " + server.port());
            new CountDownLatch(1).await(); // serve until the JVM is stopped
        }
    }
}
