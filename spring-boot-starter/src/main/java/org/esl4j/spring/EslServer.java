package org.esl4j.spring;

import java.time.Instant;
import java.util.List;
import org.esl4j.ConnectionEvent;
import org.esl4j.EslClient;

/**
 * One connected FreeSWITCH server: its name, its client and the state of its connection (kept
 * from the client's connection events, since the client itself only says connected or not).
 */
public final class EslServer {
    private final ServerConfig config;
    private final EslClient client;
    private volatile ConnectionState state = ConnectionState.CONNECTED;
    private volatile String lastChange = "connected";
    private volatile Instant since = Instant.now();

    EslServer(ServerConfig config, EslClient client) {
        this.config = config;
        this.client = client;
        client.onConnectionEvent(this::onConnectionEvent);
    }

    private void onConnectionEvent(ConnectionEvent event) {
        ConnectionState next = switch (event.type()) {
            case DISCONNECTED -> client.options().reconnect().enabled() ? ConnectionState.RECONNECTING : ConnectionState.DOWN;
            case RECONNECTED -> ConnectionState.CONNECTED;
            case CLOSED -> ConnectionState.DOWN;
        };
        lastChange = event.reason();
        since = Instant.now();
        state = next;
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
     * The connection's state.
     *
     * @return the state
     */
    public ConnectionState state() {
        return state;
    }

    /**
     * Why the state last changed, e.g. {@code connection lost}.
     *
     * @return the reason
     */
    public String lastChange() {
        return lastChange;
    }

    /**
     * When the state last changed.
     *
     * @return the time
     */
    public Instant since() {
        return since;
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
        return "EslServer{" + name() + ", " + address() + ", " + state + "}";
    }
}
