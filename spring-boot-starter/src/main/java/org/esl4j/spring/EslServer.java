package org.esl4j.spring;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.esl4j.ConnectionEvent;
import org.esl4j.DeliveryStats;
import org.esl4j.EslClient;

/**
 * One connected FreeSWITCH server: its name, its client and the state of its connection (kept
 * from the client's connection events, since the client itself only says connected or not).
 */
public final class EslServer {
    private final ServerConfig config;
    private final EslClient client;
    /** Replaced as a whole, so that readers see a state with its own reason and time. */
    private final AtomicReference<Status> status;

    private record Status(ConnectionState state, String reason, Instant since) {}

    EslServer(ServerConfig config, EslClient client) {
        this.config = config;
        this.client = client;
        Status connecting = new Status(ConnectionState.CONNECTING,
                "connecting in the background to " + address() + "; not connected yet", Instant.now());
        this.status = new AtomicReference<>(config.connectInBackground() ? connecting
                : new Status(ConnectionState.CONNECTED, "connected", Instant.now()));
        client.onConnectionEvent(this::onConnectionEvent);
        // CONNECTED may have been told before the listener above was registered.
        if (client.isConnected()) {
            status.compareAndSet(connecting, new Status(ConnectionState.CONNECTED, "connected to " + address(), Instant.now()));
        }
    }

    private void onConnectionEvent(ConnectionEvent event) {
        ConnectionState next = switch (event.type()) {
            case DISCONNECTED -> client.options().reconnect().enabled() ? ConnectionState.RECONNECTING : ConnectionState.DOWN;
            case CONNECTED, RECONNECTED -> ConnectionState.CONNECTED;
            case CLOSED -> ConnectionState.DOWN;
            // The loss that follows (DISCONNECTED) changes the state; this records why.
            case OVERLOADED -> state();
        };
        status.set(new Status(next, event.reason(), Instant.now()));
    }

    /**
     * The server's name: its key under {@code esl4j.inbound.servers}, or {@code default}.
     *
     * @return the name
     */
    public String name() {
        return config.name();
    }

    /**
     * The client connected to this server.
     *
     * @return the client
     */
    public EslClient client() {
        return client;
    }

    /**
     * Relays the client's command timings (see {@link EslMetrics}).
     *
     * @return the relay
     */
    CommandTimings commandTimings() {
        return config.commandTimings();
    }

    /**
     * The connection's state.
     *
     * @return the state
     */
    public ConnectionState state() {
        return status.get().state();
    }

    /**
     * Why the state last changed, e.g. {@code connection lost}.
     *
     * @return the reason
     */
    public String lastChange() {
        return status.get().reason();
    }

    /**
     * When the state last changed.
     *
     * @return the time
     */
    public Instant since() {
        return status.get().since();
    }

    /**
     * What the health endpoint shows about this server.
     *
     * @return state, address, time and reason of the last change, queue depth, events dropped
     *     (ordinary and call-ending apart), overloads
     */
    public Map<String, Object> healthDetails() {
        Status now = status.get();
        DeliveryStats delivery = client.deliveryStats();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("state", now.state());
        details.put("address", address());
        details.put("since", now.since().toString());
        details.put("lastChange", now.reason());
        details.put("queueDepth", delivery.queueDepth());
        details.put("eventsDropped", delivery.dropped());
        details.put("criticalEventsDropped", delivery.criticalDropped());
        details.put("overloads", delivery.overloads());
        return details;
    }

    /**
     * {@code host:port} of the server.
     *
     * @return the address
     */
    public String address() {
        return client.options().host() + ":" + client.options().port();
    }

    List<String> subscriptions() {
        return config.subscriptions();
    }

    List<ServerConfig.Filter> filters() {
        return config.filters();
    }

    @Override
    public String toString() {
        return "EslServer{" + name() + ", " + address() + ", " + state() + "}";
    }
}
