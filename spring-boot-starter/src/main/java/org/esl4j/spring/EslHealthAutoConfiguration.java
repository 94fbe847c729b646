package org.esl4j.spring;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Health of the inbound connections ({@code /actuator/health/esl4j/<server>}), when Spring Boot's
 * health support is on the class path; off with {@code management.health.esl4j.enabled=false}.
 */
@AutoConfiguration(after = EslAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean(EslServers.class)
@ConditionalOnEnabledHealthIndicator("esl4j")
public class EslHealthAutoConfiguration {
    /** Made by Spring. */
    public EslHealthAutoConfiguration() {}

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
            indicators.put(server.name(), new EslHealthIndicator(server));
        }
        return CompositeHealthContributor.fromMap(indicators);
    }
}
