package org.esl4j.readme;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.esl4j.AsyncSessionHandler;
import org.esl4j.EslOutboundServer;
import org.esl4j.ServerOptions;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.Timeouts;

/**
 * README, "outbound server", asynchronous: the same call flow as {@link OutboundQuickStart} as a
 * chain of futures, so no call holds a thread (Java 8 and later; thousands of calls at once).
 */
public final class AsyncOutboundQuickStart {
    private AsyncOutboundQuickStart() {
    }

    /** What each call does; the returned stage completes when the call is done. */
    public static final AsyncSessionHandler HANDLER = session -> session.answer()
            .thenCompose(answered -> session.bridge(BridgeRequest.to(Endpoint.user("2000"))
                    .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20)))
                    .build()))
            .thenCompose(agent -> agent.isAnswered()
                    ? CompletableFuture.completedFuture(null)
                    : session.playback("ivr/ivr-no_agents_available.wav")  // NO_ANSWER after 20 s
                            .thenCompose(played -> session.hangup(HangupCause.NO_ANSWER)));

    /**
     * Serves on 127.0.0.1:8084 until the process is stopped.
     *
     * @param args none
     * @throws InterruptedException when interrupted
     */
    public static void main(String[] args) throws InterruptedException {
        try (EslOutboundServer server = EslOutboundServer.startAsync(ServerOptions.builder().port(8084).build(), HANDLER)) {
            System.out.println("outbound server on port " + server.port());
            new CountDownLatch(1).await(); // serve until the JVM is stopped
        }
    }
}
