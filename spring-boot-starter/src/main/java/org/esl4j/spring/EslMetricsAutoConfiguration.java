package org.esl4j.spring;

import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Micrometer meters of the inbound connections, when Micrometer is on the class path; Spring
 * Boot binds the {@link MeterBinder} to its registries.
 */
@AutoConfiguration(after = EslAutoConfiguration.class)
@ConditionalOnClass(MeterBinder.class)
@ConditionalOnBean(EslServers.class)
public class EslMetricsAutoConfiguration {
    /** Made by Spring. */
    public EslMetricsAutoConfiguration() {}

    /**
     * The meters.
     *
     * @param servers the servers
     * @return the binder
     */
    @Bean
    @ConditionalOnMissingBean
    public EslMetrics eslMetrics(EslServers servers) {
        return new EslMetrics(servers);
    }
}
