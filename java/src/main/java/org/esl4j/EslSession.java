package org.esl4j;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.BridgeResult;
import org.esl4j.dial.HangupCause;
import org.esl4j.internal.NativeConnection;

/**
 * One call handed to an {@link EslOutboundServer} by FreeSWITCH's {@code socket} application.
 *
 * <p>The session has already done the {@code connect} handshake ({@link #channelData()}), asked
 * for the channel's events ({@code myevents}) and, when the socket has {@code full} control,
 * {@code linger}. Applications run with {@link #execute(String, String)} complete when their
 * {@code CHANNEL_EXECUTE_COMPLETE} arrives, whether the dialplan said {@code async full} or only
 * {@code full}. Every command has a non-blocking form returning a future, completed on {@link
 * ServerOptions#completionExecutor()} (never on an engine or event thread), for {@link
 * AsyncSessionHandler}s that need no thread per call; the overloads with a {@link Duration} block
 * up to it, for {@link SessionHandler}s.
 *
 * <p>Answer, then bridge with a 20 s no-answer timeout; the channel stays up when nobody answers:
 *
 * <pre>{@code
 * session.answer(Duration.ofSeconds(5));
 * BridgeResult result = session.bridge(BridgeRequest.to(Endpoint.user("2000"))
 *         .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build(), Duration.ofHours(2));
 * if (result.cause() == HangupCause.NO_ANSWER) {
 *     session.playback("ivr/ivr-no_user_response.wav", Duration.ofSeconds(30));
 *     session.hangup(HangupCause.NO_ANSWER);
 * }
 * }</pre>
 *
 * <p>Commands that FreeSWITCH accepts only with {@code full} ({@code linger}, {@code api}, ...)
 * fail with a message naming the missing keyword when the dialplan did not give it.
 */
public final class EslSession implements AutoCloseable {
    /** Bound on the non-blocking forms: a bridged call or a long playback may last this long. */
    private static final Duration LONGEST_APPLICATION = Duration.ofHours(4);

    private final EslOutboundServer server;
    private final NativeConnection connection;
    /**
     * The view of the channel data handed out, made on first use: reading a header caches the
     * event's decoded texts (two slots per header), which a call that never asks should not hold.
     */
    private volatile EslEvent channelData;
    private final String uuid;
    private final boolean fullControl;
    private final String socketMode;
    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private final CompletableFuture<EslEvent> hangup = new CompletableFuture<>();
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final AtomicBoolean finished = new AtomicBoolean();
    /**
     * {@code hangup} and {@code ended} as handed out, completed on the completion executor; made
     * when first asked for (guarded by {@code this}), as most handlers never ask.
     */
    private CompletableFuture<EslEvent> hangupOnExecutor;
    private CompletableFuture<Void> endedOnExecutor;

    EslSession(EslOutboundServer server, NativeConnection connection) {
        this.server = server;
        this.connection = connection;
        // A throwaway view: what the session reads itself is kept, its decoded texts are not.
        EslEvent data = channelDataOf(connection);
        this.uuid = data.uniqueId();
        this.fullControl = "full".equalsIgnoreCase(data.header("Control"));
        this.socketMode = sharedSocketMode(data.header("Socket-Mode"));
        if (uuid != null) {
            subscriptions.add(server.router().onChannel(uuid, event -> {
                String name = event.eventName();
                if ("CHANNEL_HANGUP".equals(name) || "CHANNEL_HANGUP_COMPLETE".equals(name)) {
                    hangup.complete(event);
                }
            }));
        }
    }

    private static EslEvent channelDataOf(NativeConnection connection) {
        EslEvent data = connection.channelData();
        return data == null ? EslEvent.builder().build() : data;
    }

    /** The mode as one of two shared strings when it is one of FreeSWITCH's two. */
    private static String sharedSocketMode(String mode) {
        return "async".equals(mode) ? "async" : "static".equals(mode) ? "static" : mode;
    }

