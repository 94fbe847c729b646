package org.esl4j.spring;

import org.esl4j.ServerOptions;
import org.esl4j.SessionHandler;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * The outbound server, when the application has one {@link SessionHandler} bean to hand calls to
 * and {@code esl4j.outbound.enabled} is not false.
 */
@AutoConfiguration(after = EslAutoConfiguration.class)
@EnableConfigurationProperties(EslProperties.class)
@ConditionalOnSingleCandidate(SessionHandler.class)
@ConditionalOnProperty(prefix = "esl4j.outbound", name = "enabled", havingValue = "true", matchIfMissing = true)
public class EslOutboundAutoConfiguration {
    /** Made by Spring. */
    public EslOutboundAutoConfiguration() {}

    /**
     * Checks the settings; the server starts with the context.
     *
     * @param properties the settings
     * @param handler the application's handler
     * @param environment where the bound port is published ({@value EslOutboundLifecycle#LOCAL_PORT_PROPERTY})
     * @return the lifecycle running the server
     */
    @Bean
    @ConditionalOnMissingBean
    public EslOutboundLifecycle eslOutboundServer(EslProperties properties, SessionHandler handler,
            ConfigurableEnvironment environment) {
        EslProperties.Outbound outbound = properties.getOutbound();
        EslPropertiesValidator.checkOutbound(outbound);
        CommandTimings commandTimings = new CommandTimings();
        ServerOptions options = ServerOptions.builder()
                .host(outbound.getBindAddress())
                .port(outbound.getPort())
                .maxSessions(outbound.getMaxSessions())
                .maxHandshakes(outbound.getMaxHandshakes())
                .handshakeTimeout(outbound.getHandshakeTimeout())
                .listenBacklog(outbound.getListenBacklog())
                .commandTimeout(outbound.getCommandTimeout())
                .commandObserver(commandTimings)
                .build();
        return new EslOutboundLifecycle(options, handler, outbound.getDrainTimeout(), commandTimings, environment);
    }
}
