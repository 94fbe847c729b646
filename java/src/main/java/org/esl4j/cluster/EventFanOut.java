package org.esl4j.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import org.esl4j.EslClient;
import org.esl4j.EventListener;
import org.esl4j.Subscription;
import org.esl4j.internal.Words;

/**
 * The application's event subscriptions and listeners, on every node: each listener is attached to
 * every node's current client and replayed onto the client of a node that connects later, and
 * each event reaches it tagged with its node ({@link ClusterEvent}), sharded by {@link
 * ClusterOptions#ownsEvent}.
 */
final class EventFanOut {
    private final ClusterOptions options;
    private final List<Node> nodes;
    /**
     * Guards {@link #registrations}, {@link #subscribed} and the install of a node's client, so a
     * listener or subscription added at any time reaches every client exactly once. Taken before a
     * node's monitor, never after.
     */
    private final Object lock = new Object();
    private final List<Registration> registrations = new ArrayList<>();
    private final Set<String> subscribed = new LinkedHashSet<>();

    EventFanOut(ClusterOptions options, List<Node> nodes) {
        this.options = options;
        this.nodes = nodes;
    }

    /** Subscribes every node that is up now, and remembers the names for later clients. */
    CompletableFuture<Void> subscribe(String... eventNames) {
        List<String> names = new ArrayList<>();
        for (String name : eventNames) {
            names.add(Words.requireWord(name, "event name"));
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("no event names");
        }
        List<EslClient> targets = new ArrayList<>();
        synchronized (lock) {
            subscribed.addAll(names);
            for (Node node : nodes) {
                EslClient client = node.usableClient();
                if (client != null) {
                    targets.add(client);
                }
            }
        }
        List<CompletableFuture<Void>> accepted = new ArrayList<>();
        for (EslClient client : targets) {
            accepted.add(client.subscribe(names.toArray(new String[0])));
        }
        return CompletableFuture.allOf(accepted.toArray(new CompletableFuture<?>[0]));
    }

    /** The event names the application subscribed to so far. */
    List<String> subscribedNames() {
        synchronized (lock) {
            return new ArrayList<>(subscribed);
        }
    }

    Subscription onEvent(String eventName, ClusterEventListener listener) {
        return register((node, client) -> client.onEvent(eventName, tagged(node, listener, true)));
    }

    Subscription onAnyEvent(ClusterEventListener listener) {
        return register((node, client) -> client.onAnyEvent(tagged(node, listener, true)));
    }

    /** Not sharded: the application asked for this call. */
    Subscription onChannel(String callUuid, ClusterEventListener listener) {
        return register((node, client) -> client.onChannel(callUuid, tagged(node, listener, false)));
    }

    /**
     * Brings a freshly connected client up to date: subscribes it to the names added since {@code
     * alreadySubscribed} was read, attaches every listener, then runs {@code goLive} while still
     * holding the lock, so nothing registered in between misses the client.
     *
     * @return what {@code goLive} returned
     */
    boolean attachNewClient(Node node, EslClient client, Collection<String> alreadySubscribed, BooleanSupplier goLive) {
        synchronized (lock) {
            List<String> late = new ArrayList<>(subscribed);
            late.removeAll(alreadySubscribed);
            if (!late.isEmpty()) {
                // Added while the first subscribe was on the wire; the client replays it once accepted.
                client.subscribe(late.toArray(new String[0]));
            }
            for (Registration registration : registrations) {
                registration.attach(node, client);
            }
            return goLive.getAsBoolean();
        }
    }

    private EventListener tagged(String node, ClusterEventListener listener, boolean sharded) {
        return event -> {
            if (!sharded || options.ownsEvent(event)) {
                listener.onEvent(new ClusterEvent(node, event));
            }
        };
    }

    private Subscription register(BiFunction<String, EslClient, Subscription> attachTo) {
        Registration registration = new Registration(attachTo);
        synchronized (lock) {
            registrations.add(registration);
            for (Node node : nodes) {
                EslClient client = node.client;
                if (client != null) {
                    registration.attach(node, client);
                }
            }
        }
        return registration;
    }

    /** An application listener, attached to every node's current client. */
    private final class Registration implements Subscription {
        private final BiFunction<String, EslClient, Subscription> attachTo;
        /** By node name; guarded by the fan-out's lock. */
        private final Map<String, Subscription> attached = new HashMap<>();

        Registration(BiFunction<String, EslClient, Subscription> attachTo) {
            this.attachTo = attachTo;
        }

        void attach(Node node, EslClient client) {
            Subscription previous = attached.put(node.name, attachTo.apply(node.name, client));
            if (previous != null) {
                previous.close();
            }
        }

        @Override
        public void close() {
            synchronized (lock) {
                registrations.remove(this);
                for (Subscription subscription : attached.values()) {
                    subscription.close();
                }
                attached.clear();
            }
        }
    }
}
