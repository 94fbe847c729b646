package consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.esl4j.EslClient;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.dial.OriginateResult;
import org.esl4j.testing.EndpointBehavior;
import org.esl4j.testing.EslSimulator;
import org.esl4j.testing.EslSimulatorExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The JUnit 5 kit from the published esl4j-test artifact, next to the published esl4j. */
class CallDeskTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    final EslSimulatorExtension sim = new EslSimulatorExtension(EslSimulator.builder().virtualClock());

    @Test
    void compatApiTalksToTheSimulator() {
        EslSimulator simulator = sim.simulator();
        String status = CallDesk.status(simulator.host(), simulator.port(), simulator.password());
        assertTrue(status != null && status.startsWith("UP "), String.valueOf(status));
    }

    @Test
    void typedOriginateEndsWithNoAnswer() throws Exception {
        EslSimulator simulator = sim.simulator();
        simulator.endpoint("user/1000", EndpointBehavior.neverAnswer());
        OriginateRequest request = CallDesk.call("user/1000", Duration.ofSeconds(20));
        try (EslClient client = EslClient.connect(simulator.clientOptions().build())) {
            CompletableFuture<OriginateResult> outcome = client.originate(request);
            simulator.awaitCommand(line -> line.contains(request.uuid()), WAIT);
            simulator.advance(Duration.ofSeconds(20));
            OriginateResult result = outcome.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertFalse(result.succeeded());
            assertEquals(HangupCause.NO_ANSWER, result.cause());
        }
    }
}
