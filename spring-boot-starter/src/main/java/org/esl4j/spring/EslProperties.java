package org.esl4j.spring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.esl4j.EventFormat;
import org.esl4j.OverflowPolicy;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code esl4j.*} settings: inbound connections to FreeSWITCH ({@code esl4j.inbound.*}) and the
 * outbound server FreeSWITCH connects to ({@code esl4j.outbound.*}). Checked at start-up by {@link
 * EslPropertiesValidator}, which names every bad setting at once.
 */
@ConfigurationProperties("esl4j")
public class EslProperties {
    private final Inbound inbound = new Inbound();
    private final Outbound outbound = new Outbound();

    /**
     * Inbound connections.
     *
     * @return the inbound settings
     */
    public Inbound getInbound() {
        return inbound;
    }

    /**
     * The outbound server.
     *
     * @return the outbound settings
     */
    public Outbound getOutbound() {
        return outbound;
    }

    /**
     * Where one FreeSWITCH listens and what to ask it for. A named server ({@code
     * esl4j.inbound.servers.<name>.*}) takes each setting it leaves out from {@code esl4j.inbound.*}.
     */
    public static class Server {
        /** Host name or address of FreeSWITCH's event socket. */
        private String host;

        /** Port of FreeSWITCH's event socket. */
        private Integer port;

        /** User for {@code userauth}, as {@code user@domain}; leave out for plain {@code auth}. */
        private String user;

        /** Password of the event socket. */
        private String password;

        /** Events to subscribe to, e.g. CHANNEL_HANGUP_COMPLETE or "CUSTOM sofia::register". */
        private List<String> subscriptions;

        /** Server-side filters, each "Header value", e.g. "Event-Name CHANNEL_ANSWER". */
        private List<String> filters;

        /** @return the host, or null to inherit */
        public String getHost() {
            return host;
        }

        /** @param host the host */
        public void setHost(String host) {
            this.host = host;
        }

        /** @return the port, or null to inherit */
        public Integer getPort() {
            return port;
        }

        /** @param port the port */
        public void setPort(Integer port) {
            this.port = port;
        }

        /** @return the {@code userauth} user, or null */
        public String getUser() {
            return user;
        }

        /** @param user {@code user@domain} */
        public void setUser(String user) {
            this.user = user;
        }

        /** @return the password, or null to inherit */
        public String getPassword() {
            return password;
        }

        /** @param password the password */
        public void setPassword(String password) {
            this.password = password;
        }

        /** @return the subscriptions, or null to inherit */
        public List<String> getSubscriptions() {
            return subscriptions;
        }

        /** @param subscriptions event names */
        public void setSubscriptions(List<String> subscriptions) {
            this.subscriptions = subscriptions;
        }

        /** @return the filters, or null to inherit */
        public List<String> getFilters() {
            return filters;
        }

        /** @param filters "Header value" pairs */
        public void setFilters(List<String> filters) {
            this.filters = filters;
        }
    }

    /** Inbound settings: one server, or several named ones sharing these settings. */
    public static class Inbound extends Server {
        /** Whether to connect to FreeSWITCH at all. */
        private boolean enabled = true;

        /** Deadline for connecting and authenticating. */
        private Duration connectTimeout = Duration.ofSeconds(5);

        /** Deadline for a command's reply. */
        private Duration commandTimeout = Duration.ofSeconds(30);

        /** Format FreeSWITCH sends events in. */
        private EventFormat eventFormat = EventFormat.PLAIN;

        /**
         * Whether the application starts without waiting for FreeSWITCH: the clients connect in
         * the background per the reconnect policy (health DOWN, state CONNECTING, until then).
         */
        private boolean connectInBackground;

        /** Named FreeSWITCH servers; when empty, esl4j.inbound.host/port describe the only one. */
        private final Map<String, Server> servers = new LinkedHashMap<>();

        private final Reconnect reconnect = new Reconnect();
        private final Queue queue = new Queue();

