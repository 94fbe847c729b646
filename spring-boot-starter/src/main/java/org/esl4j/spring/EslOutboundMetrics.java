package org.esl4j.spring;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.function.ToLongFunction;
import org.esl4j.OutboundStats;

/**
 * Micrometer meters of the outbound server: calls active, accepted, refused over the session cap,
 * failed handshakes and handler failures. Read as zero before the server starts; after it stops,
 * they keep its final counts (with no call active). The sessions' commands are timed in
 * {@code esl4j.commands.latency} with {@code server=outbound}.
 */
public final class EslOutboundMetrics implements MeterBinder {
    private final EslOutboundLifecycle server;

    /**
     * Meters for this server.
     *
     * @param server the server's lifecycle
     */
    public EslOutboundMetrics(EslOutboundLifecycle server) {
        this.server = server;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("esl4j.outbound.sessions.active", server, s -> read(s, OutboundStats::active))
                .description("Calls being handled now")
                .register(registry);
        counter(registry, "esl4j.outbound.sessions", "Calls accepted", OutboundStats::sessions);
        counter(registry, "esl4j.outbound.sessions.rejected", "Calls refused over the session cap", OutboundStats::rejectedOverCap);
        counter(registry, "esl4j.outbound.handshake.failures", "Connections that failed the connect handshake",
                OutboundStats::handshakeFailures);
        counter(registry, "esl4j.outbound.handler.failures", "Handler calls that threw", OutboundStats::handlerFailures);
        server.commandTimings().add(EslMetrics.commandLatency(registry, "outbound"));
    }

    private void counter(MeterRegistry registry, String name, String description, ToLongFunction<OutboundStats> value) {
        FunctionCounter.builder(name, server, s -> read(s, value)).description(description).register(registry);
    }

    private static double read(EslOutboundLifecycle server, ToLongFunction<OutboundStats> value) {
        OutboundStats stats = server.statsOrNull();
        return stats == null ? 0 : value.applyAsLong(stats);
    }
}
