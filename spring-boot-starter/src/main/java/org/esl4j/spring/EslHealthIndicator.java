package org.esl4j.spring;

import org.esl4j.DeliveryStats;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Health of one inbound connection: UP when connected; DOWN while reconnecting or when lost for
 * good, with {@code state} telling which.
 */
public final class EslHealthIndicator implements HealthIndicator {
    private final EslServer server;

    /**
     * Reports on one server.
     *
     * @param server the server
     */
    public EslHealthIndicator(EslServer server) {
        this.server = server;
    }

    @Override
    public Health health() {
        ConnectionState state = server.state();
        Health.Builder health = state == ConnectionState.CONNECTED ? Health.up() : Health.down();
        DeliveryStats delivery = server.client().deliveryStats();
        return health.withDetail("state", state)
                .withDetail("address", server.address())
                .withDetail("since", server.since().toString())
                .withDetail("lastChange", server.lastChange())
                .withDetail("queueDepth", delivery.queueDepth())
                .withDetail("eventsDropped", delivery.dropped())
                .build();
    }
}