        /** The settings of a single unnamed server: localhost, the usual port and password. */
        public Inbound() {
            setHost("127.0.0.1");
            setPort(8021);
            setPassword("ClueCon");
            setSubscriptions(new ArrayList<>());
            setFilters(new ArrayList<>());
        }

        /** @return whether inbound connections are made */
        public boolean isEnabled() {
            return enabled;
        }

        /** @param enabled whether inbound connections are made */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /** @return the connect deadline */
        public Duration getConnectTimeout() {
            return connectTimeout;
        }

        /** @param connectTimeout the connect deadline */
        public void setConnectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
        }

        /** @return the command deadline */
        public Duration getCommandTimeout() {
            return commandTimeout;
        }

        /** @param commandTimeout the command deadline */
        public void setCommandTimeout(Duration commandTimeout) {
            this.commandTimeout = commandTimeout;
        }

        /** @return the event format */
        public EventFormat getEventFormat() {
            return eventFormat;
        }

        /** @param eventFormat the event format */
        public void setEventFormat(EventFormat eventFormat) {
            this.eventFormat = eventFormat;
        }

        /** @return whether the clients connect in the background */
        public boolean isConnectInBackground() {
            return connectInBackground;
        }

        /** @param connectInBackground whether the clients connect in the background */
        public void setConnectInBackground(boolean connectInBackground) {
            this.connectInBackground = connectInBackground;
        }

        /** @return the named servers, by name */
        public Map<String, Server> getServers() {
            return servers;
        }

        /** @return the reconnect settings */
        public Reconnect getReconnect() {
            return reconnect;
        }

