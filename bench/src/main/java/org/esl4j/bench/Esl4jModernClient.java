package org.esl4j.bench;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.esl4j.ClientOptions;
import org.esl4j.DeliveryOptions;
import org.esl4j.EslClient;
import org.esl4j.OverflowPolicy;

/**
 * esl4j's modern API: {@link EslClient} with one listener for every event, either a regular
 * {@link org.esl4j.EventListener} ({@code esl4j-modern}) or an {@link org.esl4j.EventViewListener}
 * reading each event in place on the client's reading thread ({@code esl4j-view}).
 */
final class Esl4jModernClient implements FloodClient {
    private static final Duration API_TIMEOUT = Duration.ofSeconds(30);

    private final EslClient client;

    Esl4jModernClient(int port, EventCounter counter, boolean views) throws Exception {
        // BLOCK: a benchmark must count every event, not measure how fast they can be dropped.
        client = EslClient.connect(ClientOptions.builder()
                .host("127.0.0.1")
                .port(port)
                .password("ClueCon")
                .delivery(DeliveryOptions.builder().overflowPolicy(OverflowPolicy.BLOCK).build())
                .build());
        if (views) {
            client.onEventView(view -> counter.accept(view.eventName(), view.uniqueId()));
        } else {
            client.onAnyEvent(event -> counter.accept(event.eventName(), event.uniqueId()));
        }
        client.subscribe("ALL").get(API_TIMEOUT.getSeconds(), TimeUnit.SECONDS);
    }

    @Override
    public void api(String command) {
        client.api(command, API_TIMEOUT);
    }

    @Override
    public void close() {
        client.close();
    }
}
