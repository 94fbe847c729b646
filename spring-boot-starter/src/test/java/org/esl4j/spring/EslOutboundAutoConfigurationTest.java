package org.esl4j.spring;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.esl4j.EslEvent;
import org.esl4j.EslSession;
import org.esl4j.SessionHandler;
import org.esl4j.dial.HangupCause;
import org.esl4j.spring.example.CallServiceApplication;
import org.esl4j.spring.example.HangupLogger;
import org.esl4j.testing.EndpointBehavior;
import org.esl4j.testing.EslSimulator;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The outbound server with the application context, and the example application, against the simulator. */
public class EslOutboundAutoConfigurationTest {
    private static final long WAIT_SECONDS = 20;
    private static final Duration WAIT = Duration.ofSeconds(WAIT_SECONDS);

    private EslSimulator sim;
    private ApplicationContextRunner runner;

    @Before
    public void start() {
        sim = EslSimulator.start();
        runner = new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(EslAutoConfiguration.class, EslOutboundAutoConfiguration.class,
                        EslHealthAutoConfiguration.class, EslMetricsAutoConfiguration.class))
                .withPropertyValues("esl4j.inbound.port=" + sim.port(), "esl4j.outbound.port=0");
    }

    @After
    public void stop() {
        if (sim != null) {
            sim.close();
        }
    }

    @Test
    public void handlerBeanReceivesACallRoutedByFreeSwitch() {
        CompletableFuture<String> handled = new CompletableFuture<>();
        CompletableFuture<Void> hungUp = new CompletableFuture<>();
        SessionHandler handler = session -> {
            handled.complete(session.uuid());
            session.hangup(HangupCause.NORMAL_CLEARING).get(WAIT_SECONDS, TimeUnit.SECONDS);
            hungUp.complete(null);
        };
        runner.withBean(SessionHandler.class, () -> handler).run(context -> {
            assertEquals(null, context.getStartupFailure());
            EslOutboundLifecycle server = context.getBean(EslOutboundLifecycle.class);
            assertTrue(server.isRunning());
            assertEquals("esl4j.outbound.port=0 publishes the bound port", Integer.valueOf(server.port()),
                    context.getEnvironment().getProperty(EslOutboundLifecycle.LOCAL_PORT_PROPERTY, Integer.class));
            MeterRegistry registry = new SimpleMeterRegistry();
            context.getBean(EslOutboundMetrics.class).bindTo(registry);
            assertEquals(0.0, registry.get("esl4j.outbound.sessions").functionCounter().count(), 0.0);

            sim.routeToOutbound("support", server.port(), true);
            sim.call("support");
            String uuid = handled.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(sim.awaitExecute("socket", WAIT).uniqueId(), uuid);
            sim.awaitEvent(event -> "CHANNEL_HANGUP_COMPLETE".equals(event.eventName()) && uuid.equals(event.uniqueId()), WAIT);
            assertEquals(1.0, registry.get("esl4j.outbound.sessions").functionCounter().count(), 0.0);
            hungUp.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals("the session's hang-up is timed", 1, registry.get("esl4j.commands.latency")
                    .tags("server", "outbound", "command", "hangup", "outcome", "succeeded").timer().count());
            assertEquals(1, registry.get("esl4j.commands.latency")
                    .tags("server", "outbound", "command", "myevents").timer().count());

            server.stop();
            assertFalse(server.isRunning());
            assertEquals("the final count stays after the stop", 1.0,
                    registry.get("esl4j.outbound.sessions").functionCounter().count(), 0.0);
            assertEquals(0.0, registry.get("esl4j.outbound.sessions.active").gauge().value(), 0.0);
        });
    }

    @Test
    public void serverStopsWithTheContext() {
        EslOutboundLifecycle[] kept = new EslOutboundLifecycle[1];
        runner.withBean(SessionHandler.class, () -> session -> { }).run(context -> {
            kept[0] = context.getBean(EslOutboundLifecycle.class);
            assertTrue(kept[0].isRunning());
        });
        assertFalse(kept[0].isRunning());
    }

    @Test
    public void shutdownLetsTheRunningCallFinish() {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Boolean> finished = new CompletableFuture<>();
        SessionHandler handler = session -> {
            started.countDown();
            if (!release.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                finished.completeExceptionally(new AssertionError("never released"));
                return;
            }
            try {
                // Only works on a session that the shutdown left open.
                session.hangup(HangupCause.NORMAL_CLEARING).get(WAIT_SECONDS, TimeUnit.SECONDS);
                finished.complete(true);
            } catch (Exception closed) {
                finished.completeExceptionally(closed);
            }
        };
        runner.withBean(SessionHandler.class, () -> handler).withPropertyValues("esl4j.outbound.drain-timeout=20s").run(context -> {
            EslOutboundLifecycle server = context.getBean(EslOutboundLifecycle.class);
            sim.routeToOutbound("support", server.port(), true);
            sim.call("support");
            assertTrue("call handed over", started.await(WAIT_SECONDS, TimeUnit.SECONDS));
            Thread closer = new Thread(context::close, "context-close");
            closer.start();
            // The server leaves the running state as its drain begins.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (server.isRunning() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertFalse("shutdown began", server.isRunning());
            release.countDown();
            assertTrue(finished.get(WAIT_SECONDS, TimeUnit.SECONDS));
            closer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            assertFalse("context closed after the drain", closer.isAlive());
        });
    }

    @Test
    public void noServerWithoutAHandlerOrWhenSwitchedOff() {
        runner.run(context -> assertTrue(context.getBeansOfType(EslOutboundLifecycle.class).isEmpty()));
        runner.withBean(SessionHandler.class, () -> session -> { })
                .withPropertyValues("esl4j.outbound.enabled=false")
                .run(context -> assertTrue(context.getBeansOfType(EslOutboundLifecycle.class).isEmpty()));
    }

    @Test
    public void badOutboundSettingsFailTheStartUp() {
        runner.withBean(SessionHandler.class, () -> session -> { })
                .withPropertyValues("esl4j.outbound.max-sessions=0", "esl4j.outbound.bind-address=local host",
                        "esl4j.outbound.max-handshakes=0", "esl4j.outbound.listen-backlog=-1")
                .run(context -> {
                    String message = String.valueOf(context.getStartupFailure());
                    assertTrue(message, message.contains("esl4j.outbound.max-sessions must be at least 1"));
                    assertTrue(message, message.contains("esl4j.outbound.max-handshakes must be at least 1"));
                    assertTrue(message, message.contains("esl4j.outbound.listen-backlog must be at least 1"));
                    assertTrue(message, message.contains("esl4j.outbound.bind-address"));
                });
    }

    @Test
    public void portInUseFailsTheStartUpClearly() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            runner.withBean(SessionHandler.class, () -> session -> { })
                    .withPropertyValues("esl4j.outbound.port=" + taken.getLocalPort())
                    .run(context -> {
                        Throwable failure = context.getStartupFailure();
                        assertNotNull("start-up must fail", failure);
                        String message = String.valueOf(failure);
                        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
                            message += " / " + cause;
                        }
                        assertTrue(message, message.contains("Cannot run the esl4j outbound server on 127.0.0.1:" + taken.getLocalPort()));
                    });
        }
    }

    @Test
    public void exampleBridgesWithANoAnswerTimeoutAndHangsUpWithItsCause() {
        sim.endpoint("user/2000", EndpointBehavior.neverAnswer());
        // The whole example application: component scan and every auto-configuration.
        new ApplicationContextRunner().withUserConfiguration(CallServiceApplication.class)
                .withPropertyValues("esl4j.inbound.port=" + sim.port(), "esl4j.outbound.port=0",
                        "example.bridge-to=user/2000", "example.no-answer-timeout=1s")
                .run(context -> {
                    assertEquals(null, context.getStartupFailure());
                    assertNotNull(context.getBean(HangupLogger.class));
                    sim.routeToOutbound("support", context.getBean(EslOutboundLifecycle.class).port(), true);
                    sim.call("support");
                    String handled = sim.awaitExecute("bridge", WAIT).uniqueId();
                    EslEvent hangup = sim.awaitEvent(event -> "CHANNEL_HANGUP_COMPLETE".equals(event.eventName())
                            && handled.equals(event.uniqueId()), WAIT);
                    assertEquals(HangupCause.NO_ANSWER, hangup.hangupCause());
                });
    }
}
