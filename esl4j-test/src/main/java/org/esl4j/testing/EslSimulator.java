package org.esl4j.testing;

import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.esl4j.ClientOptions;
import org.esl4j.EslEvent;
import org.esl4j.EslException;
import org.esl4j.EventListener;
import org.esl4j.Subscription;
import org.esl4j.dial.HangupCause;
import org.esl4j.internal.EventInbox;
import org.esl4j.internal.FrameCodec;
import org.esl4j.internal.NativeConnection;
import org.esl4j.testing.internal.NativeSimulator;

/**
 * A FreeSWITCH event socket simulator inside your test: a real TCP server on 127.0.0.1 that
 * speaks ESL, with a call model (endpoints that ring, answer, send early media, are busy or
 * reject), a dialplan that can hand calls to your outbound server, and an optional virtual clock
 * so that a 20 second no-answer timeout takes milliseconds.
 *
 * <pre>{@code
 * try (EslSimulator sim = EslSimulator.builder().virtualClock().start()) {
 *     sim.registerUser("1000");                                         // user/1000 answers at once
 *     sim.endpoint("user/2000", EndpointBehavior.neverAnswer());
 *     EslClient client = EslClient.connect(sim.clientOptions().build()); // your code under test
 *     ...
 *     sim.awaitExecute("bridge", Duration.ofSeconds(5));                // the bridge is ringing
 *     sim.advance(Duration.ofSeconds(20));                             // 20 s pass at once
 * }
 * }</pre>
 *
 * <p>The kit keeps one connection of its own to the simulator: it records every event (see
 * {@link #events()}, {@link #awaitEvent(Predicate, Duration)}) and places calls ({@link
 * #call(String)}). Its commands are left out of {@link #commands()}. For load tests, turn the
 * recording off ({@link Builder#recordEvents(boolean)}) so that a {@link #flood} reaches only your
 * connections.
 *
 * <p>Thread-safe. The await methods fail with an {@link AssertionError} that says what was seen,
 * so they read as assertions in a test.
 */
public final class EslSimulator implements AutoCloseable {
    /** Events kept by the recorder; older ones are dropped first. */
    static final int RECORDED_EVENTS = 10_000;
    private static final String HOST = "127.0.0.1";
    private static final int POLL_BATCH = 1024;
    private static final long POLL_WAIT_MS = 200;
    private static final long CONTROL_TIMEOUT_MS = 10_000;

    private final NativeSimulator simulator;
    private final String password;
    private final boolean virtualClock;
    private final NativeConnection control;
    /** Command lines the kit sent itself, removed (once each) from {@link #commands()}. */
    private final List<String> ownCommands = new ArrayList<>();
    private final Deque<EslEvent> recorded = new ArrayDeque<>();
    private final List<EventListener> listeners = new CopyOnWriteArrayList<>();
    private final Thread recorder;
    private volatile boolean closed;

    private EslSimulator(Builder builder) {
        this.password = builder.password;
        this.virtualClock = builder.virtualClock;
        this.simulator = NativeSimulator.start(builder.port, builder.password, builder.virtualClock,
                builder.heartbeat.toMillis());
        NativeConnection connection = null;
        try {
            ownCommand("auth " + password);
            connection = NativeConnection.connect(HOST, simulator.port(), null, password,
                    new NativeConnection.Settings().commandTimeoutMs(CONTROL_TIMEOUT_MS));
            if (builder.recordEvents) {
                ownCommand("event plain ALL");
                await(connection.subscribe("plain", "ALL"), "subscribe");
            }
        } catch (RuntimeException failure) {
            if (connection != null) {
                connection.close();
            }
            simulator.close();
            throw failure;
        }
        this.control = connection;
        if (builder.recordEvents) {
            recorder = new Thread(this::record, "esl4j-sim-recorder-" + simulator.port());
            recorder.setDaemon(true);
            recorder.start();
        } else {
            recorder = null;
        }
    }

    /**
     * Starts a simulator with FreeSWITCH's defaults (password {@code ClueCon}, real clock) on a
     * free port.
     *
     * @return the running simulator
     */
    public static EslSimulator start() {
        return builder().start();
    }

