package org.esl4j.spring;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.esl4j.EslClient;
import org.esl4j.EslEvent;
import org.esl4j.EventListener;
import org.esl4j.Subscription;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Finds {@link EslListener} methods on beans and, once every singleton exists, registers them with
 * the inbound clients and sends the subscriptions and filters: listeners first, so that no event
 * arrives before its listener.
 */
final class EslListenerRegistrar implements BeanPostProcessor, SmartInitializingSingleton, BeanFactoryAware, DisposableBean {
    private static final Log LOG = LogFactory.getLog(EslListenerRegistrar.class);
    private static final String ALL = "ALL";

    /** One annotated method of one bean. */
    private record Target(Object bean, String beanName, Method method, EslListener annotation) {
        String describe() {
            return beanName + "." + method.getName();
        }
    }

    /** Classes known to have no listener method, so that each is scanned once. */
    private final Set<Class<?>> withoutListeners = ConcurrentHashMap.newKeySet();
    private final List<Target> pending = new ArrayList<>();
    private final List<Subscription> registrations = new ArrayList<>();
    /** Events the listeners need, by server name; subscribed to with the configured ones. */
    private final Map<String, Set<String>> listenerEvents = new HashMap<>();
    private ConfigurableBeanFactory beanFactory;
    private EslServers servers;
    /** The Kafka consumer group, when {@code esl4j.kafka.enabled}: listeners get its events instead. */
    private EslEventSource kafka;

    @Override
    public void setBeanFactory(BeanFactory factory) {
        this.beanFactory = factory instanceof ConfigurableBeanFactory configurable ? configurable : null;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) throws BeansException {
        Class<?> type = AopUtils.getTargetClass(bean);
        if (withoutListeners.contains(type)) {
            return bean;
        }
        Map<Method, EslListener> methods = MethodIntrospector.selectMethods(type,
                (MethodIntrospector.MetadataLookup<EslListener>) method -> AnnotatedElementUtils.findMergedAnnotation(method, EslListener.class));
        if (methods.isEmpty()) {
            withoutListeners.add(type);
            return bean;
        }
        List<Target> found = new ArrayList<>();
        methods.forEach((method, annotation) -> found.add(check(new Target(bean, beanName, method, annotation))));
        synchronized (this) {
            if (servers == null && kafka == null) {
                pending.addAll(found);
            } else {
                // A bean made after start-up (lazy, prototype): register and subscribe now.
                found.forEach(target -> register(target, true));
            }
        }
        return bean;
    }

    private static Target check(Target target) {
        Method method = target.method();
        Class<?>[] parameters = method.getParameterTypes();
        if (Modifier.isStatic(method.getModifiers()) || parameters.length != 1 || !parameters[0].isAssignableFrom(EslEvent.class)) {
            throw new EslStartupException("@EslListener method " + method.toGenericString() + " cannot receive events.",
                    "Make it an instance method with exactly one parameter of type EslEvent.", null);
        }
        EslListener annotation = target.annotation();
        boolean customOnly = annotation.value().length == 0
                || (annotation.value().length == 1 && annotation.value()[0].equalsIgnoreCase("CUSTOM"));
        if (!annotation.subclass().isEmpty() && !customOnly) {
            throw new EslStartupException("@EslListener on " + method.toGenericString() + " names both events "
                    + Arrays.toString(annotation.value()) + " and subclass '" + annotation.subclass() + "'.",
                    "A subclass selects CUSTOM events: leave the event names out.", null);
        }
        List<String> names = new ArrayList<>(Arrays.asList(annotation.value()));
        if (!annotation.subclass().isEmpty()) {
            names.add(annotation.subclass());
        }
        for (String name : names) {
            if (name.isEmpty() || !name.chars().allMatch(c -> c > ' ' && c != 0x7f)) {
                throw new EslStartupException("@EslListener on " + method.toGenericString() + " names the event '" + name + "'.",
                        "Event names and subclasses are single words, e.g. CHANNEL_ANSWER or sofia::register.", null);
            }
        }
        Method invocable;
        try {
            // On a proxied bean, the proxy's method (so that transactions, security... still apply).
            invocable = AopUtils.selectInvocableMethod(method, target.bean().getClass());
        } catch (IllegalStateException notOnProxy) {
            throw new EslStartupException("@EslListener method " + method.toGenericString() + " is not reachable through the"
                    + " proxy of bean '" + target.beanName() + "'.", "Declare it on an interface the bean implements, or use"
                    + " class-based proxies.", notOnProxy);
        }
        ReflectionUtils.makeAccessible(invocable);
        return new Target(target.bean(), target.beanName(), invocable, annotation);
    }

    @Override
    public void afterSingletonsInstantiated() {
        EslEventSource source = beanFactory == null ? null : beanFactory.getBeanProvider(EslEventSource.class).getIfAvailable();
        if (source != null) {
            synchronized (this) {
                kafka = source;
                pending.forEach(target -> register(target, false));
                pending.clear();
            }
            source.start();
            return;
        }
        EslServers connected = beanFactory == null ? null : beanFactory.getBeanProvider(EslServers.class).getIfAvailable();
        synchronized (this) {
            if (connected == null) {
                if (!pending.isEmpty()) {
                    LOG.warn(pending.size() + " @EslListener method(s) will receive nothing: esl4j inbound connections are disabled");
                }
                return;
            }
            servers = connected;
            for (Target target : pending) {
                register(target, false);
            }
            pending.clear();
            for (EslServer server : servers.all()) {
                subscribeAndFilter(server);
            }
        }
    }

