package org.esl4j.internal;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

import org.esl4j.EslEvent;

/**
 * One Event Socket connection in the native engine: an inbound client (FreeSWITCH's port 8021)
 * or an outbound session accepted by a {@link NativeServer}. Not API: the building block of
 * {@code org.esl4j}'s client and server and of the compat {@code ESLconnection}.
 *
 * <p>Thread-safe. Commands return {@link CompletableFuture}s that are completed on the
 * {@link Settings#executor(Executor) executor}, never on an engine thread. Replies come back as
 * {@link EslEvent}s holding the reply envelope: {@code Content-Type: command/reply} with
 * {@code Reply-Text} (and, e.g., {@code Job-UUID}), or {@code Content-Type: api/response} with
 * the output as body. A command the server answers with {@code -ERR} completes normally for
 * {@link #sendRecv}, {@link #api}, {@link #bgapi}, {@link #sendEvent} and {@link #sendMsg}
 * (check {@code Reply-Text}), and exceptionally ({@code COMMAND_FAILED}) for the others.
 *
 * <p>Events are pulled with {@link #poll(int, long)}, which returns what is queued in
 * cache-sized batches. Items that are not events are envelopes with a {@code Content-Type} header:
 * {@code text/disconnect-notice} (with {@code Content-Disposition: linger|disconnect}),
 * {@code log/data}, {@code esl4j/disconnected}, {@code esl4j/reconnected}, or the content type
 * of an unknown frame. Plain, JSON and XML events all arrive decoded, with multi-value headers as
 * repeated names.
 */
public final class NativeConnection extends NativeHandle {
    /** {@code connectionCommand} operation codes. Keep in sync with {@code op} in connection.rs. */
    static final int OP_RAW = 0;
    static final int OP_API = 1;
    static final int OP_BGAPI = 2;
    static final int OP_BGAPI_JOB = 3;
    static final int OP_EXECUTE = 4;
    static final int OP_SUBSCRIBE = 5;
    static final int OP_UNSUBSCRIBE = 6;
    static final int OP_NOEVENTS = 7;
    static final int OP_MYEVENTS = 8;
    static final int OP_FILTER = 9;
    static final int OP_FILTER_DELETE = 10;
    static final int OP_LINGER = 11;
    static final int OP_NOLINGER = 12;
    static final int OP_RESUME = 13;
    static final int OP_DIVERT_EVENTS = 14;
    static final int OP_LOG = 15;
    static final int OP_NOLOG = 16;
    static final int OP_SENDEVENT = 17;
    static final int OP_SENDMSG = 18;
    /** Execute flags. Keep in sync with {@code EXECUTE_*} in connection.rs. */
    static final long EXECUTE_EVENT_LOCK = 1;
    static final long EXECUTE_ASYNC = 2;
    static final long EXECUTE_WAIT = 4;

    private static final Lifecycle LIFECYCLE = new Lifecycle() {
        @Override
        public void shutdown(long handle) {
            Native.connectionClose(handle);
        }

        @Override
        public void destroy(long handle) {
            Native.connectionDestroy(handle);
        }
    };

    private static final NativeCompletion.Decoder<EslEvent> SINGLE = new NativeCompletion.Decoder<EslEvent>() {
        @Override
        public EslEvent decode(byte[] payload) {
            return FrameCodec.decodeSingle(payload);
        }
    };

    private static final NativeCompletion.Decoder<List<EslEvent>> BATCH =
            new NativeCompletion.Decoder<List<EslEvent>>() {
                @Override
                public List<EslEvent> decode(byte[] payload) {
                    return FrameCodec.decodeBatch(payload);
                }
            };

    /** Connection settings; zero or negative values mean the engine's defaults. */
    public static final class Settings {
        long connectTimeoutMs;
        long commandTimeoutMs;
        int queueCapacity;
        boolean blockOnOverflow;
        long reconnectInitialDelayMs;
        long reconnectMaxDelayMs;
        int reconnectMaxAttempts = -1;
        Executor executor = CompletionThreads.shared();

