package org.esl4j.readme;

import java.time.Duration;
import org.esl4j.dial.Application;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.dial.Timeouts;

/**
 * README, "the no-answer timeout, answered for all three patterns": what to build, and (from
 * {@link #main}) the exact commands esl4j sends for it.
 */
public final class NoAnswerPatterns {
    private NoAnswerPatterns() {
    }

    /**
     * 1. Inbound originate: ring the customer for at most 30 s. Send with {@code
     * EslClient.originate(request)}; the outcome is {@code NO_ANSWER} when nobody answered.
     *
     * @return the request
     */
    public static OriginateRequest inboundOriginate() {
        return OriginateRequest.to(Endpoint.gateway("gw1", "13800138000"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
                .build();
    }

    /**
     * 2. The callback pattern, {@code originate user/1000 &bridge(user/2000)}: 30 s for the agent,
     * then 20 s for the customer. The outcome names the leg that did not answer (A or B).
     *
     * @return the request
     */
    public static OriginateRequest callback() {
        return OriginateRequest.to(Endpoint.user("1000"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
                .application(Application.bridge(BridgeRequest.to(Endpoint.user("2000"))
                        .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20)))
                        .build()))
                .build();
    }

    /**
     * 3. Outbound mode (the question of the quick-start page): bridge the call we control with a
     * 20 s no-answer timeout, keeping our channel up when nobody answers. Run with {@code
     * EslSession.bridge(request, limit)} (see {@link OutboundQuickStart}).
     *
     * @return the request
     */
    public static BridgeRequest outboundBridge() {
        return BridgeRequest.to(Endpoint.user("2000"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20)))
                .build();
    }

    /**
     * Prints the generated commands.
     *
     * @param args none
     */
    public static void main(String[] args) {
        System.out.println("1. bgapi " + inboundOriginate().command());
        System.out.println("2. bgapi " + callback().command());
        BridgeRequest bridge = outboundBridge();
        System.out.println("3. set on the controlled channel: " + bridge.callerChannelVariables());
        System.out.println("   execute bridge " + bridge.applicationArgument());
    }
}
