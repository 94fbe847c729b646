package org.esl4j.testing;

import java.util.Objects;
import org.junit.rules.ExternalResource;

/**
 * JUnit 4 rule: a fresh {@link EslSimulator} for each test, closed after it (needs
 * {@code junit:junit} 4.12+ on the test class path).
 *
 * <pre>{@code
 * public class IvrTest {
 *     @Rule
 *     public final EslSimulatorRule sim = new EslSimulatorRule(EslSimulator.builder().virtualClock());
 *
 *     @Test
 *     public void playsAMessageWhenTheAgentDoesNotAnswer() {
 *         sim.simulator().endpoint("user/2000", EndpointBehavior.neverAnswer());
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <p>As a {@code @ClassRule} on a static field it is shared by every test of the class.
 */
public final class EslSimulatorRule extends ExternalResource {
    private final EslSimulator.Builder settings;
    private volatile EslSimulator simulator;

    /** A rule with FreeSWITCH's defaults (password {@code ClueCon}, real clock). */
    public EslSimulatorRule() {
        this(EslSimulator.builder());
    }

    /**
     * A rule that starts each simulator with these settings.
     *
     * @param settings e.g. {@code EslSimulator.builder().virtualClock()}
     */
    public EslSimulatorRule(EslSimulator.Builder settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    @Override
    protected void before() {
        simulator = settings.start();
    }

    @Override
    protected void after() {
        EslSimulator running = simulator;
        simulator = null;
        if (running != null) {
            running.close();
        }
    }

    /**
     * The running simulator of the current test.
     *
     * @return the simulator
     * @throws IllegalStateException outside a test
     */
    public EslSimulator simulator() {
        EslSimulator running = simulator;
        if (running == null) {
            throw new IllegalStateException("the simulator runs only during a test");
        }
        return running;
    }
}