        /**
         * Deadline for TCP connect and for authentication (default 5 s / 10 s).
         *
         * @param millis the deadline
         * @return this
         */
        public Settings connectTimeoutMs(long millis) {
            connectTimeoutMs = millis;
            return this;
        }

        /**
         * Default deadline for a command's reply (default 30 s).
         *
         * @param millis the deadline
         * @return this
         */
        public Settings commandTimeoutMs(long millis) {
            commandTimeoutMs = millis;
            return this;
        }

        /**
         * Capacity of the event queue (default 65,536).
         *
         * @param capacity the most queued items
         * @return this
         */
        public Settings queueCapacity(int capacity) {
            queueCapacity = capacity;
            return this;
        }

        /**
         * What happens when the event queue is full: true stops reading the socket (TCP pushes
         * back on FreeSWITCH), false (default) drops the oldest droppable event and counts it.
         * Blocking also caps the socket's receive buffer (256 KiB), because a command's reply
         * waits behind every event buffered ahead of it until the consumer has taken them.
         *
         * @param block true to block
         * @return this
         */
        public Settings blockOnOverflow(boolean block) {
            blockOnOverflow = block;
            return this;
        }

        /**
         * Reconnect after an unexpected loss (default: never; the connection ends). The engine
         * waits {@code initialDelayMs} before the first attempt, doubling up to {@code
         * maxDelayMs}; an attempt succeeds once the subscriptions and filters were sent again and
         * accepted. {@link #poll} then carries an {@code esl4j/disconnected} item (header {@code
         * Disconnect-Reason}) at the loss and an {@code esl4j/reconnected} item (headers {@code
         * Reconnect-Attempts}, {@code Reconnect-Gap-Micros}) when it is back. {@link #close()}
         * ends a reconnect at once.
         *
         * @param initialDelayMs the wait before the first attempt
         * @param maxDelayMs the longest wait between attempts
         * @param maxAttempts attempts before giving up: 0 for no limit, negative for no reconnect
         * @return this
         */
        public Settings reconnect(long initialDelayMs, long maxDelayMs, int maxAttempts) {
            reconnectInitialDelayMs = initialDelayMs;
            reconnectMaxDelayMs = maxDelayMs;
            reconnectMaxAttempts = maxAttempts;
            return this;
        }

        /**
         * Where futures are completed (default: the common fork-join pool).
         *
         * @param executor the executor
         * @return this
         */
        public Settings executor(Executor executor) {
            this.executor = executor;
            return this;
        }
    }

    /** Event queue counters. */
    public static final class Stats {
        /** Items the reader offered to the queue. */
        public final long received;
        /** Items dropped because the queue was full. */
        public final long dropped;
        /** Times the reader waited for room. */
        public final long readerWaits;
        /** Items queued now. */
        public final long queued;
        /** Most items ever queued at once. */
        public final long highWater;

        Stats(long[] values) {
            received = values[0];
            dropped = values[1];
            readerWaits = values[2];
            queued = values[3];
            highWater = values[4];
        }
    }

    private final Executor executor;

    private NativeConnection(long handle, Executor executor) {
        super(handle, LIFECYCLE);
        this.executor = executor;
    }