    /**
     * Starts configuring a simulator.
     *
     * @return a builder with FreeSWITCH's defaults
     */
    public static Builder builder() {
        return new Builder();
    }

    // ---- where to connect -----------------------------------------------------------------------

    /**
     * The address the simulator listens on.
     *
     * @return {@code 127.0.0.1}
     */
    public String host() {
        return HOST;
    }

    /**
     * The port it listens on.
     *
     * @return the port
     */
    public int port() {
        return simulator.port();
    }

    /**
     * The event socket password.
     *
     * @return the password
     */
    public String password() {
        return password;
    }

    /**
     * Client options that point at this simulator; add your own settings and build.
     *
     * @return a builder with host, port and password set
     */
    public ClientOptions.Builder clientOptions() {
        return ClientOptions.builder().host(host()).port(port()).password(password);
    }

    /**
     * Whether time moves only through {@link #advance(Duration)}.
     *
     * @return true for a virtual clock
     */
    public boolean hasVirtualClock() {
        return virtualClock;
    }

    // ---- the world the simulator models -----------------------------------------------------------

    /**
     * Registers a user that answers at once: dialing {@code user/<id>} succeeds.
     *
     * @param id the user id, e.g. {@code "1000"}
     * @return this simulator
     */
    public EslSimulator registerUser(String id) {
        return endpoint("user/" + requireToken(id, "user id"), EndpointBehavior.answer());
    }

    /**
     * Scripts how a dialed endpoint behaves; the name is the dial string's endpoint, e.g.
     * {@code user/2000} or {@code sofia/gateway/gw1/13800138000}. Unscripted {@code user/...}
     * endpoints fail with {@code USER_NOT_REGISTERED}.
     *
     * @param endpoint the endpoint
     * @param behavior what it does when dialed
     * @return this simulator
     */
    public EslSimulator endpoint(String endpoint, EndpointBehavior behavior) {
        Objects.requireNonNull(behavior, "behavior");
        simulator.setEndpoint(requireToken(endpoint, "endpoint"), behavior.kind, behavior.delay.toMillis(),
                behavior.cause == null ? null : behavior.cause.name());
        return this;
    }

    /**
     * Sets the dialplan of an extension: each entry is {@code "application"} or {@code
     * "application argument"}, run in order when a call reaches the extension (see {@link
     * #call(String)}; {@code originate ... <extension>} and {@code loopback/<extension>} reach it
     * too).
     *
     * <pre>{@code
     * sim.route("ivr", "answer", "playback ivr/ivr-welcome.wav", "hangup NORMAL_CLEARING");
     * }</pre>
     *
     * @param extension the extension, e.g. {@code "ivr"}
     * @param applications the applications, in order
     * @return this simulator
     */
    public EslSimulator route(String extension, String... applications) {
        List<Map.Entry<String, String>> apps = new ArrayList<>();
        for (String application : applications) {
            String line = requireLine(application, "application").trim();
            int space = line.indexOf(' ');
            String name = space < 0 ? line : line.substring(0, space);
            String argument = space < 0 ? "" : line.substring(space + 1).trim();
            apps.add(new AbstractMap.SimpleImmutableEntry<>(requireToken(name, "application"), argument));
        }
        if (apps.isEmpty()) {
            throw new IllegalArgumentException("a route needs at least one application");
        }
        simulator.setRoute(requireToken(extension, "extension"), apps);
        return this;
    }

