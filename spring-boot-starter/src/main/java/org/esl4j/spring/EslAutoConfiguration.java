package org.esl4j.spring;

import org.esl4j.EslClient;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * esl4j's auto-configuration: inbound connections from {@code esl4j.inbound.*} (an {@link
 * EslServers} bean, plus an {@link EslClient} bean when a single server is configured) and {@link
 * EslListener} methods.
 */
@AutoConfiguration
@EnableConfigurationProperties(EslProperties.class)
public class EslAutoConfiguration {
    /** Made by Spring. */
    public EslAutoConfiguration() {}

    /**
     * Registers {@link EslListener} methods; static, as a bean post-processor must be.
     *
     * @return the registrar
     */
    @Bean
    static EslListenerRegistrar eslListenerRegistrar() {
        return new EslListenerRegistrar();
    }

    /** The inbound connections, unless {@code esl4j.inbound.enabled=false}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(prefix = "esl4j.inbound", name = "enabled", havingValue = "true", matchIfMissing = true)
    static class Inbound {
        /**
         * Checks the settings and connects to every server; a failure stops the start-up with
         * the reason.
         *
         * @param properties the settings
         * @return the connected servers
         */
        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        EslServers eslServers(EslProperties properties) {
            return EslServers.connect(EslPropertiesValidator.inboundServers(properties.getInbound()));
        }

        /**
         * The client of the single server; closed with {@link EslServers}.
         *
         * @param servers the servers
         * @return the client
         */
        @Bean(destroyMethod = "")
        @ConditionalOnMissingBean
        @Conditional(SingleServer.class)
        EslClient eslClient(EslServers servers) {
            return servers.all().iterator().next().client();
        }
    }

    /** Matches unless named servers are configured under {@code esl4j.inbound.servers}. */
    static final class SingleServer extends SpringBootCondition {
        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            boolean named = Binder.get(context.getEnvironment())
                    .bind("esl4j.inbound.servers", Bindable.mapOf(String.class, EslProperties.Server.class))
                    .map(servers -> !servers.isEmpty())
                    .orElse(false);
            return named ? ConditionOutcome.noMatch("named servers in esl4j.inbound.servers: inject EslServers")
                    : ConditionOutcome.match("a single esl4j inbound server");
        }
    }
}
