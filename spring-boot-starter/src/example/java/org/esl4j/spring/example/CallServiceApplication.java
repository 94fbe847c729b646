package org.esl4j.spring.example;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;

/**
 * A small call service on the esl4j starter: FreeSWITCH hands incoming calls to {@link
 * BridgeCallHandler} (outbound mode) and the inbound connection reports hang-ups to {@link
 * HangupLogger}. Settings are in {@code application.properties}.
 */
@SpringBootApplication
@EnableConfigurationProperties(CallServiceProperties.class)
public class CallServiceApplication {
    /** Made by Spring. */
    public CallServiceApplication() {}

    /**
     * Runs the service.
     *
     * @param args Spring Boot arguments, e.g. {@code --esl4j.inbound.host=10.0.0.5}
     */
    public static void main(String[] args) {
        SpringApplication.run(CallServiceApplication.class, args);
    }
}