    /**
     * Hands calls to an extension to an outbound server, as {@code <action application="socket"
     * data="127.0.0.1:<port> [async] full"/>} does.
     *
     * @param extension the extension, e.g. {@code "support"}
     * @param port the outbound server's port on 127.0.0.1
     * @param async true for {@code async} mode (applications run while events flow)
     * @return this simulator
     */
    public EslSimulator routeToOutbound(String extension, int port, boolean async) {
        if (port <= 0 || port > 65_535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        simulator.routeToSocket(requireToken(extension, "extension"), HOST + ":" + port + (async ? " async" : "") + " full");
        return this;
    }

    /**
     * Places an incoming call to an extension: a caller channel is created and the extension's
     * dialplan runs on the called side (e.g. it connects to your outbound server). The caller
     * stays up until the called side hangs up or {@link #hangup(String, HangupCause)}.
     *
     * @param extension the extension dialed
     * @return the caller channel's UUID
     */
    public String call(String extension) {
        String uuid = UUID.randomUUID().toString();
        String command = "originate {origination_uuid=" + uuid + "}loopback/" + requireToken(extension, "extension")
                + "/default &park()";
        ownCommand("bgapi " + command);
        EslEvent reply = await(control.bgapi(command, null, 0), "bgapi originate");
        String replyText = reply.header("Reply-Text");
        if (replyText == null || !replyText.startsWith("+OK")) {
            throw new EslException(EslException.Kind.COMMAND_FAILED, "the call was refused: " + replyText);
        }
        return uuid;
    }

    /**
     * Runs an API command against the simulator's state, e.g. {@code "show channels"} or {@code
     * "uuid_kill <uuid>"}, without going through a connection (so it is not in {@link
     * #commands()}); its {@code API} event is fired as usual. An {@code originate} returns when it
     * ends (on the virtual clock, advance it from another thread); every call gives up after 10 s.
     *
     * @param command the command and arguments
     * @return the output, e.g. {@code "+OK\n"}
     */
    public String api(String command) {
        return simulator.api(requireLine(command, "command"), CONTROL_TIMEOUT_MS);
    }

    /**
     * Adds a user of FreeSWITCH's directory for {@code userauth user@domain:password}, with the
     * {@code esl-allowed-*} permissions FreeSWITCH enforces: an event subscription, an API
     * command (and the one an {@code expand} or {@code bgapi} wraps) or {@code log} that is not
     * allowed gets {@code -ERR permission denied}. Users not added are accepted with the
     * simulator's password and no limits.
     *
     * @param user the user id, e.g. {@code "1000"}
     * @param domain the domain, e.g. {@code "example.com"}
     * @param password the user's {@code esl-password}
     * @param allowedEvents {@code esl-allowed-events}, e.g. {@code "CHANNEL_ANSWER,HEARTBEAT"};
     *     null for all
     * @param allowedApi {@code esl-allowed-api}, e.g. {@code "status,uuid_kill"}; null for all
     * @param allowedLog {@code esl-allowed-log}
     * @return this simulator
     */
    public EslSimulator addEslUser(String user, String domain, String password, String allowedEvents,
            String allowedApi, boolean allowedLog) {
        simulator.addUser(requireToken(user, "user"), requireToken(domain, "domain"), requireLine(password, "password"),
                allowedEvents == null ? null : requireLine(allowedEvents, "allowedEvents"),
                allowedApi == null ? null : requireLine(allowedApi, "allowedApi"), allowedLog);
        return this;
    }

    /**
     * Refuses (or admits again) the connections opened from now on, as FreeSWITCH does for a
     * client its {@code apply-inbound-acl} denies: a {@code text/rude-rejection} frame ("Access
     * Denied, go away."), a disconnect notice, then the close, and no {@code auth/request}. Open
     * connections, the kit's own included, are not affected.
     *
     * @param reject true to refuse new connections
     * @return this simulator
     */
    public EslSimulator rejectNewConnections(boolean reject) {
        simulator.rejectInbound(reject);
        return this;
    }

    /**
     * Hangs up a channel ({@code uuid_kill}).
     *
     * @param uuid the channel
     * @param cause the cause, e.g. {@link HangupCause#NORMAL_CLEARING}
     * @return the API output, {@code +OK} or {@code -ERR No such channel!}
     */
    public String hangup(String uuid, HangupCause cause) {
        return api("uuid_kill " + requireToken(uuid, "uuid") + " " + cause.name());
    }

    /**
     * Live channels.
     *
     * @return the count
     */
    public int channelCount() {
        return simulator.channelCount();
    }

    // ---- time -------------------------------------------------------------------------------------

    /**
     * Virtual clock: moves time forward, firing every ring time, timeout and answer that falls
     * due, in order, and returns once the resulting events are written to the sockets.
     *
     * @param duration how far
     * @throws IllegalStateException on a real-clock simulator, where time cannot be moved
     */
    public void advance(Duration duration) {
        Objects.requireNonNull(duration, "duration");
        if (!virtualClock) {
            throw new IllegalStateException("advance() needs a simulator built with virtualClock()");
        }
        if (duration.isNegative()) {
            throw new IllegalArgumentException("time does not go back: " + duration);
        }
        simulator.advance(duration.toMillis());
    }

    // ---- what the simulator received ------------------------------------------------------------

    /**
     * Every command line your code sent, oldest first (the most recent 10,000), e.g. {@code
     * "api status"} or {@code "sendmsg <uuid>"}; the kit's own commands are left out.
     *
     * @return a snapshot
     */
    public List<String> commands() {
        List<String> all = simulator.commands();
        synchronized (ownCommands) {
            for (String own : ownCommands) {
                all.remove(own);
            }
        }
        return all;
    }

    /**
     * Waits for a command line that starts with {@code prefix}.
     *
     * @param prefix e.g. {@code "bgapi originate"}
     * @param timeout the longest wait
     * @return the first matching line
     * @throws AssertionError when none arrived in time
     */
    public String awaitCommand(String prefix, Duration timeout) {
        Objects.requireNonNull(prefix, "prefix");
        return awaitCommand(line -> line.startsWith(prefix), "a command starting with \"" + prefix + "\"", timeout);
    }

    /**
     * Waits for a command line that matches.
     *
     * @param matcher the condition
     * @param timeout the longest wait
     * @return the first matching line
     * @throws AssertionError when none arrived in time
     */
    public String awaitCommand(Predicate<String> matcher, Duration timeout) {
        return awaitCommand(matcher, "a matching command", timeout);
    }

    private String awaitCommand(Predicate<String> matcher, String what, Duration timeout) {
        Objects.requireNonNull(matcher, "matcher");
        long deadline = System.nanoTime() + timeout.toNanos();
        // A lower bound of the simulator's total, so each wait below is for one new command.
        long seen = simulator.commands().size();
        while (true) {
            List<String> lines = commands();
            for (String line : lines) {
                if (matcher.test(line)) {
                    return line;
                }
            }
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0 || !simulator.waitForCommands(seen + 1, left)) {
                throw new AssertionError("no " + what + " within " + timeout + "; received " + lines);
            }
            seen++;
        }
    }

