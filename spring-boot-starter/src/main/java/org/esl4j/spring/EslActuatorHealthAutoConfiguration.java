package org.esl4j.spring;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.context.annotation.Bean;

/**
 * Health of the inbound connections on Spring Boot 3's Actuator, where the health API lives in
 * {@code org.springframework.boot.actuate.health}; Spring Boot 4 uses {@link
 * EslHealthAutoConfiguration} instead.
 */
@AutoConfiguration(after = EslAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnMissingClass("org.springframework.boot.health.contributor.HealthIndicator")
@ConditionalOnBean(EslServers.class)
@ConditionalOnEnabledHealthIndicator("esl4j")
public class EslActuatorHealthAutoConfiguration {
    /** Made by Spring. */
    public EslActuatorHealthAutoConfiguration() {}

    /**
     * One indicator per server, under the name {@code esl4j}.
     *
     * @param servers the servers
     * @return the contributor
     */
    @Bean
    @ConditionalOnMissingBean(name = "esl4jHealthContributor")
    public CompositeHealthContributor esl4jHealthContributor(EslServers servers) {
        Map<String, HealthIndicator> indicators = new LinkedHashMap<>();
        for (EslServer server : servers.all()) {
            indicators.put(server.name(), new EslActuatorHealthIndicator(server));
        }
        return CompositeHealthContributor.fromMap(indicators);
    }
}
