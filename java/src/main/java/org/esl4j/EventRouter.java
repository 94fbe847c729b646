package org.esl4j;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The listeners of one connection, by event name (or CUSTOM subclass), by channel UUID, by
 * Job-UUID, or for every event. Registration and removal are thread-safe and may happen during
 * delivery.
 */
final class EventRouter {
    private final List<Registration> everything = new CopyOnWriteArrayList<>();
    private final ConcurrentMap<String, List<Registration>> byName = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, List<Registration>> byChannel = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, List<Registration>> byJob = new ConcurrentHashMap<>();

    /** One registration; removal is by identity so the same listener may be added twice. */
    private static final class Registration implements Subscription {
        final EventListener listener;
        private final Runnable remove;

        Registration(EventListener listener, Runnable remove) {
            this.listener = listener;
            this.remove = remove;
        }

        @Override
        public void close() {
            remove.run();
        }
    }

    Subscription onEverything(EventListener listener) {
        return add(everything, listener);
    }

    /** By {@code Event-Name} (case-insensitive), or by {@code Event-Subclass} for CUSTOM events. */
    Subscription onEvent(String name, EventListener listener) {
        return addKeyed(byName, name.toUpperCase(Locale.ROOT), listener);
    }

    Subscription onChannel(String uuid, EventListener listener) {
        return addKeyed(byChannel, uuid, listener);
    }

    Subscription onJob(String jobUuid, EventListener listener) {
        return addKeyed(byJob, jobUuid, listener);
    }

    private static Subscription add(List<Registration> list, EventListener listener) {
        Objects.requireNonNull(listener, "listener");
        Registration[] holder = new Registration[1];
        holder[0] = new Registration(listener, () -> list.remove(holder[0]));
        list.add(holder[0]);
        return holder[0];
    }

    private static Subscription addKeyed(ConcurrentMap<String, List<Registration>> map, String key, EventListener listener) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(listener, "listener");
        Registration[] holder = new Registration[1];
        holder[0] = new Registration(listener, () -> map.computeIfPresent(key, (k, list) -> {
            list.remove(holder[0]);
            return list.isEmpty() ? null : list;
        }));
        map.compute(key, (k, list) -> {
            List<Registration> target = list == null ? new CopyOnWriteArrayList<Registration>() : list;
            target.add(holder[0]);
            return target;
        });
        return holder[0];
    }

    /**
     * Hands one event to every matching listener.
     *
     * @return how many listeners threw
     */
    int route(EslEvent event) {
        int failures = deliver(everything, event);
        // Each keyed lookup only when that kind of listener exists: reading a header and folding
        // its case per event is most of the cost of routing for a client with catch-all listeners.
        if (!byName.isEmpty()) {
            String name = event.eventName();
            if (name != null) {
                failures += deliver(byName.get(name.toUpperCase(Locale.ROOT)), event);
            }
            String subclass = event.eventSubclass();
            if (subclass != null) {
                failures += deliver(byName.get(subclass.toUpperCase(Locale.ROOT)), event);
            }
        }
        if (!byChannel.isEmpty()) {
            String channel = event.uniqueId();
            if (channel != null) {
                failures += deliver(byChannel.get(channel), event);
            }
        }
        if (!byJob.isEmpty()) {
            String job = event.jobUuid();
            if (job != null) {
                failures += deliver(byJob.get(job), event);
            }
        }
        return failures;
    }

    /**
     * Whether {@link #route} would hand this event to any listener: the view path makes an
     * {@link EslEvent} (which keeps its batch array from reuse) only for those events.
     */
    boolean wants(EventView view) {
        if (!everything.isEmpty()) {
            return true;
        }
        if (!byName.isEmpty() && (hasKey(byName, upperCase(view.eventName()))
                || hasKey(byName, upperCase(view.eventSubclass())))) {
            return true;
        }
        if (!byChannel.isEmpty() && hasKey(byChannel, view.uniqueId())) {
            return true;
        }
        return !byJob.isEmpty() && hasKey(byJob, view.jobUuid());
    }

    private static String upperCase(String name) {
        return name == null ? null : name.toUpperCase(Locale.ROOT);
    }

    private static boolean hasKey(ConcurrentMap<String, List<Registration>> map, String key) {
        return key != null && map.containsKey(key);
    }

    private static int deliver(List<Registration> registrations, EslEvent event) {
        if (registrations == null || registrations.isEmpty()) {
            return 0;
        }
        int failures = 0;
        for (Registration registration : registrations) {
            try {
                registration.listener.onEvent(event);
            } catch (RuntimeException | LinkageError | AssertionError failure) {
                // A listener's bug must not stop delivery to the others or to later events.
                failures++;
            }
        }
        return failures;
    }
}
