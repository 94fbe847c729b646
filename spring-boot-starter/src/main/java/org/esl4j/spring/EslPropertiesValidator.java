package org.esl4j.spring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.esl4j.ClientOptions;
import org.esl4j.DeliveryOptions;
import org.esl4j.ReconnectPolicy;

/**
 * Checks the {@code esl4j.*} settings and resolves the inbound servers. Every problem is reported
 * at once, each with its property name, so one failed start-up shows everything to fix.
 */
final class EslPropertiesValidator {
    private static final String INBOUND = "esl4j.inbound";
    private static final String OUTBOUND = "esl4j.outbound";
    private static final String DEFAULT_SERVER = "default";

    private final List<String> problems = new ArrayList<>();

    private EslPropertiesValidator() {}

    /**
     * Resolves the inbound servers: the named ones, or the single unnamed one.
     *
     * @param inbound the settings
     * @return the servers, in configuration order
     * @throws EslStartupException naming every bad setting
     */
    static List<ServerConfig> inboundServers(EslProperties.Inbound inbound) {
        EslPropertiesValidator validator = new EslPropertiesValidator();
        List<ServerConfig> servers = validator.resolve(inbound);
        validator.throwIfAny();
        return servers;
    }

    /**
     * Checks the outbound server settings.
     *
     * @param outbound the settings
     * @throws EslStartupException naming every bad setting
     */
    static void checkOutbound(EslProperties.Outbound outbound) {
        EslPropertiesValidator validator = new EslPropertiesValidator();
        validator.checkHost(OUTBOUND + ".bind-address", outbound.getBindAddress());
        if (outbound.getPort() < 0 || outbound.getPort() > 65535) {
            validator.problem(OUTBOUND + ".port", "must be 0 (any free port) to 65535", outbound.getPort());
        }
        validator.checkAtLeastOne(OUTBOUND + ".max-sessions", outbound.getMaxSessions());
        validator.checkAtLeastOne(OUTBOUND + ".max-handshakes", outbound.getMaxHandshakes());
        validator.checkAtLeastOne(OUTBOUND + ".listen-backlog", outbound.getListenBacklog());
        validator.checkPositive(OUTBOUND + ".handshake-timeout", outbound.getHandshakeTimeout());
        validator.checkPositive(OUTBOUND + ".command-timeout", outbound.getCommandTimeout());
        validator.checkNotNegative(OUTBOUND + ".drain-timeout", outbound.getDrainTimeout());
        validator.throwIfAny();
    }

    private List<ServerConfig> resolve(EslProperties.Inbound inbound) {
        checkPositive(INBOUND + ".connect-timeout", inbound.getConnectTimeout());
        checkPositive(INBOUND + ".command-timeout", inbound.getCommandTimeout());
        if (inbound.getEventFormat() == null) {
            problem(INBOUND + ".event-format", "must be PLAIN, JSON or XML", null);
        }
        DeliveryOptions delivery = delivery(inbound.getQueue());
        ReconnectPolicy reconnect = reconnect(inbound.getReconnect());
        if (inbound.isConnectInBackground() && !inbound.getReconnect().isEnabled()) {
            problem(INBOUND + ".connect-in-background", "needs " + INBOUND + ".reconnect.enabled=true: the background"
                    + " attempts follow the reconnect settings", true);
        }
        Map<String, EslProperties.Server> named = new LinkedHashMap<>();
        if (inbound.getServers().isEmpty()) {
            named.put(DEFAULT_SERVER, inbound);
        } else {
            named.putAll(inbound.getServers());
        }
        List<ServerConfig> servers = new ArrayList<>();
        for (Map.Entry<String, EslProperties.Server> entry : named.entrySet()) {
            boolean single = entry.getValue() == inbound;
            String prefix = single ? INBOUND : INBOUND + ".servers." + entry.getKey();
            if (!single) {
                checkWord(prefix, entry.getKey(), "server name");
            }
            ServerConfig server = server(entry.getKey(), prefix, entry.getValue(), inbound, delivery, reconnect);
            if (server != null) {
                servers.add(server);
            }
        }
        return servers;
    }

    /** One server: its own settings, else the shared ones; null when a setting is bad. */
    private ServerConfig server(String name, String prefix, EslProperties.Server own, EslProperties.Inbound shared,
            DeliveryOptions delivery, ReconnectPolicy reconnect) {
        int before = problems.size();
        String host = inherit(own.getHost(), shared.getHost());
        Integer port = inherit(own.getPort(), shared.getPort());
        String user = inherit(own.getUser(), shared.getUser());
        String password = inherit(own.getPassword(), shared.getPassword());
        List<String> subscriptions = inherit(own.getSubscriptions(), shared.getSubscriptions());
        List<String> filterTexts = inherit(own.getFilters(), shared.getFilters());
        checkHost(prefix + ".host", host);
        if (port == null || port < 1 || port > 65535) {
            problem(prefix + ".port", "must be 1 to 65535", port);
        }
        if (user != null && (user.indexOf('@') < 1 || user.endsWith("@") || !isWord(user))) {
            problem(prefix + ".user", "must be user@domain without blanks", user);
        }
        if (password == null || password.isEmpty() || hasControl(password)) {
            problem(prefix + ".password", "must be set, on one line", password == null ? null : "(hidden)");
        }
        List<String> events = new ArrayList<>();
        for (String subscription : subscriptions == null ? Collections.<String>emptyList() : subscriptions) {
            if (subscription == null || subscription.isBlank() || hasControl(subscription)) {
                problem(prefix + ".subscriptions", "each entry must be event names on one line", subscription);
                continue;
            }
            for (String word : subscription.trim().split(" +")) {
                if (checkWord(prefix + ".subscriptions", word, "event name")) {
                    events.add(word);
                }
            }
        }
        List<ServerConfig.Filter> filters = new ArrayList<>();
        for (String text : filterTexts == null ? Collections.<String>emptyList() : filterTexts) {
            ServerConfig.Filter filter = filter(prefix + ".filters", text);
            if (filter != null) {
                filters.add(filter);
            }
        }
        if (problems.size() > before || delivery == null || reconnect == null || shared.getEventFormat() == null
                || !isPositive(shared.getConnectTimeout()) || !isPositive(shared.getCommandTimeout())) {
            return null;
        }
        CommandTimings commandTimings = new CommandTimings();
        ClientOptions.Builder options = ClientOptions.builder()
                .host(host)
                .port(port)
                .password(password)
                .user(user)
                .connectTimeout(shared.getConnectTimeout())
                .commandTimeout(shared.getCommandTimeout())
                .eventFormat(shared.getEventFormat())
                .reconnect(reconnect)
                .delivery(delivery)
                .commandObserver(commandTimings)
                .serverName(name);
        return new ServerConfig(name, prefix, options.build(), List.copyOf(events), List.copyOf(filters), commandTimings,
                shared.isConnectInBackground());
    }