    // ---- events -----------------------------------------------------------------------------------

    /**
     * Every event the simulator sent to its connections since it started (the most recent
     * 10,000), oldest first. Needs event recording (on by default).
     *
     * @return a snapshot
     */
    public List<EslEvent> events() {
        requireRecording();
        synchronized (recorded) {
            return new ArrayList<>(recorded);
        }
    }

    /**
     * Waits for an event that matches, looking at recorded events first.
     *
     * @param matcher the condition
     * @param timeout the longest wait
     * @return the first matching event
     * @throws AssertionError when none arrived in time, listing the event names seen
     */
    public EslEvent awaitEvent(Predicate<EslEvent> matcher, Duration timeout) {
        return awaitEvent(matcher, "a matching event", timeout);
    }

    /**
     * Waits for an event by name, e.g. {@code "CHANNEL_ANSWER"}.
     *
     * @param eventName the Event-Name
     * @param timeout the longest wait
     * @return the first such event
     * @throws AssertionError when none arrived in time
     */
    public EslEvent awaitEvent(String eventName, Duration timeout) {
        Objects.requireNonNull(eventName, "eventName");
        return awaitEvent(event -> eventName.equals(event.eventName()), eventName, timeout);
    }

    /**
     * Waits until a dialplan application starts on any channel ({@code CHANNEL_EXECUTE}), e.g.
     * {@code "bridge"} before advancing the clock past its timeout, or {@code "playback"} to check
     * that the caller heard a message.
     *
     * @param application the application name
     * @param timeout the longest wait
     * @return the CHANNEL_EXECUTE event ({@link EslEvent#applicationData()} holds the argument)
     * @throws AssertionError when it did not start in time
     */
    public EslEvent awaitExecute(String application, Duration timeout) {
        Objects.requireNonNull(application, "application");
        return awaitEvent(event -> "CHANNEL_EXECUTE".equals(event.eventName()) && application.equals(event.application()),
                "CHANNEL_EXECUTE of " + application, timeout);
    }