    /**
     * Connects to FreeSWITCH's event socket and authenticates, blocking up to the connect
     * timeout.
     *
     * @param host host name or address
     * @param port the port, usually 8021
     * @param user {@code user@domain} for {@code userauth}, or null for {@code auth}
     * @param password the password
     * @param settings the settings
     * @return the connected connection
     * @throws org.esl4j.EslException on refusal ({@code REFUSED}), timeout, bad credentials
     *     ({@link org.esl4j.EslAuthException}) or ACL rejection
     */
    public static NativeConnection connect(String host, int port, String user, String password, Settings settings) {
        Native.ensureLoaded();
        String address = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]:" + port : host + ":" + port;
        long handle = Native.connectionConnect(utf8(address), utf8(user), utf8(password), settings.connectTimeoutMs,
                settings.commandTimeoutMs, settings.queueCapacity, settings.blockOnOverflow,
                settings.reconnectInitialDelayMs, settings.reconnectMaxDelayMs, settings.reconnectMaxAttempts);
        return new NativeConnection(handle, settings.executor);
    }

    /** Wraps a session handle from {@link NativeServer#accept(long)}. */
    static NativeConnection adopt(long handle, Executor executor) {
        return new NativeConnection(handle, executor);
    }

    /**
     * The UTF-8 bytes of a text argument for a native call.
     *
     * @param text the text, or null
     * @return its UTF-8 bytes, or null
     */
    public static byte[] utf8(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }

    private <T> CompletableFuture<T> command(int op, String a, byte[] b, String c, long number, long timeoutMs,
            NativeCompletion.Decoder<T> decoder) {
        NativeCompletion<T> completion = new NativeCompletion<>(executor, decoder);
        long handle;
        try {
            handle = acquire();
        } catch (RuntimeException e) {
            completion.failNow(e);
            return completion.future();
        }
        try {
            Native.connectionCommand(handle, op, utf8(a), b, utf8(c), number, timeoutMs, completion);
        } catch (RuntimeException e) {
            // Refused before sending (e.g. a line break in the command): fail the future.
            completion.failNow(e);
        } finally {
            release();
        }
        return completion.future();
    }

    private CompletableFuture<EslEvent> single(int op, String a, String b, long number) {
        return command(op, a, utf8(b), null, number, 0, SINGLE);
    }

    /**
     * Sends a raw command (libesl {@code sendRecv}): one command line, optionally followed by
     * {@code Name: value} lines; line breaks anywhere else are refused.
     *
     * @param command the command, e.g. {@code "api status"} or {@code "myevents"}
     * @param timeoutMs reply deadline, 0 for the default
     * @return the reply envelope
     */
    public CompletableFuture<EslEvent> sendRecv(String command, long timeoutMs) {
        return command(OP_RAW, command, null, null, 0, timeoutMs, SINGLE);
    }

    /**
     * {@code api <command>}: the output is the reply's body (it may start with {@code -ERR}).
     *
     * @param commandAndArgs e.g. {@code "status"} or {@code "originate ..."}
     * @param timeoutMs reply deadline, 0 for the default
     * @return the {@code api/response} envelope, or a {@code command/reply} for
     *     {@code -ERR permission denied}
     */
    public CompletableFuture<EslEvent> api(String commandAndArgs, long timeoutMs) {
        return command(OP_API, commandAndArgs, null, null, 0, timeoutMs, SINGLE);
    }

    /**
     * {@code bgapi <command>}; the {@code BACKGROUND_JOB} event arrives through {@link #poll}
     * when subscribed.
     *
     * @param commandAndArgs the API command and arguments
     * @param jobUuid the {@code Job-UUID} to use, or null to let the server choose
     * @param timeoutMs reply deadline, 0 for the default
     * @return the {@code +OK Job-UUID: ...} reply
     */
    public CompletableFuture<EslEvent> bgapi(String commandAndArgs, String jobUuid, long timeoutMs) {
        return command(OP_BGAPI, commandAndArgs, utf8(jobUuid), null, 0, timeoutMs, SINGLE);
    }

    /**
     * {@code bgapi} with a client-chosen job id, completing only when the job's
     * {@code BACKGROUND_JOB} event arrived (the connection must be subscribed to it or ALL).
     *
     * @param commandAndArgs the API command and arguments
     * @param timeoutMs deadline for the job's result, 0 for the command timeout
     * @return [the reply, the BACKGROUND_JOB event whose body is the output]
     */
    public CompletableFuture<List<EslEvent>> bgapiJob(String commandAndArgs, long timeoutMs) {
        return command(OP_BGAPI_JOB, commandAndArgs, null, null, 0, timeoutMs, BATCH);
    }

    /**
     * Executes a dialplan application with {@code sendmsg}, tagged with a fresh
     * {@code Event-UUID}. Long or multi-line arguments are sent as a body, never truncated.
     *
     * @param app the application, e.g. {@code "playback"}
     * @param arg its argument, or null
     * @param uuid target channel, or null for an outbound session's own channel
     * @param eventLock {@code event-lock: true}
     * @param async {@code async: true}
     * @param waitForCompletion complete only at the matching {@code CHANNEL_EXECUTE_COMPLETE}
     *     (requires a subscription to it, e.g. {@code myevents})
     * @param timeoutMs deadline for reply and completion, 0 for the default
     * @return [the reply with an added {@code Event-UUID} header, the completion event when
     *     waited for]
     */
    public CompletableFuture<List<EslEvent>> execute(String app, String arg, String uuid, boolean eventLock,
            boolean async, boolean waitForCompletion, long timeoutMs) {
        long flags = (eventLock ? EXECUTE_EVENT_LOCK : 0) | (async ? EXECUTE_ASYNC : 0)
                | (waitForCompletion ? EXECUTE_WAIT : 0);
        return command(OP_EXECUTE, app, utf8(arg), uuid, flags, timeoutMs, BATCH);
    }

    /**
     * {@code event <format> <names>}; replayed after a reconnect.
     *
     * @param format {@code plain}, {@code json} or {@code xml}
     * @param names space-separated event names, {@code CUSTOM sub1 sub2} last
     * @return the reply
     */
    public CompletableFuture<EslEvent> subscribe(String format, String names) {
        return single(OP_SUBSCRIBE, format, names, 0);
    }

    /**
     * {@code nixevent <names>}.
     *
     * @param names space-separated event names
     * @return the reply
     */
    public CompletableFuture<EslEvent> unsubscribe(String names) {
        return single(OP_UNSUBSCRIBE, null, names, 0);
    }

    /**
     * {@code noevents}.
     *
     * @return the reply
     */
    public CompletableFuture<EslEvent> noEvents() {
        return single(OP_NOEVENTS, null, null, 0);
    }

    /**
     * {@code myevents [<uuid>] <format>}.
     *
     * @param format {@code plain}, {@code json} or {@code xml}
     * @param uuid the channel (inbound), or null for an outbound session's own channel
     * @return the reply
     */
    public CompletableFuture<EslEvent> myEvents(String format, String uuid) {
        return single(OP_MYEVENTS, format, uuid, 0);
    }

    /**
     * {@code filter <header> <value>}; replayed after a reconnect.
     *
     * @param header the header name
     * @param value the value ({@code -} prefix: negative; {@code /regex/})
     * @return the reply
     */
    public CompletableFuture<EslEvent> filter(String header, String value) {
        return single(OP_FILTER, header, value, 0);
    }

    /**
     * {@code filter delete <header> [<value>]}, or {@code filter delete all} for a null header.
     *
     * @param header the header name, or null for all
     * @param value the value, or null for every filter on the header
     * @return the reply
     */
    public CompletableFuture<EslEvent> filterDelete(String header, String value) {
        return single(OP_FILTER_DELETE, header, value, 0);
    }

    /**
     * {@code linger [seconds]}.
     *
     * @param seconds seconds to linger, negative to linger until the client exits
     * @return the reply
     */
    public CompletableFuture<EslEvent> linger(int seconds) {
        return single(OP_LINGER, null, null, seconds);
    }

    /**
     * {@code nolinger}.
     *
     * @return the reply
     */
    public CompletableFuture<EslEvent> noLinger() {
        return single(OP_NOLINGER, null, null, 0);
    }

    /**
     * {@code resume}.
     *
     * @return the reply
     */
    public CompletableFuture<EslEvent> resume() {
        return single(OP_RESUME, null, null, 0);
    }

    /**
     * {@code divert_events on|off}.
     *
     * @param on true for on
     * @return the reply
     */
    public CompletableFuture<EslEvent> divertEvents(boolean on) {
        return single(OP_DIVERT_EVENTS, null, null, on ? 1 : 0);
    }

    /**
     * {@code log <level>}.
     *
     * @param level a level name or 0-7
     * @return the reply
     */
    public CompletableFuture<EslEvent> log(String level) {
        return single(OP_LOG, level, null, 0);
    }

    /**
     * {@code nolog}.
     *
     * @return the reply
     */
    public CompletableFuture<EslEvent> noLog() {
        return single(OP_NOLOG, null, null, 0);
    }

    /**
     * {@code sendevent <name>} with the event's headers (sent raw) and body.
     *
     * @param name the event name
     * @param event headers and body
     * @param timeoutMs reply deadline, 0 for the default
     * @return the reply ({@code +OK <Event-UUID>})
     */
    public CompletableFuture<EslEvent> sendEvent(String name, EslEvent event, long timeoutMs) {
        return command(OP_SENDEVENT, name, FrameCodec.encodeSingle(event), null, 0, timeoutMs, SINGLE);
    }

    /**
     * {@code sendmsg [<uuid>]} built from the message's headers ({@code call-command},
     * {@code execute-app-name}, {@code execute-app-arg} or body, and any others).
     *
     * @param uuid target channel, or null for an outbound session's own channel
     * @param message the message headers and body
     * @param timeoutMs reply deadline, 0 for the default
     * @return the reply
     */
    public CompletableFuture<EslEvent> sendMsg(String uuid, EslEvent message, long timeoutMs) {
        return command(OP_SENDMSG, uuid, FrameCodec.encodeSingle(message), null, 0, timeoutMs, SINGLE);
    }

    /**
     * Takes queued events (up to {@code max}, and up to about 192 KiB of frames so the batch
     * stays in the CPU cache while it is copied and decoded), waiting up to {@code timeoutMs}
     * for the first.
     * Blocks the calling thread, which must not be an esl4j engine thread.
     *
     * @param max the most items to return
     * @param timeoutMs how long to wait when nothing is queued; 0 returns at once
     * @return the items (empty on timeout), or null once the connection has ended and everything
     *     queued has been taken
     */
    public List<EslEvent> poll(int max, long timeoutMs) {
        byte[] batch = pollRaw(max, timeoutMs);
        if (batch == null) {
            return null;
        }
        List<EslEvent> items = FrameCodec.decodeBatch(batch);
        return items.isEmpty() ? Collections.<EslEvent>emptyList() : items;
    }

    /**
     * Like {@link #poll(int, long)} but returns the undecoded batch, so one thread can keep
     * draining the engine while another decodes ({@link FrameCodec#decodeBatch(byte[])}): the
     * two halves of the work then run on two cores.
     *
     * @param max the most items to return
     * @param timeoutMs how long to wait when nothing is queued; 0 returns at once
     * @return the batch (holding 0 items on timeout), or null once the connection has ended and
     *     everything queued has been taken
     */
    public byte[] pollRaw(int max, long timeoutMs) {
        long handle = acquire();
        try {
            return Native.connectionPoll(handle, max, timeoutMs);
        } finally {
            release();
        }
    }

    /**
     * The channel data of an outbound session (the {@code CHANNEL_DATA} headers of the
     * {@code connect} reply, decoded).
     *
     * @return the channel data, or null for an inbound connection
     */
    public EslEvent channelData() {
        long handle = acquire();
        try {
            byte[] batch = Native.connectionChannelData(handle);
            return batch == null ? null : FrameCodec.decodeSingle(batch);
        } finally {
            release();
        }
    }

    /**
     * Whether the socket is up (false after close, after the server closed it, and while
     * reconnecting).
     *
     * @return true when connected
     */
    public boolean isConnected() {
        if (isClosed()) {
            return false;
        }
        long handle;
        try {
            handle = acquire();
        } catch (RuntimeException e) {
            return false;
        }
        try {
            return Native.connectionIsConnected(handle);
        } finally {
            release();
        }
    }

    /**
     * Event queue counters.
     *
     * @return a snapshot
     */
    public Stats stats() {
        long handle = acquire();
        try {
            return new Stats(Native.connectionStats(handle));
        } finally {
            release();
        }
    }

    /**
     * The executor futures are completed on.
     *
     * @return the executor
     */
    public Executor executor() {
        return executor;
    }
}