    private ServerConfig.Filter filter(String property, String text) {
        String trimmed = text == null ? "" : text.trim();
        int blank = trimmed.indexOf(' ');
        if (blank < 1 || hasControl(trimmed)) {
            problem(property, "each filter must be \"Header value\" on one line", text);
            return null;
        }
        return new ServerConfig.Filter(trimmed.substring(0, blank), trimmed.substring(blank + 1).trim());
    }

    private DeliveryOptions delivery(EslProperties.Queue queue) {
        int before = problems.size();
        checkAtLeastOne(INBOUND + ".queue.size", queue.getSize());
        checkAtLeastOne(INBOUND + ".queue.threads", queue.getThreads());
        if (queue.getOverflowPolicy() == null) {
            problem(INBOUND + ".queue.overflow-policy", "must be DROP_NEWEST or BLOCK", null);
        }
        checkPositive(INBOUND + ".queue.block-timeout", queue.getBlockTimeout());
        if (problems.size() > before) {
            return null;
        }
        return DeliveryOptions.builder()
                .maxQueuedEvents(queue.getSize())
                .threads(queue.getThreads())
                .overflowPolicy(queue.getOverflowPolicy())
                .blockTimeout(queue.getBlockTimeout())
                .build();
    }

    private ReconnectPolicy reconnect(EslProperties.Reconnect reconnect) {
        if (!reconnect.isEnabled()) {
            return ReconnectPolicy.none();
        }
        int before = problems.size();
        checkNotNegative(INBOUND + ".reconnect.initial-delay", reconnect.getInitialDelay());
        checkNotNegative(INBOUND + ".reconnect.max-delay", reconnect.getMaxDelay());
        if (reconnect.getMaxAttempts() < 0) {
            problem(INBOUND + ".reconnect.max-attempts", "must be 0 (no limit) or more", reconnect.getMaxAttempts());
        }
        if (problems.size() > before) {
            return null;
        }
        if (reconnect.getMaxDelay().compareTo(reconnect.getInitialDelay()) < 0) {
            problem(INBOUND + ".reconnect.max-delay", "must not be shorter than initial-delay (" + reconnect.getInitialDelay() + ")",
                    reconnect.getMaxDelay());
            return null;
        }
        return ReconnectPolicy.backoff(reconnect.getInitialDelay(), reconnect.getMaxDelay(), reconnect.getMaxAttempts());
    }

    private static <T> T inherit(T own, T shared) {
        return own != null ? own : shared;
    }

    private void checkHost(String property, String host) {
        if (host == null || host.isEmpty() || !isWord(host)) {
            problem(property, "must be a host name or address", host);
        }
    }

    private boolean checkWord(String property, String word, String what) {
        if (word == null || word.isEmpty() || !isWord(word)) {
            problem(property, what + " must not be empty or contain blanks or control characters", word);
            return false;
        }
        return true;
    }

    private void checkAtLeastOne(String property, int value) {
        if (value < 1) {
            problem(property, "must be at least 1", value);
        }
    }

    private void checkPositive(String property, Duration value) {
        if (!isPositive(value)) {
            problem(property, "must be a positive duration", value);
        }
    }

    private void checkNotNegative(String property, Duration value) {
        if (value == null || value.isNegative()) {
            problem(property, "must be zero or a positive duration", value);
        }
    }

    private static boolean isPositive(Duration value) {
        return value != null && !value.isNegative() && !value.isZero();
    }

    /** No blank or control character: such a value would break (or inject) a protocol line. */
    private static boolean isWord(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) <= ' ' || text.charAt(i) == 0x7f) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasControl(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < ' ' || text.charAt(i) == 0x7f) {
                return true;
            }
        }
        return false;
    }

    private void problem(String property, String rule, Object value) {
        problems.add(property + " " + rule + (value == null ? " (not set)" : " (was " + value + ")"));
    }

    private void throwIfAny() {
        if (!problems.isEmpty()) {
            throw new EslStartupException("Invalid esl4j settings:\n  - " + String.join("\n  - ", problems),
                    "Correct the esl4j.* properties listed above.", null);
        }
    }
}
