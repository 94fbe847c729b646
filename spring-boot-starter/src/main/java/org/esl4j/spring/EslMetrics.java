package org.esl4j.spring;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.esl4j.CommandObserver;
import org.esl4j.DeliveryStats;
import org.esl4j.EslClient;
import org.esl4j.EslEvent;

/**
 * Micrometer meters of the inbound connections, tagged {@code server=<name>}: events received,
 * delivered, dropped and failed in listeners, queue depth, the longest queue wait, the lag from
 * FreeSWITCH to delivery, whether the connection is up, and the latency of commands (a timer
 * tagged also with the command's name, never its arguments, and its outcome).
 */
public final class EslMetrics implements MeterBinder {
    private final EslServers servers;

    /**
     * Meters for these servers.
     *
     * @param servers the servers
     */
    public EslMetrics(EslServers servers) {
        this.servers = servers;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (EslServer server : servers.all()) {
            EslClient client = server.client();
            counter(registry, server, "esl4j.events.received", "Events read from FreeSWITCH (delivered, queued or dropped)",
                    stats -> stats.delivered() + stats.queueDepth() + stats.dropped() + stats.criticalDropped());
            counter(registry, server, "esl4j.events.delivered", "Events handed to the listeners", DeliveryStats::delivered);
            counter(registry, server, "esl4j.events.dropped", "Events dropped because the queue was full", DeliveryStats::dropped);
            counter(registry, server, "esl4j.events.dropped.critical",
                    "Call-ending events dropped (only when the connection was overloaded)", DeliveryStats::criticalDropped);
            counter(registry, server, "esl4j.connection.overloads",
                    "Times the event queue reached its hard cap and the connection was closed", DeliveryStats::overloads);
            counter(registry, server, "esl4j.events.listener.failures", "Listener calls that threw", DeliveryStats::listenerFailures);
            Gauge.builder("esl4j.events.queue.depth", client, c -> c.deliveryStats().queueDepth())
                    .description("Events waiting for the listeners")
                    .tag("server", server.name())
                    .register(registry);
            Gauge.builder("esl4j.events.lag.max", client, c -> c.deliveryStats().maxLagMicros() / 1_000_000.0)
                    .description("Longest time an event waited in the queue since start")
                    .baseUnit("seconds")
                    .tag("server", server.name())
                    .register(registry);
            Gauge.builder("esl4j.connection.up", server, s -> s.state() == ConnectionState.CONNECTED ? 1 : 0)
                    .description("1 while connected to FreeSWITCH, else 0")
                    .tag("server", server.name())
                    .register(registry);
            Timer lag = Timer.builder("esl4j.events.lag")
                    .description("From an event's creation in FreeSWITCH (Event-Date-Timestamp) to its delivery;"
                            + " includes any clock difference between the hosts")
                    .tag("server", server.name())
                    .register(registry);
            client.onAnyEvent(event -> recordLag(lag, event));
            server.commandTimings().add(commandLatency(registry, server.name()));
        }
    }

    /**
     * Records each command in the {@code esl4j.commands.latency} timer tagged with {@code server},
     * the command's name and its outcome.
     */
    static CommandObserver commandLatency(MeterRegistry registry, String server) {
        return (command, duration, outcome) -> Timer.builder("esl4j.commands.latency")
                .description("From sending a command to FreeSWITCH to its result (for bgapi: the job's result)")
                .tag("server", server)
                .tag("command", command)
                .tag("outcome", outcome.name().toLowerCase(Locale.ROOT))
                .register(registry)
                .record(duration);
    }

    private static void recordLag(Timer lag, EslEvent event) {
        String created = event.header("Event-Date-Timestamp");
        if (created == null) {
            return;
        }
        try {
            long nowMicros = TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis());
            // A clock behind FreeSWITCH's would give a negative lag: counted as none.
            lag.record(Math.max(0, nowMicros - Long.parseLong(created.trim())), TimeUnit.MICROSECONDS);
        } catch (NumberFormatException malformed) {
            // Not a timestamp: nothing to measure.
        }
    }

    private static void counter(MeterRegistry registry, EslServer server, String name, String description,
            ToDoubleFunction<DeliveryStats> value) {
        FunctionCounter.builder(name, server.client(), client -> value.applyAsDouble(client.deliveryStats()))
                .description(description)
                .tag("server", server.name())
                .register(registry);
    }
}
