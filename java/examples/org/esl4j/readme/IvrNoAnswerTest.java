package org.esl4j.readme;

import static org.junit.Assert.assertEquals;

import java.time.Duration;
import org.esl4j.EslOutboundServer;
import org.esl4j.ServerOptions;
import org.esl4j.testing.EndpointBehavior;
import org.esl4j.testing.EslSimulator;
import org.esl4j.testing.EslSimulatorRule;
import org.junit.Rule;
import org.junit.Test;

/**
 * README, "test kit" (JUnit 4): the IVR of {@link OutboundQuickStart} (and its asynchronous twin
 * {@link AsyncOutboundQuickStart}) plays a message when the agent does not answer within 20 s. The simulator's virtual clock makes the 20 s take
 * milliseconds.
 */
public class IvrNoAnswerTest {
    @Rule
    public final EslSimulatorRule rule = new EslSimulatorRule(EslSimulator.builder().virtualClock());

    @Test
    public void playsAMessageWhenTheAgentDoesNotAnswerWithin20Seconds() {
        EslSimulator sim = rule.simulator();
        sim.endpoint("user/2000", EndpointBehavior.neverAnswer());
        try (EslOutboundServer ivr = EslOutboundServer.start(ServerOptions.builder().port(0).build(),
                OutboundQuickStart.HANDLER)) {
            sim.routeToOutbound("support", ivr.port(), true);
            sim.call("support");
            sim.awaitExecute("bridge", Duration.ofSeconds(5));      // the agent's phone rings
            sim.advance(Duration.ofSeconds(20));                    // nobody answers
            assertEquals("ivr/ivr-no_agents_available.wav",
                    sim.awaitExecute("playback", Duration.ofSeconds(5)).applicationData());
        }
    }

    @Test
    public void theAsynchronousIvrDoesTheSameWithoutAThread() {
        EslSimulator sim = rule.simulator();
        sim.endpoint("user/2000", EndpointBehavior.neverAnswer());
        try (EslOutboundServer ivr = EslOutboundServer.startAsync(ServerOptions.builder().port(0).build(),
                AsyncOutboundQuickStart.HANDLER)) {
            sim.routeToOutbound("support", ivr.port(), true);
            sim.call("support");
            sim.awaitExecute("bridge", Duration.ofSeconds(5));
            sim.advance(Duration.ofSeconds(20));
            assertEquals("ivr/ivr-no_agents_available.wav",
                    sim.awaitExecute("playback", Duration.ofSeconds(5)).applicationData());
        }
    }
}
