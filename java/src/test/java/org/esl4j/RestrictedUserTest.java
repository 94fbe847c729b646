package org.esl4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.esl4j.testing.EslSimulator;
import org.junit.Test;

/** A {@code userauth} user whose {@code esl-allowed-events} leaves BACKGROUND_JOB out. */
public class RestrictedUserTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    public void connectsWithoutBackgroundJobAndBgapiReportsTheRefusalAtOnce() throws Exception {
        try (EslSimulator sim = EslSimulator.start()) {
            sim.addEslUser("1000", "example.com", "secret", "CHANNEL_ANSWER", null, false);
            try (EslClient client = EslClient.connect(
                    sim.clientOptions().user("1000@example.com").password("secret").build())) {
                assertTrue(client.api("status", WAIT).startsWith("UP "));
                try {
                    // No job deadline: only the refusal can end the future within WAIT.
                    client.bgapi("status").get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    fail("bgapi needs BACKGROUND_JOB, which this user may not subscribe to");
                } catch (ExecutionException failed) {
                    EslException refused = (EslException) failed.getCause();
                    assertEquals(refused.toString(), EslException.Kind.COMMAND_FAILED, refused.kind());
                    assertTrue(refused.toString(), refused.getMessage().contains("-ERR permission denied"));
                }
            }
        }
    }
}
