package org.esl4j.spring;

import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Micrometer meters of the inbound connections and of the outbound server, when Micrometer is on
 * the class path; Spring Boot binds the {@link MeterBinder}s to its registries.
 */
@AutoConfiguration(after = {EslAutoConfiguration.class, EslOutboundAutoConfiguration.class})
@ConditionalOnClass(MeterBinder.class)
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
    @ConditionalOnBean(EslServers.class)
    @ConditionalOnMissingBean
    public EslMetrics eslMetrics(EslServers servers) {
        return new EslMetrics(servers);
    }

    /**
     * The outbound server's meters.
     *
     * @param server the server's lifecycle
     * @return the binder
     */
    @Bean
    @ConditionalOnBean(EslOutboundLifecycle.class)
    @ConditionalOnMissingBean
    public EslOutboundMetrics eslOutboundMetrics(EslOutboundLifecycle server) {
        return new EslOutboundMetrics(server);
    }
}
