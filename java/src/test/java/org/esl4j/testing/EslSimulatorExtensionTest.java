package org.esl4j.testing;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.esl4j.ClientOptions;
import org.esl4j.EslClient;
import org.esl4j.EslException;
import org.junit.Test;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/** The JUnit 5 extension, exercised by launching Jupiter test classes through the Platform. */
public class EslSimulatorExtensionTest {
    /** Ports of the simulators the Jupiter tests saw, to check they were closed afterwards. */
    static final List<Integer> PORTS = Collections.synchronizedList(new ArrayList<Integer>());

    /** Jupiter tests with the simulator injected as a parameter. */
    @ExtendWith(EslSimulatorExtension.class)
    static class InjectedSimulator {
        @org.junit.jupiter.api.Test
        void answersApiStatus(EslSimulator sim) {
            PORTS.add(sim.port());
            try (EslClient client = EslClient.connect(sim.clientOptions().build())) {
                String status = client.api("status", Duration.ofSeconds(10));
                Assertions.assertTrue(status.startsWith("UP "), status);
            }
        }

        @org.junit.jupiter.api.Test
        void startsFreshForEachTest(EslSimulator sim) {
            PORTS.add(sim.port());
            Assertions.assertTrue(sim.commands().isEmpty(), sim.commands().toString());
            Assertions.assertFalse(sim.hasVirtualClock());
        }
    }

    /** Jupiter tests with the extension in a field, configured with a virtual clock. */
    static class RegisteredWithSettings {
        @RegisterExtension
        final EslSimulatorExtension sim = new EslSimulatorExtension(EslSimulator.builder().virtualClock().password("s3cret"));

        @org.junit.jupiter.api.Test
        void usesTheSettings() {
            PORTS.add(sim.simulator().port());
            Assertions.assertTrue(sim.simulator().hasVirtualClock());
            Assertions.assertEquals("s3cret", sim.simulator().password());
        }
    }

    /** A Jupiter test that must fail: proves failures are reported through the launcher. */
    @ExtendWith(EslSimulatorExtension.class)
    static class DeliberatelyFailing {
        @org.junit.jupiter.api.Test
        void expectsACommandNobodySent(EslSimulator sim) {
            sim.awaitCommand("api status", Duration.ofMillis(50));
        }
    }

    @Test
    public void injectsAFreshSimulatorAndClosesItAfterEachTest() {
        PORTS.clear();
        TestExecutionSummary summary = JupiterLauncher.run(InjectedSimulator.class);
        assertEquals(JupiterLauncher.failures(summary), 2, summary.getTestsSucceededCount());
        assertEquals(0, summary.getTestsFailedCount());
        assertEquals(2, PORTS.size());
        for (int port : PORTS) {
            try {
                EslClient.connect(ClientOptions.builder().port(port).connectTimeout(Duration.ofSeconds(2)).build())
                        .close();
                fail("the simulator on port " + port + " is still running");
            } catch (EslException expected) {
                assertEquals(EslException.Kind.REFUSED, expected.kind());
            }
        }
    }

    @Test
    public void registeredExtensionUsesItsSettings() {
        PORTS.clear();
        TestExecutionSummary summary = JupiterLauncher.run(RegisteredWithSettings.class);
        assertEquals(JupiterLauncher.failures(summary), 1, summary.getTestsSucceededCount());
        assertEquals(1, PORTS.size());
    }

    @Test
    public void failuresInsideJupiterTestsAreReported() {
        TestExecutionSummary summary = JupiterLauncher.run(DeliberatelyFailing.class);
        assertEquals(1, summary.getTestsFailedCount());
        Throwable failure = summary.getFailures().get(0).getException();
        assertTrue(failure.toString(), failure instanceof AssertionError && failure.getMessage().contains("api status"));
    }

    @Test
    public void readmeJupiterExamplePasses() {
        TestExecutionSummary summary = JupiterLauncher.run("org.esl4j.readme.IvrNoAnswerJupiterTest");
        assertEquals(JupiterLauncher.failures(summary), 1, summary.getTestsSucceededCount());
        assertEquals(0, summary.getTestsFailedCount());
    }
}
