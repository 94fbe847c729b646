package org.esl4j.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.esl4j.EslOutboundServer;
import org.esl4j.ServerOptions;
import org.esl4j.testing.EndpointBehavior;
import org.esl4j.testing.EslSimulator;
import org.esl4j.testing.EslSimulatorExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** README, "test kit" (JUnit 5): the same test with the extension. */
class IvrNoAnswerJupiterTest {
    @RegisterExtension
    final EslSimulatorExtension sim = new EslSimulatorExtension(EslSimulator.builder().virtualClock());

    @Test
    void playsAMessageWhenTheAgentDoesNotAnswerWithin20Seconds() {
        EslSimulator simulator = sim.simulator();
        simulator.endpoint("user/2000", EndpointBehavior.neverAnswer());
        try (EslOutboundServer ivr = EslOutboundServer.start(ServerOptions.builder().port(0).build(),
                OutboundQuickStart.HANDLER)) {
            simulator.routeToOutbound("support", ivr.port(), true);
            simulator.call("support");
            simulator.awaitExecute("bridge", Duration.ofSeconds(5));
            simulator.advance(Duration.ofSeconds(20));
            assertEquals("ivr/ivr-no_agents_available.wav",
                    simulator.awaitExecute("playback", Duration.ofSeconds(5)).applicationData());
        }
    }
}
