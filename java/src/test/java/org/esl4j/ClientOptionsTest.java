package org.esl4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;

import java.time.Duration;
import java.util.concurrent.Executor;
import org.junit.Test;

/** {@link ClientOptions#toBuilder()}: every setting carried over, the original untouched. */
public class ClientOptionsTest {
    @Test
    public void toBuilderCarriesEverySettingAndLeavesTheOriginalAlone() {
        Executor executor = Runnable::run;
        CommandObserver observer = (command, duration, outcome) -> { };
        DeliveryOptions delivery = DeliveryOptions.builder().threads(3).build();
        ReconnectPolicy reconnect = ReconnectPolicy.backoff(Duration.ofMillis(10), Duration.ofSeconds(1), 7);
        ClientOptions original = ClientOptions.builder()
                .host("10.0.0.5").port(8022).commandTimeout(Duration.ofSeconds(9))
                .eventFormat(EventFormat.JSON).delivery(delivery).watchdogMargin(Duration.ofSeconds(2))
                .completionExecutor(executor).commandObserver(observer).spill(1234, 56789)
                .password("secret").user("ops@example.com").connectTimeout(Duration.ofSeconds(4))
                .reconnect(reconnect).build();

        ClientOptions copy = original.toBuilder().serverName("fs1").build();

        assertEquals("10.0.0.5", copy.host());
        assertEquals(8022, copy.port());
        assertEquals(Duration.ofSeconds(9), copy.commandTimeout());
        assertEquals(EventFormat.JSON, copy.eventFormat());
        assertSame(delivery, copy.delivery());
        assertEquals(Duration.ofSeconds(2), copy.watchdogMargin());
        assertSame(executor, copy.completionExecutor());
        assertSame(observer, copy.commandObserver());
        assertEquals(1234, copy.spillMaxEvents());
        assertEquals(56789, copy.spillMaxBytes());
        assertEquals("secret", copy.password());
        assertEquals("ops@example.com", copy.user());
        assertEquals(Duration.ofSeconds(4), copy.connectTimeout());
        assertSame(reconnect, copy.reconnect());
        assertEquals("fs1", copy.serverName());
        assertNull("the original keeps no server name", original.serverName());
    }
}
