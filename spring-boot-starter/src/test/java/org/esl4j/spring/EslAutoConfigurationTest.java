package org.esl4j.spring;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.aopalliance.intercept.MethodInterceptor;
import org.esl4j.ConnectionEvent;
import org.esl4j.EslClient;
import org.esl4j.EslConnectionClosedException;
import org.esl4j.EslEvent;
import org.esl4j.EslException;
import org.esl4j.testing.EslSimulator;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

/** The auto-configuration in application contexts against the simulator. */
public class EslAutoConfigurationTest {
    private static final long WAIT_SECONDS = 20;
    private static final Duration WAIT = Duration.ofSeconds(WAIT_SECONDS);

    private EslSimulator sim;
    private ApplicationContextRunner runner;

    @Before
    public void start() {
        sim = EslSimulator.start();
        runner = new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(EslAutoConfiguration.class, EslHealthAutoConfiguration.class,
                        EslMetricsAutoConfiguration.class))
                .withPropertyValues("esl4j.inbound.port=" + sim.port());
    }

    @After
    public void stop() {
        if (sim != null) {
            sim.close();
        }
    }

    @Test
    public void propertiesMakeAConnectedClient() {
        runner.withPropertyValues("esl4j.inbound.command-timeout=7s", "esl4j.inbound.queue.size=123").run(context -> {
            assertEquals(null, context.getStartupFailure());
            EslClient client = context.getBean(EslClient.class);
            assertTrue(client.isConnected());
            assertEquals(sim.port(), client.options().port());
            assertEquals(Duration.ofSeconds(7), client.options().commandTimeout());
            assertEquals(123, client.options().delivery().maxQueuedEvents());
            assertTrue(client.api("status", WAIT).startsWith("UP "));
            assertEquals(List.of("default"), context.getBean(EslServers.class).names());
        });
    }

    @Test
    public void clientIsClosedWithTheContext() {
        EslClient[] kept = new EslClient[1];
        runner.run(context -> kept[0] = context.getBean(EslClient.class));
        assertNotNull(kept[0]);
        assertFalse(kept[0].isConnected());
    }

    @Test
    public void namedServersInheritTheSharedSettings() {
        runner.withPropertyValues("esl4j.inbound.connect-timeout=3s",
                "esl4j.inbound.servers.east.host=127.0.0.1",
                "esl4j.inbound.servers.west.port=" + sim.port()).run(context -> {
                    assertEquals(null, context.getStartupFailure());
                    EslServers servers = context.getBean(EslServers.class);
                    assertEquals(List.of("east", "west"), servers.names());
                    for (EslServer server : servers.all()) {
                        assertTrue(server.name(), server.client().isConnected());
                        assertEquals(Duration.ofSeconds(3), server.client().options().connectTimeout());
                    }
                    assertTrue("no single EslClient bean with several servers", context.getBeansOfType(EslClient.class).isEmpty());
                });
    }

    @Test
    public void badPropertiesFailTheStartUpNamingEverySetting() {
        runner.withPropertyValues("esl4j.inbound.port=70000", "esl4j.inbound.connect-timeout=0s",
                "esl4j.inbound.filters[0]=Unique-ID", "esl4j.inbound.reconnect.initial-delay=2s",
                "esl4j.inbound.reconnect.max-delay=1s", "esl4j.inbound.subscriptions[0]=CHANNEL_ANSWER\r\nexit").run(context -> {
                    Throwable failure = context.getStartupFailure();
                    assertNotNull("start-up must fail", failure);
                    Throwable cause = startupCause(failure);
                    assertTrue(cause.toString(), cause instanceof EslStartupException);
                    String message = cause.getMessage();
                    for (String property : new String[] {"esl4j.inbound.port must be 1 to 65535 (was 70000)",
                            "esl4j.inbound.connect-timeout", "esl4j.inbound.filters", "esl4j.inbound.reconnect.max-delay",
                            "esl4j.inbound.subscriptions"}) {
                        assertTrue(message, message.contains(property));
                    }
                    FailureAnalysis analysis = new EslFailureAnalyzer().analyze(failure);
                    assertNotNull(analysis);
                    assertEquals(message, analysis.getDescription());
                });
    }

    @Test
    public void unreachableServerFailsTheStartUpWithItsAddress() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        runner.withPropertyValues("esl4j.inbound.port=" + closedPort, "esl4j.inbound.connect-timeout=2s").run(context -> {
            Throwable cause = startupCause(context.getStartupFailure());
            assertTrue(String.valueOf(cause), cause instanceof EslStartupException);
            assertTrue(cause.getMessage(), cause.getMessage().contains("'default' at 127.0.0.1:" + closedPort));
        });
    }

    @Test
    public void wrongPasswordFailsTheStartUp() {
        runner.withPropertyValues("esl4j.inbound.password=wrong").run(context -> {
            Throwable cause = startupCause(context.getStartupFailure());
            assertTrue(String.valueOf(cause), cause instanceof EslStartupException);
            assertTrue(cause.getMessage(), cause.getMessage().contains("Cannot connect"));
        });
    }

    @Test
    public void listenersReceiveEachChannelsEventsInOrderDespiteAFailingListener() {
        ChannelRecorder recorder = new ChannelRecorder();
        runner.withBean(ChannelRecorder.class, () -> recorder)
                .withBean(FailingListener.class, FailingListener::new)
                .run(context -> {
                    assertEquals(null, context.getStartupFailure());
                    EslClient client = context.getBean(EslClient.class);
                    int calls = 5;
                    for (int i = 0; i < calls; i++) {
                        assertTrue(client.bgapi("originate loopback/echo &park", WAIT).startsWith("+OK"));
                    }
                    client.api("hupall", WAIT);
                    // Each loopback call has two channels.
                    assertTrue("hang-ups delivered", recorder.awaitHangups(2 * calls));
                    assertEquals(2 * calls, recorder.byChannel.size());
                    for (Map.Entry<String, List<EslEvent>> channel : recorder.byChannel.entrySet()) {
                        List<EslEvent> events = channel.getValue();
                        List<String> names = new ArrayList<>();
                        long previous = -1;
                        for (EslEvent event : events) {
                            names.add(event.eventName());
                            long sequence = Long.parseLong(event.header("Event-Sequence"));
                            assertTrue(channel.getKey() + " out of order: " + names, sequence > previous);
                            previous = sequence;
                        }
                        assertEquals(List.of("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"), names);
                    }
                    assertTrue(client.deliveryStats().toString(), client.deliveryStats().listenerFailures() >= 2 * calls);
                });
    }

    @Test
    public void listenerOnAnInterfaceProxiedBeanIsCalledThroughTheProxy() {
        HangupRecorder target = new HangupRecorder();
        AtomicInteger intercepted = new AtomicInteger();
        // A JDK proxy: the annotated method of the class cannot be invoked on it directly.
        ProxyFactory proxy = new ProxyFactory(target);
        proxy.addAdvice((MethodInterceptor) invocation -> {
            intercepted.incrementAndGet();
            return invocation.proceed();
        });
        runner.withBean(HangupHandler.class, () -> (HangupHandler) proxy.getProxy()).run(context -> {
            assertEquals(null, context.getStartupFailure());
            EslClient client = context.getBean(EslClient.class);
            assertTrue(client.bgapi("originate loopback/echo &park", WAIT).startsWith("+OK"));
            client.api("hupall", WAIT);
            assertTrue("hang-ups reached the target", target.hangups.await(WAIT_SECONDS, TimeUnit.SECONDS));
            assertTrue("calls went through the proxy", intercepted.get() >= 2);
        });
    }

    @Test
    public void listenerWithAWrongSignatureFailsTheStartUp() {
        runner.withBean(BadListener.class, BadListener::new).run(context -> {
            Throwable cause = startupCause(context.getStartupFailure());
            assertTrue(String.valueOf(cause), cause instanceof EslStartupException);
            assertTrue(cause.getMessage(), cause.getMessage().contains("onEvent"));
        });
    }

    @Test
    public void listenerWithABadEventNameFailsTheStartUp() {
        runner.withBean(BadEventNameListener.class, BadEventNameListener::new).run(context -> {
            Throwable cause = startupCause(context.getStartupFailure());
            assertTrue(String.valueOf(cause), cause instanceof EslStartupException);
            assertTrue(cause.getMessage(), cause.getMessage().contains("'CHANNEL_ANSWER\nexit'"));
        });
    }

    @Test
    public void listenerNamingAnUnknownServerFailsTheStartUp() {
        runner.withBean(WrongServerListener.class, WrongServerListener::new).run(context -> {
            Throwable cause = startupCause(context.getStartupFailure());
            assertTrue(String.valueOf(cause), cause instanceof EslStartupException);
            assertTrue(cause.getMessage(), cause.getMessage().contains("'nowhere'"));
        });
    }

    @Test
    public void healthGoesDownWhenFreeSwitchStopsAndUpAfterTheReconnect() throws Exception {
        runner.withPropertyValues("esl4j.inbound.reconnect.initial-delay=50ms", "esl4j.inbound.reconnect.max-delay=200ms")
                .run(context -> {
                    HealthIndicator health = (HealthIndicator) context.getBean("esl4jHealthContributor", CompositeHealthContributor.class)
                            .getContributor("default");
                    assertEquals(Status.UP, health.health().getStatus());
                    EslClient client = context.getBean(EslClient.class);
                    CountDownLatch lost = new CountDownLatch(1);
                    CountDownLatch restored = new CountDownLatch(1);
                    client.onConnectionEvent(event -> {
                        if (event.type() == ConnectionEvent.Type.DISCONNECTED) {
                            lost.countDown();
                        } else if (event.type() == ConnectionEvent.Type.RECONNECTED) {
                            restored.countDown();
                        }
                    });
                    int port = sim.port();
                    sim.close();
                    assertTrue("disconnect noticed", lost.await(WAIT_SECONDS, TimeUnit.SECONDS));
                    Health down = health.health();
                    assertEquals(Status.DOWN, down.getStatus());
                    assertEquals(ConnectionState.RECONNECTING, down.getDetails().get("state"));
                    sim = restartOn(port);
                    assertTrue("reconnected", restored.await(WAIT_SECONDS, TimeUnit.SECONDS));
                    assertEquals(Status.UP, health.health().getStatus());
                });
    }

    @Test
    public void startsWithFreeSwitchDownAndConnectsInTheBackground() throws Exception {
        int port = sim.port();
        sim.close();
        sim = null;
        runner.withPropertyValues("esl4j.inbound.port=" + port, "esl4j.inbound.connect-in-background=true",
                "esl4j.inbound.subscriptions=CHANNEL_ANSWER", "esl4j.inbound.reconnect.initial-delay=20ms",
                "esl4j.inbound.reconnect.max-delay=100ms").run(context -> {
                    assertEquals(null, context.getStartupFailure());
                    HealthIndicator health = (HealthIndicator) context.getBean("esl4jHealthContributor", CompositeHealthContributor.class)
                            .getContributor("default");
                    EslClient client = context.getBean(EslClient.class);
                    CountDownLatch connected = new CountDownLatch(1);
                    client.onConnectionEvent(event -> {
                        if (event.type() == ConnectionEvent.Type.CONNECTED) {
                            connected.countDown();
                        }
                    });
                    Health down = health.health();
                    assertEquals(Status.DOWN, down.getStatus());
                    assertEquals(ConnectionState.CONNECTING, down.getDetails().get("state"));
                    assertTrue(String.valueOf(down.getDetails()),
                            String.valueOf(down.getDetails().get("lastChange")).contains("connecting in the background"));
                    try {
                        client.api("status", WAIT);
                        fail("expected a command before the connection to fail at once");
                    } catch (EslConnectionClosedException expected) {
                        assertTrue(expected.getMessage(), expected.getMessage().contains("not connected yet"));
                    }
                    sim = restartOn(port);
                    assertTrue("connected", connected.await(WAIT_SECONDS, TimeUnit.SECONDS));
                    assertEquals(Status.UP, health.health().getStatus());
                    // The configured subscription, asked for at start-up, was sent once connected.
                    sim.awaitCommand(command -> command.startsWith("event plain") && command.contains("CHANNEL_ANSWER"), WAIT);
                    assertNotNull(client.api("status", WAIT));
                });
    }

    @Test
    public void connectingInTheBackgroundNeedsReconnect() {
        runner.withPropertyValues("esl4j.inbound.connect-in-background=true", "esl4j.inbound.reconnect.enabled=false")
                .run(context -> {
                    Throwable cause = startupCause(context.getStartupFailure());
                    assertTrue(String.valueOf(cause), cause instanceof EslStartupException);
                    assertTrue(cause.getMessage(), cause.getMessage().contains("esl4j.inbound.connect-in-background needs"));
                });
    }

    /**
     * Starts a simulator on a port a closed one used. Another socket on the host may hold that
     * ephemeral port for a moment (a client's own source port, say), so binding is retried until
     * the wait runs out instead of failing the test on the first refusal.
     */
    private static EslSimulator restartOn(int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (true) {
            try {
                return EslSimulator.builder().port(port).start();
            } catch (EslException bindRefused) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("port " + port + " stayed taken", bindRefused);
                }
                // Back-off between bind attempts, not synchronisation: nothing signals a port free.
                Thread.sleep(25);
            }
        }
    }

    @Test
    public void metricsMoveWhenEventsFlow() {
        // Every auto-configuration on the class path: Spring Boot's metrics bind the starter's meters.
        new ApplicationContextRunner().withUserConfiguration(AutoConfiguredApplication.class)
                .withPropertyValues("esl4j.inbound.port=" + sim.port(),
                        "esl4j.inbound.subscriptions=CHANNEL_CREATE,CHANNEL_HANGUP_COMPLETE").run(context -> {
                    assertEquals(null, context.getStartupFailure());
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    EslClient client = context.getBean(EslClient.class);
                    CountDownLatch hangups = new CountDownLatch(2);
                    client.onEvent("CHANNEL_HANGUP_COMPLETE", event -> hangups.countDown());
                    double receivedBefore = registry.get("esl4j.events.received").tag("server", "default").functionCounter().count();
                    double deliveredBefore = registry.get("esl4j.events.delivered").tag("server", "default").functionCounter().count();
                    assertTrue(client.bgapi("originate loopback/echo &park", WAIT).startsWith("+OK"));
                    client.api("hupall", WAIT);
                    assertTrue(hangups.await(WAIT_SECONDS, TimeUnit.SECONDS));
                    assertTrue(registry.get("esl4j.events.received").functionCounter().count() >= receivedBefore + 4);
                    assertTrue(registry.get("esl4j.events.delivered").functionCounter().count() > deliveredBefore);
                    assertEquals(1.0, registry.get("esl4j.connection.up").gauge().value(), 0.0);
                    assertTrue(registry.get("esl4j.events.queue.depth").gauge().value() >= 0);
                    assertTrue(registry.get("esl4j.events.lag.max").gauge().value() >= 0);
                    assertTrue(registry.get("esl4j.events.lag").timer().count() >= 4);

                    Timer hupall = registry.get("esl4j.commands.latency")
                            .tags("server", "default", "command", "api hupall", "outcome", "succeeded").timer();
                    assertEquals(1, hupall.count());
                    assertTrue(hupall.totalTime(TimeUnit.NANOSECONDS) > 0);
                    assertEquals(1, registry.get("esl4j.commands.latency").tags("command", "bgapi originate").timer().count());
                    try {
                        client.api("hupall secret\nexit", WAIT);
                        fail("a command with a line break must be refused");
                    } catch (EslException expected) {
                        assertEquals(EslException.Kind.INVALID_COMMAND, expected.kind());
                    }
                    Timer refused = registry.get("esl4j.commands.latency")
                            .tags("command", "api hupall", "outcome", "failed").timer();
                    assertEquals(1, refused.count());
                    assertTrue("arguments never become tags", registry.getMeters().stream()
                            .noneMatch(meter -> String.valueOf(meter.getId().getTag("command")).contains("secret")));
                });
    }

    @Test
    public void inboundCanBeSwitchedOff() {
        runner.withPropertyValues("esl4j.inbound.enabled=false").run(context -> {
            assertEquals(null, context.getStartupFailure());
            assertTrue(context.getBeansOfType(EslServers.class).isEmpty());
            assertTrue(context.getBeansOfType(MeterBinder.class).isEmpty());
            assertFalse(context.containsBean("esl4jHealthContributor"));
        });
    }

    @Test
    public void healthAndMetricsNeedTheirLibraries() {
        runner.withClassLoader(new FilteredClassLoader(HealthIndicator.class, MeterBinder.class)).run(context -> {
            assertEquals(null, context.getStartupFailure());
            assertTrue(context.getBean(EslClient.class).isConnected());
            assertFalse(context.containsBean("esl4jHealthContributor"));
            assertFalse(context.containsBean("eslMetrics"));
        });
    }

    /** The {@link EslStartupException} in a failed start-up's chain, else the failure itself. */
    private static Throwable startupCause(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof EslStartupException) {
                return cause;
            }
        }
        return failure;
    }

    /** An application: every auto-configuration on the class path, read from the imports files. */
    @Configuration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class AutoConfiguredApplication {}

    /** Records the channel events it gets, per channel, in arrival order. */
    static class ChannelRecorder {
        final Map<String, List<EslEvent>> byChannel = new ConcurrentHashMap<>();
        private final List<EslEvent> hangups = new ArrayList<>();

        @EslListener({"CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"})
        void onChannelEvent(EslEvent event) {
            byChannel.computeIfAbsent(event.uniqueId(), uuid -> new ArrayList<>()).add(event);
            if ("CHANNEL_HANGUP_COMPLETE".equals(event.eventName())) {
                synchronized (hangups) {
                    hangups.add(event);
                    hangups.notifyAll();
                }
            }
        }

        boolean awaitHangups(int count) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            synchronized (hangups) {
                while (hangups.size() < count) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    TimeUnit.NANOSECONDS.timedWait(hangups, left);
                }
                return true;
            }
        }
    }

    /** What the proxy of {@link HangupRecorder} implements. */
    public interface HangupHandler {
        /**
         * One hang-up.
         *
         * @param event the event
         */
        void onHangup(EslEvent event);
    }

    /** Counts the two hang-ups of one loopback call; proxied by a test. */
    public static class HangupRecorder implements HangupHandler {
        final CountDownLatch hangups = new CountDownLatch(2);

        @Override
        @EslListener("CHANNEL_HANGUP_COMPLETE")
        public void onHangup(EslEvent event) {
            hangups.countDown();
        }
    }

    /** Throws on every answer: must be logged and counted, and must not stop delivery. */
    static class FailingListener {
        @EslListener("CHANNEL_ANSWER")
        void onAnswer(EslEvent event) {
            throw new IllegalStateException("listener bug for " + event.uniqueId());
        }
    }

    /** A listener method without an event parameter. */
    static class BadListener {
        @EslListener("CHANNEL_ANSWER")
        void onEvent(String notAnEvent) {
            throw new AssertionError(notAnEvent);
        }
    }

    /** A listener whose event name would break the subscription line. */
    static class BadEventNameListener {
        @EslListener("CHANNEL_ANSWER\nexit")
        void onAnswer(EslEvent event) {
            throw new AssertionError(event);
        }
    }

    /** A listener naming a server that is not configured. */
    static class WrongServerListener {
        @EslListener(value = "CHANNEL_ANSWER", servers = "nowhere")
        void onAnswer(EslEvent event) {
            throw new AssertionError(event);
        }
    }
}