    private EslEvent awaitEvent(Predicate<EslEvent> matcher, String what, Duration timeout) {
        Objects.requireNonNull(matcher, "matcher");
        requireRecording();
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (recorded) {
            while (true) {
                for (EslEvent event : recorded) {
                    if (matcher.test(event)) {
                        return event;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) {
                    throw new AssertionError("no " + what + " within " + timeout + "; seen " + eventNames());
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(recorded, left);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted while waiting for " + what);
                }
            }
        }
    }

    /** The names of the recorded events; the caller holds the lock. */
    private List<String> eventNames() {
        List<String> names = new ArrayList<>();
        for (EslEvent event : recorded) {
            String application = event.application();
            names.add(event.eventName() + (application == null ? "" : "(" + application + ")"));
        }
        return names;
    }

    /**
     * Calls {@code listener} with every event from now on, on the recorder thread, in order.
     *
     * @param listener the listener; its exceptions are ignored
     * @return the registration; close it to stop
     */
    public Subscription onEvent(EventListener listener) {
        Objects.requireNonNull(listener, "listener");
        requireRecording();
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /**
     * Fires an event to every subscribed connection, as FreeSWITCH does for a {@code CUSTOM}
     * event; the standard headers ({@code Event-Date-*}, {@code Core-UUID}, ...) are added in
     * front. Returns once it is written to the sockets.
     *
     * <pre>{@code
     * sim.fireEvent(EslEvent.builder().header("Event-Name", "CUSTOM")
     *         .header("Event-Subclass", "callcenter::info").header("CC-Action", "agent-status-change").build());
     * }</pre>
     *
     * @param event at least an {@code Event-Name} header
     */
    public void fireEvent(EslEvent event) {
        fireEvents(Collections.singletonList(Objects.requireNonNull(event, "event")));
    }

    /**
     * Fires events in order, each as {@link #fireEvent(EslEvent)} does, and returns once all are
     * written to the sockets: one native call for the lot, for load tests that need more events
     * per second than single calls give.
     *
     * @param events each with at least an {@code Event-Name} header
     */
    public void fireEvents(List<EslEvent> events) {
        Objects.requireNonNull(events, "events");
        for (EslEvent event : events) {
            if (Objects.requireNonNull(event, "an event").eventName() == null) {
                throw new IllegalArgumentException("an event needs an Event-Name header");
            }
        }
        simulator.fireEvents(events);
    }

    /**
     * Load mode: streams recorded {@code text/event-plain} frames round-robin to every subscribed
     * connection, as fast as they drain or at a rate, while commands are still answered.
     *
     * @param corpus concatenated event frames, e.g. a capture of a busy FreeSWITCH
     * @param events events per connection, 0 for no limit
     * @param maxDuration the longest flood, or {@link Duration#ZERO} for no limit (one of the two
     *     limits must be set)
     * @param perSecond events per second per connection, 0 for as fast as possible
     * @return the events sent per connection
     */
    public long flood(byte[] corpus, long events, Duration maxDuration, int perSecond) {
        Objects.requireNonNull(corpus, "corpus");
        return simulator.flood(corpus, events, maxDuration.toMillis(), perSecond);
    }

    // ---- lifecycle --------------------------------------------------------------------------------

    /** Closes every connection and stops the simulator. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        control.close();
        simulator.close();
        synchronized (recorded) {
            recorded.notifyAll();
        }
        if (recorder != null && recorder != Thread.currentThread()) {
            try {
                recorder.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "EslSimulator{" + HOST + ":" + (closed ? "closed" : String.valueOf(port()))
                + (virtualClock ? ", virtual clock" : "") + "}";
    }

    private void record() {
        EventInbox inbox = control.inbox(POLL_BATCH);
        while (!closed) {
            FrameCodec.Batch batch = inbox.take(POLL_WAIT_MS);
            if (batch == null) {
                break;
            }
            List<EslEvent> events = new ArrayList<>(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                if (batch.kind(i) == FrameCodec.KIND_EVENT) {
                    events.add(batch.item(i));
                }
            }
            if (events.isEmpty()) {
                continue;
            }
            synchronized (recorded) {
                for (EslEvent event : events) {
                    if (recorded.size() == RECORDED_EVENTS) {
                        recorded.removeFirst();
                    }
                    recorded.addLast(event);
                }
                recorded.notifyAll();
            }
            for (EslEvent event : events) {
                notifyListeners(event);
            }
        }
        synchronized (recorded) {
            recorded.notifyAll();
        }
    }

    private void notifyListeners(EslEvent event) {
        for (EventListener listener : listeners) {
            try {
                listener.onEvent(event);
            } catch (RuntimeException ignored) {
                // A listener's failure must not stop the recording.
            }
        }
    }

    private void requireRecording() {
        if (recorder == null) {
            throw new IllegalStateException("event recording is off (Builder.recordEvents(false))");
        }
    }

    private void ownCommand(String line) {
        synchronized (ownCommands) {
            ownCommands.add(line);
        }
    }

    private static <T> T await(CompletableFuture<T> future, String what) {
        try {
            return future.get(CONTROL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException timedOut) {
            throw EslException.of(EslException.Kind.TIMEOUT, "simulator " + what + ": no reply");
        } catch (ExecutionException failed) {
            Throwable cause = failed.getCause();
            throw cause instanceof RuntimeException ? (RuntimeException) cause
                    : new EslException(EslException.Kind.INTERNAL, "simulator " + what + ": " + cause, cause);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new EslException(EslException.Kind.INVALID_STATE, "simulator " + what + ": interrupted");
        }
    }

    private static String requireLine(String text, String what) {
        Objects.requireNonNull(text, what);
        if (text.trim().isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
        if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0) {
            throw new IllegalArgumentException(what + " contains a line break");
        }
        return text;
    }

    private static String requireToken(String text, String what) {
        requireLine(text, what);
        for (int i = 0; i < text.length(); i++) {
            if (Character.isWhitespace(text.charAt(i))) {
                throw new IllegalArgumentException(what + " contains a blank: \"" + text + "\"");
            }
        }
        return text;
    }

    /** Settings of an {@link EslSimulator}. Not thread-safe. */
    public static final class Builder {
        private int port;
        private String password = "ClueCon";
        private boolean virtualClock;
        private Duration heartbeat = Duration.ofSeconds(20);
        private boolean recordEvents = true;

        private Builder() {
        }

        /**
         * The port (default 0: a free one, see {@link EslSimulator#port()}).
         *
         * @param value the port
         * @return this builder
         */
        public Builder port(int value) {
            if (value < 0 || value > 65_535) {
                throw new IllegalArgumentException("port out of range: " + value);
            }
            port = value;
            return this;
        }

        /**
         * The event socket password (default {@code ClueCon}).
         *
         * @param value the password
         * @return this builder
         */
        public Builder password(String value) {
            password = requireToken(value, "password");
            return this;
        }

        /**
         * Time moves only through {@link EslSimulator#advance(Duration)}: ring times and timeouts
         * of any length run in milliseconds, deterministically.
         *
         * @return this builder
         */
        public Builder virtualClock() {
            virtualClock = true;
            return this;
        }

        /**
         * The HEARTBEAT interval (FreeSWITCH: 20 s); {@link Duration#ZERO} turns it off.
         *
         * @param value the interval
         * @return this builder
         */
        public Builder heartbeat(Duration value) {
            Objects.requireNonNull(value, "heartbeat");
            if (value.isNegative()) {
                throw new IllegalArgumentException("negative heartbeat: " + value);
            }
            heartbeat = value;
            return this;
        }

        /**
         * Whether the kit records every event (default true); off, {@link EslSimulator#events()}
         * and the event waits are unavailable and a flood reaches only your connections.
         *
         * @param enabled true to record
         * @return this builder
         */
        public Builder recordEvents(boolean enabled) {
            recordEvents = enabled;
            return this;
        }

        /**
         * Starts the simulator.
         *
         * @return the running simulator
         * @throws EslException when it cannot listen
         */
        public EslSimulator start() {
            return new EslSimulator(this);
        }
    }
}