    /** Registers one listener method on every server it names; subscribes at once when asked to. */
    private void register(Target target, boolean subscribeNow) {
        EslListener annotation = target.annotation();
        if (kafka != null) {
            listenThroughKafka(target);
            return;
        }
        List<String> serverNames = annotation.servers().length == 0 ? servers.names() : Arrays.asList(annotation.servers());
        for (String name : serverNames) {
            if (!servers.names().contains(name)) {
                throw new EslStartupException("@EslListener " + target.describe() + " names the unknown server '" + name + "'.",
                        "Use one of " + servers.names() + " (esl4j.inbound.servers), or leave servers out.", null);
            }
        }
        String channel = resolve(annotation.channel());
        EventListener listener = invoker(target, channel);
        for (String name : serverNames) {
            EslServer server = servers.server(name);
            EslClient client = server.client();
            List<String> events = new ArrayList<>();
            if (!annotation.subclass().isEmpty()) {
                registrations.add(client.onEvent(annotation.subclass(), listener));
                events.add("CUSTOM");
                events.add(annotation.subclass());
            } else if (annotation.value().length > 0) {
                for (String event : annotation.value()) {
                    String upper = event.toUpperCase(Locale.ROOT);
                    registrations.add(ALL.equals(upper) ? client.onAnyEvent(listener) : client.onEvent(upper, listener));
                    events.add(upper);
                }
            } else if (!channel.isEmpty()) {
                registrations.add(client.onChannel(channel, listener));
            } else {
                registrations.add(client.onAnyEvent(listener));
            }
            listenerEvents.computeIfAbsent(name, key -> new LinkedHashSet<>()).addAll(events);
            if (subscribeNow && !events.isEmpty()) {
                await(client.subscribe(events.toArray(new String[0])), client, "subscribe " + events + " for " + target.describe());
            }
        }
    }

    /** Event names (or the subclass) on the consumer group; {@code servers} names the nodes. */
    private void listenThroughKafka(Target target) {
        EslListener annotation = target.annotation();
        EventListener listener = invoker(target, resolve(annotation.channel()));
        List<String> nodes = Arrays.asList(annotation.servers());
        List<String> names = new ArrayList<>();
        if (!annotation.subclass().isEmpty()) {
            names.add(annotation.subclass());
        } else {
            for (String event : annotation.value()) {
                names.add(event.toUpperCase(Locale.ROOT));
            }
        }
        if (names.isEmpty() || names.contains(ALL)) {
            registrations.add(kafka.listen(null, nodes, listener));
            return;
        }
        for (String name : names) {
            registrations.add(kafka.listen(name, nodes, listener));
        }
    }

    private String resolve(String value) {
        if (value.isEmpty() || beanFactory == null) {
            return value;
        }
        String resolved = beanFactory.resolveEmbeddedValue(value);
        return resolved == null ? "" : resolved.trim();
    }

    private static EventListener invoker(Target target, String channel) {
        return event -> {
            if (!channel.isEmpty() && !channel.equals(event.uniqueId())) {
                return;
            }
            try {
                target.method().invoke(target.bean(), event);
            } catch (InvocationTargetException thrown) {
                Throwable failure = thrown.getCause();
                LOG.error("@EslListener " + target.describe() + " failed on " + event.eventName()
                        + (event.uniqueId() == null ? "" : " of channel " + event.uniqueId()), failure);
                // Thrown on so that the delivery counters count it; delivery goes on regardless.
                throw new IllegalStateException("@EslListener " + target.describe() + " failed", failure);
            } catch (IllegalAccessException unreachable) {
                throw new IllegalStateException(unreachable);
            }
        };
    }

    private void subscribeAndFilter(EslServer server) {
        EslClient client = server.client();
        Set<String> events = new LinkedHashSet<>(server.subscriptions());
        events.addAll(listenerEvents.getOrDefault(server.name(), Set.of()));
        if (!events.isEmpty()) {
            await(client.subscribe(events.toArray(new String[0])), client, "subscribe " + events + " on server '" + server.name() + "'");
        }
        for (ServerConfig.Filter filter : server.filters()) {
            await(client.filter(filter.header(), filter.value()), client,
                    "filter " + filter.header() + " " + filter.value() + " on server '" + server.name() + "'");
        }
    }

    private static void await(CompletableFuture<Void> command, EslClient client, String what) {
        Duration timeout = client.options().commandTimeout();
        try {
            command.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException failure) {
            Throwable cause = failure instanceof ExecutionException ? failure.getCause() : failure;
            throw new EslStartupException("FreeSWITCH refused or did not answer '" + what + "': " + cause.getMessage(),
                    "Check the event names in esl4j.inbound.subscriptions/filters and on @EslListener methods.", cause);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new EslStartupException("Interrupted during '" + what + "'.", "Start the application again.", interrupted);
        }
    }

    @Override
    public synchronized void destroy() {
        registrations.forEach(Subscription::close);
        registrations.clear();
    }
}
