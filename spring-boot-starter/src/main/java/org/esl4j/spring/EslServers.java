package org.esl4j.spring;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.esl4j.EslClient;
import org.esl4j.EslException;

/**
 * The inbound connections of the application, one per configured FreeSWITCH server, connected
 * when the bean is made and closed with the application context.
 */
public final class EslServers implements AutoCloseable {
    private final Map<String, EslServer> servers;

    private EslServers(Map<String, EslServer> servers) {
        this.servers = Collections.unmodifiableMap(servers);
    }

    /**
     * Connects to every server; when one fails, closes those already connected and reports which
     * server failed and why.
     */
    static EslServers connect(List<ServerConfig> configs) {
        Map<String, EslServer> connected = new LinkedHashMap<>();
        for (ServerConfig config : configs) {
            try {
                connected.put(config.name(), new EslServer(config, config.connectInBackground()
                        ? EslClient.connectInBackground(config.options()) : EslClient.connect(config.options())));
            } catch (EslException failure) {
                connected.values().forEach(server -> server.client().close());
                String address = config.options().host() + ":" + config.options().port();
                throw new EslStartupException("Cannot connect to FreeSWITCH server '" + config.name() + "' at " + address
                        + ": " + failure.getMessage(),
                        "Check that FreeSWITCH's event socket listens there and that " + config.propertyPrefix()
                                + ".host, .port, .user and .password match event_socket.conf.xml.", failure);
            }
        }
        return new EslServers(connected);
    }

    /**
     * The server with this name.
     *
     * @param name the name under {@code esl4j.inbound.servers}, or {@code default}
     * @return the server
     * @throws NoSuchElementException when no such server is configured
     */
    public EslServer server(String name) {
        EslServer server = servers.get(name);
        if (server == null) {
            throw new NoSuchElementException("no esl4j inbound server named '" + name + "'; configured: " + servers.keySet());
        }
        return server;
    }

    /**
     * The client of the server with this name.
     *
     * @param name the server's name
     * @return its client
     * @throws NoSuchElementException when no such server is configured
     */
    public EslClient client(String name) {
        return server(name).client();
    }

    /**
     * Every server, in configuration order.
     *
     * @return the servers
     */
    public Collection<EslServer> all() {
        return servers.values();
    }

    /**
     * The servers' names, in configuration order.
     *
     * @return the names
     */
    public List<String> names() {
        return new ArrayList<>(servers.keySet());
    }

    /** Closes every connection. */
    @Override
    public void close() {
        servers.values().forEach(server -> server.client().close());
    }
}
