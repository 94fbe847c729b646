package org.esl4j.testing;

import java.util.Objects;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension: a fresh {@link EslSimulator} for each test, closed after it (needs
 * {@code org.junit.jupiter:junit-jupiter-api} 5.1+ on the test class path; esl4j itself does not
 * depend on it). Test methods receive the simulator as a parameter.
 *
 * <pre>{@code
 * @ExtendWith(EslSimulatorExtension.class)
 * class StatusTest {
 *     @Test
 *     void reportsUp(EslSimulator sim) { ... }
 * }
 *
 * class IvrTest {
 *     @RegisterExtension
 *     final EslSimulatorExtension sim = new EslSimulatorExtension(EslSimulator.builder().virtualClock());
 *
 *     @Test
 *     void playsAMessageWhenTheAgentDoesNotAnswer() {
 *         sim.simulator().advance(Duration.ofSeconds(20));
 *     }
 * }
 * }</pre>
 *
 * <p>{@link #simulator()} serves one test at a time per extension instance; tests that run in
 * parallel should take the simulator as a parameter instead.
 */
public final class EslSimulatorExtension implements BeforeEachCallback, AfterEachCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(EslSimulatorExtension.class);
    private static final String KEY = "simulator";

    private final EslSimulator.Builder settings;
    private volatile EslSimulator current;

    /** An extension with FreeSWITCH's defaults (password {@code ClueCon}, real clock). */
    public EslSimulatorExtension() {
        this(EslSimulator.builder());
    }

    /**
     * An extension that starts each simulator with these settings.
     *
     * @param settings e.g. {@code EslSimulator.builder().virtualClock()}
     */
    public EslSimulatorExtension(EslSimulator.Builder settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        EslSimulator simulator = settings.start();
        context.getStore(NAMESPACE).put(KEY, simulator);
        current = simulator;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        current = null;
        EslSimulator simulator = context.getStore(NAMESPACE).remove(KEY, EslSimulator.class);
        if (simulator != null) {
            simulator.close();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == EslSimulator.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        EslSimulator simulator = context.getStore(NAMESPACE).get(KEY, EslSimulator.class);
        if (simulator == null) {
            throw new IllegalStateException("the simulator runs only during a test method");
        }
        return simulator;
    }

    /**
     * The running simulator of the current test (for a {@code @RegisterExtension} field).
     *
     * @return the simulator
     * @throws IllegalStateException outside a test
     */
    public EslSimulator simulator() {
        EslSimulator running = current;
        if (running == null) {
            throw new IllegalStateException("the simulator runs only during a test method");
        }
        return running;
    }
}