    /** Subscribes to the channel's events and asks for linger (with {@code full}); before the handler. */
    CompletableFuture<Void> prepare() {
        ServerOptions options = server.options();
        CompletableFuture<Void> subscribed = myevents();
        if (!hasFullControl() || options.linger().isZero()) {
            return subscribed;
        }
        return subscribed.thenCompose(done -> linger(options.linger()));
    }

    /** Runs a command through the {@link ServerOptions#commandObserver() command observer}, if any. */
    private <T> CompletableFuture<T> observed(String name, Supplier<CompletableFuture<T>> command) {
        return Futures.observed(server.options().commandObserver(), name, command);
    }

    /** The connection has ended and its last events were dispatched (called by the server's reader). */
    void connectionEnded() {
        ended.complete(null);
        hangup.complete(null);
    }

    /** Marks the session ended; true the first time only. */
    boolean end() {
        return finished.compareAndSet(false, true);
    }

    /** Whether the channel may still be up: no hang-up seen and the socket open. */
    boolean isChannelUp() {
        return !hangup.isDone() && connection.isConnected();
    }

    // ---- channel -----------------------------------------------------------------------------------

    /**
     * The channel as FreeSWITCH described it in the {@code connect} reply (every {@code
     * variable_*} included).
     *
     * @return the channel data
     */
    public EslEvent channelData() {
        EslEvent data = channelData;
        if (data == null) {
            // Racing first calls may each make a view; either reads the same bytes.
            data = channelDataOf(connection);
            channelData = data;
        }
        return data;
    }

    /**
     * The channel's UUID.
     *
     * @return the {@code Unique-ID}
     */
    public String uuid() {
        return uuid;
    }

    /**
     * A channel variable as it was when the call reached the socket.
     *
     * @param name the name without {@code variable_}
     * @return the value, or null
     */
    public String variable(String name) {
        return channelData().variable(name);
    }

    /**
     * Whether the dialplan gave the socket {@code full} control (the connect reply says {@code
     * Control: full}); without it FreeSWITCH refuses {@code linger}, {@code api}, {@code event}
     * and others.
     *
     * @return true with {@code full}
     */
    public boolean hasFullControl() {
        return fullControl;
    }

    /**
     * Whether the dialplan said {@code async}: {@code async} or {@code static}.
     *
     * @return the socket mode from the connect reply
     */
    public String socketMode() {
        return socketMode;
    }

    // ---- applications ----------------------------------------------------------------------------

    /**
     * Runs a dialplan application on the channel and completes with its CHANNEL_EXECUTE_COMPLETE.
     *
     * @param app the application, e.g. {@code "playback"}
     * @param arg its argument, or null
     * @return the CHANNEL_EXECUTE_COMPLETE event ({@code Application-Response} holds the result)
     */
    public CompletableFuture<EslEvent> execute(String app, String arg) {
        return observed("execute " + app, () -> ChannelControl.execute(connection, null, app, arg, LONGEST_APPLICATION));
    }

    /**
     * Blocking {@link #execute(String, String)}.
     *
     * @param app the application
     * @param arg its argument, or null
     * @param timeout how long to wait for completion
     * @return the CHANNEL_EXECUTE_COMPLETE event
     */
    public EslEvent execute(String app, String arg, Duration timeout) {
        return Futures.await(observed("execute " + app, () -> ChannelControl.execute(connection, null, app, arg, timeout)),
                timeout, app);
    }

    /**
     * Answers the call.
     *
     * @return completes when {@code answer} finished
     */
    public CompletableFuture<EslEvent> answer() {
        return execute("answer", null);
    }

    /**
     * Blocking {@link #answer()}.
     *
     * @param timeout how long to wait
     * @return the CHANNEL_EXECUTE_COMPLETE event
     */
    public EslEvent answer(Duration timeout) {
        return execute("answer", null, timeout);
    }

