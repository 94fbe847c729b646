package org.esl4j.spring.test;

import org.esl4j.testing.EslSimulator;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * Points the esl4j starter of a Spring Boot test at an {@link EslSimulator} (from the esl4j-test
 * artifact) instead of FreeSWITCH:
 *
 * <pre>{@code
 * @SpringBootTest
 * class CallServiceTest {
 *     static final EslSimulator SIMULATOR = EslSimulator.builder().virtualClock().start();
 *
 *     @DynamicPropertySource
 *     static void esl4j(DynamicPropertyRegistry registry) {
 *         EslSimulatorProperties.register(registry, SIMULATOR);
 *     }
 *
 *     @Value("${local.esl4j.outbound.port}") int outboundPort;   // the outbound server's port
 * }
 * }</pre>
 *
 * Inbound connections go to the simulator; the outbound server listens on a free port, published
 * as {@code local.esl4j.outbound.port} for {@code simulator.routeToOutbound(extension, port, true)}.
 */
public final class EslSimulatorProperties {
    private EslSimulatorProperties() {
    }

    /**
     * Registers {@code esl4j.inbound.host}, {@code .port} and {@code .password} of the simulator,
     * and {@code esl4j.outbound.port=0}.
     *
     * @param registry the test's dynamic properties
     * @param simulator the running simulator
     */
    public static void register(DynamicPropertyRegistry registry, EslSimulator simulator) {
        registry.add("esl4j.inbound.host", simulator::host);
        registry.add("esl4j.inbound.port", simulator::port);
        registry.add("esl4j.inbound.password", simulator::password);
        registry.add("esl4j.outbound.port", () -> 0);
    }
}
