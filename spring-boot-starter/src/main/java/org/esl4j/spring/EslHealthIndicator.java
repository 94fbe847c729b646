package org.esl4j.spring;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Health of one inbound connection (Spring Boot 4): UP when connected; DOWN while reconnecting or
 * when lost for good, with {@code state} telling which.
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
        Health.Builder health = server.state() == ConnectionState.CONNECTED ? Health.up() : Health.down();
        return health.withDetails(server.healthDetails()).build();
    }
}