        /** @return the event queue settings */
        public Queue getQueue() {
            return queue;
        }
    }

    /** Reconnecting after a lost connection, with exponential back-off. */
    public static class Reconnect {
        /** Whether to reconnect (subscriptions and filters are sent again). */
        private boolean enabled = true;

        /** Delay before the first attempt; doubles per attempt. */
        private Duration initialDelay = Duration.ofMillis(500);

        /** Longest delay between attempts. */
        private Duration maxDelay = Duration.ofSeconds(30);

        /** Attempts before giving up; 0 tries forever. */
        private int maxAttempts;

        /** @return whether to reconnect */
        public boolean isEnabled() {
            return enabled;
        }

        /** @param enabled whether to reconnect */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /** @return the first delay */
        public Duration getInitialDelay() {
            return initialDelay;
        }

        /** @param initialDelay the first delay */
        public void setInitialDelay(Duration initialDelay) {
            this.initialDelay = initialDelay;
        }

        /** @return the longest delay */
        public Duration getMaxDelay() {
            return maxDelay;
        }

        /** @param maxDelay the longest delay */
        public void setMaxDelay(Duration maxDelay) {
            this.maxDelay = maxDelay;
        }

        /** @return the attempts before giving up, 0 for no limit */
        public int getMaxAttempts() {
            return maxAttempts;
        }

        /** @param maxAttempts the attempts before giving up, 0 for no limit */
        public void setMaxAttempts(int maxAttempts) {
            this.maxAttempts = maxAttempts;
        }
    }

    /** The bounded queue between the socket and the listeners. */
    public static class Queue {
        /** Most events waiting for listeners (per connection). */
        private int size = 10_000;

        /** What happens when the queue is full; hang-ups and job results are always kept. */
        private OverflowPolicy overflowPolicy = OverflowPolicy.DROP_NEWEST;

        /** How long the reader waits for room under the BLOCK policy before dropping. */
        private Duration blockTimeout = Duration.ofSeconds(1);

        /** Threads delivering events; one channel's events stay in order on one lane. */
        private int threads = Math.max(2, Runtime.getRuntime().availableProcessors());

        /** @return the queue bound */
        public int getSize() {
            return size;
        }

        /** @param size the queue bound */
        public void setSize(int size) {
            this.size = size;
        }

        /** @return the overflow policy */
        public OverflowPolicy getOverflowPolicy() {
            return overflowPolicy;
        }

        /** @param overflowPolicy the overflow policy */
        public void setOverflowPolicy(OverflowPolicy overflowPolicy) {
            this.overflowPolicy = overflowPolicy;
        }

        /** @return the longest wait for room */
        public Duration getBlockTimeout() {
            return blockTimeout;
        }

        /** @param blockTimeout the longest wait for room */
        public void setBlockTimeout(Duration blockTimeout) {
            this.blockTimeout = blockTimeout;
        }

        /** @return the delivery threads */
        public int getThreads() {
            return threads;
        }

        /** @param threads the delivery threads */
        public void setThreads(int threads) {
            this.threads = threads;
        }
    }

    /** The outbound server: FreeSWITCH's {@code socket} application connects here per call. */
    public static class Outbound {
        /** Whether to run the outbound server (it also needs a SessionHandler bean to hand calls to). */
        private boolean enabled = true;

        /** Address to bind. */
        private String bindAddress = "127.0.0.1";

        /** Port to listen on; 0 picks a free one. */
        private int port = 8084;

        /** Most calls handled at once; more are refused. Calls still in their connect handshake do not count. */
        private int maxSessions = 1000;

        /** Most connections in the connect handshake at once; more wait in the listen backlog. */
        private int maxHandshakes = 1024;

        /** Deadline for FreeSWITCH's reply to connect. */
        private Duration handshakeTimeout = Duration.ofSeconds(5);

        /** Listen backlog: a burst of calls waits there (capped by the kernel's net.core.somaxconn). */
        private int listenBacklog = 4096;

        /** Deadline for a command's reply within a call. */
        private Duration commandTimeout = Duration.ofSeconds(30);

        /** How long shutdown waits for calls in progress before closing them. */
        private Duration drainTimeout = Duration.ofSeconds(30);

        /** @return whether the outbound server runs */
        public boolean isEnabled() {
            return enabled;
        }

        /** @param enabled whether the outbound server runs */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /** @return the bind address */
        public String getBindAddress() {
            return bindAddress;
        }

        /** @param bindAddress the bind address */
        public void setBindAddress(String bindAddress) {
            this.bindAddress = bindAddress;
        }

        /** @return the port, 0 for any free one */
        public int getPort() {
            return port;
        }

        /** @param port the port, 0 for any free one */
        public void setPort(int port) {
            this.port = port;
        }

        /** @return the session cap */
        public int getMaxSessions() {
            return maxSessions;
        }

        /** @param maxSessions the session cap */
        public void setMaxSessions(int maxSessions) {
            this.maxSessions = maxSessions;
        }

        /** @return the most connections in their handshake at once */
        public int getMaxHandshakes() {
            return maxHandshakes;
        }

        /** @param maxHandshakes the most connections in their handshake at once */
        public void setMaxHandshakes(int maxHandshakes) {
            this.maxHandshakes = maxHandshakes;
        }

        /** @return the listen backlog */
        public int getListenBacklog() {
            return listenBacklog;
        }

        /** @param listenBacklog the listen backlog */
        public void setListenBacklog(int listenBacklog) {
            this.listenBacklog = listenBacklog;
        }

        /** @return the handshake deadline */
        public Duration getHandshakeTimeout() {
            return handshakeTimeout;
        }

        /** @param handshakeTimeout the handshake deadline */
        public void setHandshakeTimeout(Duration handshakeTimeout) {
            this.handshakeTimeout = handshakeTimeout;
        }

        /** @return the command deadline */
        public Duration getCommandTimeout() {
            return commandTimeout;
        }

        /** @param commandTimeout the command deadline */
        public void setCommandTimeout(Duration commandTimeout) {
            this.commandTimeout = commandTimeout;
        }

        /** @return the drain deadline */
        public Duration getDrainTimeout() {
            return drainTimeout;
        }

        /** @param drainTimeout the drain deadline */
        public void setDrainTimeout(Duration drainTimeout) {
            this.drainTimeout = drainTimeout;
        }
    }
}
