package org.esl4j.spring.example;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The example's own settings.
 *
 * @param bridgeTo where calls are bridged, e.g. {@code user/2000}
 * @param noAnswerTimeout how long the destination may ring
 */
@ConfigurationProperties("example")
public record CallServiceProperties(@DefaultValue("user/2000") String bridgeTo,
        @DefaultValue("20s") Duration noAnswerTimeout) {}