    /**
     * Plays a file or tone stream to the caller.
     *
     * @param file e.g. {@code "ivr/ivr-welcome.wav"}
     * @return completes when playback ended ({@code Application-Response: FILE PLAYED} or an error)
     */
    public CompletableFuture<EslEvent> playback(String file) {
        return execute("playback", Objects.requireNonNull(file, "file"));
    }

    /**
     * Blocking {@link #playback(String)}.
     *
     * @param file the file
     * @param timeout how long to wait
     * @return the CHANNEL_EXECUTE_COMPLETE event
     */
    public EslEvent playback(String file, Duration timeout) {
        return execute("playback", Objects.requireNonNull(file, "file"), timeout);
    }

    /**
     * Bridges the call with the typed bridge request; with its defaults the channel stays up when
     * the bridge fails (see {@link BridgeRequest}).
     *
     * @param request the bridge
     * @return the outcome, when the bridge failed or, if answered, when the bridged call ended
     */
    public CompletableFuture<BridgeResult> bridge(BridgeRequest request) {
        return bridgeWithin(request, LONGEST_APPLICATION);
    }

    /**
     * Blocking {@link #bridge(BridgeRequest)}.
     *
     * @param request the bridge
     * @param timeout the longest wait, including an answered call's duration
     * @return the outcome
     */
    public BridgeResult bridge(BridgeRequest request, Duration timeout) {
        return Futures.await(bridgeWithin(request, timeout), timeout, "bridge");
    }

    private CompletableFuture<BridgeResult> bridgeWithin(BridgeRequest request, Duration limit) {
        Objects.requireNonNull(request, "request");
        return Futures.completeOn(observed("execute bridge", () -> ChannelControl.bridge(connection, server.router(),
                server.watchdog(), null, uuid, request, server.options().watchdogMargin(), limit)),
                server.options().completionExecutor());
    }

    /**
     * Hangs up the call with a cause.
     *
     * @param cause e.g. {@link HangupCause#NORMAL_CLEARING}
     * @return completes when FreeSWITCH accepted the command
     */
    public CompletableFuture<Void> hangup(HangupCause cause) {
        Objects.requireNonNull(cause, "cause");
        EslEvent message = EslEvent.builder()
                .header("call-command", "hangup")
                .header("hangup-cause", cause.name())
                .build();
        return observed("hangup", () -> connection.sendMsg(null, message, 0).thenApply(EslSession::requireOk));
    }

    /**
     * Keeps the socket open after hang-up, so the call's last events arrive ({@code linger}).
     * Needs {@code full}.
     *
     * @param time how long, rounded up to whole seconds
     * @return completes when FreeSWITCH accepted
     */
    public CompletableFuture<Void> linger(Duration time) {
        return observed("linger", () -> requireFull("linger").thenCompose(ok -> connection.linger(lingerSeconds(time)))
                .thenApply(reply -> (Void) null));
    }

    /**
     * Runs an API command on this socket ({@code api}). Needs {@code full}.
     *
     * @param command the API command and arguments
     * @return the output
     */
    public CompletableFuture<String> api(String command) {
        return observed("api " + EslClient.verb(command),
                () -> requireFull("api").thenCompose(ok -> connection.api(command, 0)).thenApply(EslEvent::body));
    }

    /**
     * Sets a channel variable ({@code set name=value}) and completes when it is set.
     *
     * @param name the variable, e.g. {@code "hangup_after_bridge"}
     * @param value its value
     * @return the CHANNEL_EXECUTE_COMPLETE event
     */
    public CompletableFuture<EslEvent> set(String name, String value) {
        return execute("set", assignment(name, value));
    }

    /**
     * Blocking {@link #set(String, String)}.
     *
     * @param name the variable
     * @param value its value
     * @param timeout how long to wait
     * @return the CHANNEL_EXECUTE_COMPLETE event
     */
    public EslEvent set(String name, String value, Duration timeout) {
        return execute("set", assignment(name, value), timeout);
    }

