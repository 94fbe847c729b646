package org.esl4j.spring.test;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.esl4j.EslClient;
import org.esl4j.SessionHandler;
import org.esl4j.spring.EslAutoConfiguration;
import org.esl4j.spring.EslOutboundAutoConfiguration;
import org.esl4j.spring.EslOutboundLifecycle;
import org.esl4j.testing.EslSimulator;
import org.junit.After;
import org.junit.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The documented test recipe: the starter pointed at the simulator, the outbound port read back. */
public class EslSimulatorPropertiesTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final EslSimulator simulator = EslSimulator.start();

    @After
    public void stop() {
        simulator.close();
    }

    @Test
    public void theStarterTalksToTheSimulatorAndFreeSwitchReachesItsOutboundServer() {
        // What @DynamicPropertySource hands to Spring, as name=value pairs.
        List<String> properties = new ArrayList<>();
        EslSimulatorProperties.register((name, value) -> properties.add(name + "=" + value.get()), simulator);
        CompletableFuture<String> handled = new CompletableFuture<>();
        SessionHandler handler = session -> handled.complete(session.uuid());
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(EslAutoConfiguration.class, EslOutboundAutoConfiguration.class))
                .withPropertyValues(properties.toArray(new String[0]))
                .withBean(SessionHandler.class, () -> handler)
                .run(context -> {
                    assertNull(context.getStartupFailure());
                    assertTrue(context.getBean(EslClient.class).api("status", WAIT).startsWith("UP "));
                    int port = context.getEnvironment().getRequiredProperty(EslOutboundLifecycle.LOCAL_PORT_PROPERTY,
                            Integer.class);
                    assertEquals(context.getBean(EslOutboundLifecycle.class).port(), port);
                    simulator.routeToOutbound("support", port, true);
                    simulator.call("support");
                    assertEquals(simulator.awaitExecute("socket", WAIT).uniqueId(),
                            handled.get(WAIT.getSeconds(), TimeUnit.SECONDS));
                });
    }
}
