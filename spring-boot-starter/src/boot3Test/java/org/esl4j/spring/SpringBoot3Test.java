package org.esl4j.spring;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.esl4j.ConnectionEvent;
import org.esl4j.EslClient;
import org.esl4j.EslEvent;
import org.esl4j.testing.EslSimulator;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

/**
 * The starter on Spring Boot 3.5: every auto-configuration loaded the way an application loads
 * them, against the simulator.
 */
public class SpringBoot3Test {
    private static final long WAIT_SECONDS = 20;
    private static final Duration WAIT = Duration.ofSeconds(WAIT_SECONDS);

    private EslSimulator sim;

    @Before
    public void start() {
        sim = EslSimulator.start();
    }

    @After
    public void stop() {
        if (sim != null) {
            sim.close();
        }
    }

    @Test
    public void runsOnSpringBoot35() {
        assertTrue(SpringBootVersion.getVersion(), SpringBootVersion.getVersion().startsWith("3.5."));
    }

    @Test
    public void connectsDeliversEventsAndReportsHealthAndMetrics() {
        HangupCounter hangups = new HangupCounter();
        new ApplicationContextRunner()
                .withUserConfiguration(Application.class)
                .withBean(HangupCounter.class, () -> hangups)
                .withPropertyValues("esl4j.inbound.port=" + sim.port(), "esl4j.inbound.reconnect.enabled=false")
                .run(context -> {
                    assertEquals(null, context.getStartupFailure());
                    EslClient client = context.getBean(EslClient.class);
                    assertTrue(client.api("status", WAIT).startsWith("UP "));

                    MeterRegistry registry = new SimpleMeterRegistry();
                    context.getBean(EslMetrics.class).bindTo(registry);
                    assertTrue(client.bgapi("originate loopback/echo &park", WAIT).startsWith("+OK"));
                    client.api("hupall", WAIT);
                    assertTrue("hang-ups delivered", hangups.seen.await(WAIT_SECONDS, TimeUnit.SECONDS));
                    assertTrue(registry.get("esl4j.events.delivered").functionCounter().count() > 0);

                    HealthIndicator health = (HealthIndicator) context.getBean("esl4jHealthContributor", CompositeHealthContributor.class)
                            .getContributor("default");
                    assertEquals(Status.UP, health.health().getStatus());
                    CountDownLatch lost = new CountDownLatch(1);
                    client.onConnectionEvent(event -> {
                        if (event.type() == ConnectionEvent.Type.CLOSED) {
                            lost.countDown();
                        }
                    });
                    sim.close();
                    assertTrue("loss noticed", lost.await(WAIT_SECONDS, TimeUnit.SECONDS));
                    assertEquals(Status.DOWN, health.health().getStatus());
                    assertEquals(ConnectionState.DOWN, health.health().getDetails().get("state"));
                });
    }

    /** An application: every auto-configuration on the class path, read from the imports files. */
    @Configuration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class Application {}

    /** Counts the two hang-ups of one loopback call. */
    static class HangupCounter {
        final CountDownLatch seen = new CountDownLatch(2);

        @EslListener("CHANNEL_HANGUP_COMPLETE")
        void onHangup(EslEvent event) {
            seen.countDown();
        }
    }
}