    private static String assignment(String name, String value) {
        Objects.requireNonNull(value, "value");
        if (Objects.requireNonNull(name, "name").isEmpty() || name.indexOf('=') >= 0) {
            throw new IllegalArgumentException("not a variable name: '" + name + "'");
        }
        return name + "=" + value;
    }

    /**
     * Subscribes this socket to its channel's events ({@code myevents}, in the server's {@link
     * ServerOptions#eventFormat() format}). The session does it before the handler runs; again
     * after {@code noevents} or the like.
     *
     * @return completes when FreeSWITCH accepted
     */
    public CompletableFuture<Void> myevents() {
        String format = server.options().eventFormat().wireName();
        return observed("myevents", () -> connection.myEvents(format, null)).thenApply(reply -> (Void) null);
    }

    /**
     * Cancels {@link #linger(Duration)}: the socket closes as soon as the channel hangs up
     * ({@code nolinger}).
     *
     * @return completes when FreeSWITCH accepted
     */
    public CompletableFuture<Void> nolinger() {
        return observed("nolinger", () -> connection.noLinger()).thenApply(reply -> (Void) null);
    }

    /**
     * Asks FreeSWITCH to continue the dialplan, instead of hanging up, once this socket closes
     * ({@code resume}).
     *
     * @return completes when FreeSWITCH accepted
     */
    public CompletableFuture<Void> resume() {
        return observed("resume", () -> connection.resume()).thenApply(reply -> (Void) null);
    }

    private static int lingerSeconds(Duration time) {
        return (int) Math.min(Integer.MAX_VALUE, Futures.wholeSecondsUp(time));
    }

    private CompletableFuture<Void> requireFull(String command) {
        if (hasFullControl()) {
            return CompletableFuture.completedFuture(null);
        }
        return Futures.failed(new EslException(EslException.Kind.COMMAND_FAILED, "FreeSWITCH refuses '" + command
                + "' on an outbound socket without 'full': use <action application=\"socket\" data=\"host:port async full\"/>"));
    }

    private static Void requireOk(EslEvent reply) {
        String text = reply.header("Reply-Text");
        if (text != null && text.startsWith("-ERR")) {
            throw new EslException(EslException.Kind.COMMAND_FAILED, text);
        }
        return null;
    }

    // ---- events ----------------------------------------------------------------------------------------

    /**
     * Listens to this call's events, in order.
     *
     * @param listener the listener
     * @return the registration; it ends with the session at the latest
     */
    public Subscription onEvent(EventListener listener) {
        Subscription subscription = server.router().onChannel(uuid, listener);
        subscriptions.add(subscription);
        return subscription;
    }

    /**
     * Completes at the channel's CHANNEL_HANGUP (or HANGUP_COMPLETE), or with null when the
     * session ended first.
     *
     * @return the hang-up event or null
     */
    public synchronized CompletableFuture<EslEvent> hangupEvent() {
        if (hangupOnExecutor == null) {
            hangupOnExecutor = Futures.completeOn(hangup, server.options().completionExecutor());
        }
        return hangupOnExecutor;
    }

    /**
     * Completes when the socket has closed (after linger).
     *
     * @return the end of the session
     */
    public synchronized CompletableFuture<Void> ended() {
        if (endedOnExecutor == null) {
            endedOnExecutor = Futures.completeOn(ended, server.options().completionExecutor());
        }
        return endedOnExecutor;
    }

    /** Closes the socket and stops this session's listeners. Idempotent. */
    @Override
    public void close() {
        for (Subscription subscription : subscriptions) {
            subscription.close();
        }
        connection.close();
    }

    @Override
    public String toString() {
        return "EslSession{" + uuid + ", " + socketMode() + (hasFullControl() ? " full" : "") + "}";
    }
}
