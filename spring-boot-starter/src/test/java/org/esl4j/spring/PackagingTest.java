package org.esl4j.spring;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.Test;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.context.annotation.ImportCandidates;
import org.springframework.boot.diagnostics.FailureAnalyzer;

/** What the jar must carry for Spring Boot and the IDEs to find the starter. */
public class PackagingTest {
    private static final Pattern PROPERTY = Pattern.compile("\"name\"\\s*:\\s*\"(esl4j\\.[^\"]+)\"");

    @Test
    public void autoConfigurationsAreListedForSpringBoot() {
        List<String> listed = ImportCandidates.load(AutoConfiguration.class, getClass().getClassLoader()).getCandidates()
                .stream()
                .filter(name -> name.startsWith("org.esl4j."))
                .toList();
        assertEquals(List.of(EslAutoConfiguration.class.getName(), EslOutboundAutoConfiguration.class.getName(),
                // By name: the class refers to Spring Boot 3's Actuator, absent here.
                EslHealthAutoConfiguration.class.getName(), "org.esl4j.spring.EslActuatorHealthAutoConfiguration",
                EslMetricsAutoConfiguration.class.getName()), listed);
    }

    @Test
    public void failureAnalyzerIsRegistered() throws IOException {
        String factories = resource("META-INF/spring.factories");
        assertTrue(factories, Pattern.compile(Pattern.quote(FailureAnalyzer.class.getName()) + "=\\\\\\s*"
                + Pattern.quote(EslFailureAnalyzer.class.getName())).matcher(factories).find());
    }

    @Test
    public void metadataDescribesEveryPropertyWithTheHandWrittenDefaults() throws IOException {
        String metadata = resource("META-INF/spring-configuration-metadata.json");
        Set<String> names = new TreeSet<>();
        Matcher matcher = PROPERTY.matcher(metadata);
        while (matcher.find()) {
            names.add(matcher.group(1));
        }
        for (String expected : new String[] {"esl4j.inbound.host", "esl4j.inbound.port", "esl4j.inbound.user",
                "esl4j.inbound.password", "esl4j.inbound.connect-timeout", "esl4j.inbound.command-timeout",
                "esl4j.inbound.event-format", "esl4j.inbound.subscriptions", "esl4j.inbound.filters",
                "esl4j.inbound.servers", "esl4j.inbound.reconnect.max-attempts", "esl4j.inbound.queue.size",
                "esl4j.inbound.queue.overflow-policy", "esl4j.outbound.bind-address", "esl4j.outbound.port",
                "esl4j.outbound.max-sessions", "esl4j.outbound.max-handshakes", "esl4j.outbound.handshake-timeout",
                "esl4j.outbound.listen-backlog", "esl4j.outbound.drain-timeout"}) {
            assertTrue(expected + " missing from " + names, names.contains(expected));
        }
        // The processor merged the hand-written file: the inherited defaults and the hints are there.
        assertTrue(metadata, Pattern.compile("\"esl4j.inbound.host\"[^}]*\"defaultValue\"\\s*:\\s*\"127.0.0.1\"").matcher(metadata).find());
        assertTrue(metadata, metadata.contains("CUSTOM sofia::register"));
    }

    /** Every copy of a resource on the class path, one after the other. */
    private String resource(String name) throws IOException {
        StringBuilder text = new StringBuilder();
        for (URL url : Collections.list(getClass().getClassLoader().getResources(name))) {
            try (InputStream in = url.openStream()) {
                text.append(new String(in.readAllBytes(), StandardCharsets.UTF_8)).append('\n');
            }
        }
        assertTrue(name + " not on the class path", text.length() > 0);
        return text.toString();
    }
}
