package org.esl4j.spring;

import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/**
 * Health of one inbound connection for Spring Boot 3's Actuator; see {@link EslHealthIndicator}.
 */
public final class EslActuatorHealthIndicator implements HealthIndicator {
    private final EslServer server;

    /**
     * Reports on one server.
     *
     * @param server the server
     */
    public EslActuatorHealthIndicator(EslServer server) {
        this.server = server;
    }

    @Override
    public Health health() {
        Health.Builder health = server.state() == ConnectionState.CONNECTED ? Health.up() : Health.down();
        return health.withDetails(server.healthDetails()).build();
    }
}
