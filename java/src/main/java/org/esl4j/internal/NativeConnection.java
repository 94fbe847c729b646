package org.esl4j.internal;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.esl4j.EslEvent;
import org.esl4j.EslException;
import org.esl4j.EslTimeoutException;

/**
 * One Event Socket connection in the native engine: an inbound client (FreeSWITCH's port 8021)
 * or an outbound session accepted by a {@link NativeServer}. Not API: the building block of
 * {@code org.esl4j}'s client and server and of the compat {@code ESLconnection}.
 *
 * <p>Thread-safe. Commands return {@link CompletableFuture}s that are completed on the
 * {@link Settings#executor(Executor) executor}, never on an engine thread. Their {@code
 * ...Blocking} forms run on the calling thread instead: the command is written from it and the
 * engine's reader hands the reply straight back to it, so a blocking call pays no thread hop
 * but the reader's. They are not interruptible once sent (each ends at its reply, its deadline or
 * the connection's end), refuse to send from an interrupted thread, and on a virtual thread wait
 * on the future form, since a native wait would pin the carrier thread. Replies come back as
 * {@link EslEvent}s holding the reply envelope: {@code Content-Type: command/reply} with
 * {@code Reply-Text} (and, e.g., {@code Job-UUID}), or {@code Content-Type: api/response} with
 * the output as body. A command the server answers with {@code -ERR} completes normally for
 * {@link #sendRecv}, {@link #api}, {@link #bgapi}, {@link #sendEvent} and {@link #sendMsg}
 * (check {@code Reply-Text}), and exceptionally ({@code COMMAND_FAILED}) for the others.
 *
 * <p>Events are taken through an {@link #inbox(int)}, in cache-sized batches whose items each
 * carry a kind ({@link FrameCodec#KIND_EVENT}, {@code KIND_LOG}, {@code KIND_DISCONNECT_NOTICE},
 * {@code KIND_DISCONNECTED}, {@code KIND_RECONNECTED}, {@code KIND_UNKNOWN}, {@code KIND_OVERLOADED}:
 * the event queue reached its hard cap and the connection was closed, with headers {@code
 * Overload-Dropped}, {@code Overload-Critical-Dropped}, {@code Overload-Queued}). Log lines, disconnect
 * notices and unknown frames keep the headers the server sent. Plain, JSON and XML events all read
 * decoded (plain values when read), with multi-value headers as repeated names.
 */
public final class NativeConnection extends NativeHandle {
    /** The engine's reply deadline when Settings leave it at 0. */
    private static final long ENGINE_DEFAULT_TIMEOUT_MS = 30_000;
    /** Extra wait for a future beyond the engine's own deadline, against a lost completion. */
    private static final long LOST_COMPLETION_MARGIN_MS = 5_000;

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
                    return FrameCodec.decodeBatch(payload).items();
                }
            };

    /** Connection settings; zero or negative values mean the engine's defaults. */
    public static final class Settings {
        long connectTimeoutMs;
        long commandTimeoutMs;
        int queueCapacity;
        boolean blockOnOverflow;
        long spillMaxEvents;
        long spillMaxBytes;
        long reconnectInitialDelayMs;
        long reconnectMaxDelayMs;
        int reconnectMaxAttempts = -1;
        Executor executor = CompletionThreads.shared();
        String serverName;

        /**
         * The name the engine's log lines give this connection ({@code server=...}), or null.
         *
         * @param name the name
         * @return this
         */
        public Settings serverName(String name) {
            serverName = name;
            return this;
        }

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
         * Soft bound of the event queue, where the overflow policy applies (default 16,384).
         *
         * @param capacity the most queued items before blocking or dropping
         * @return this
         */
        public Settings queueCapacity(int capacity) {
            queueCapacity = capacity;
            return this;
        }

        /**
         * Hard cap of the event queue, soft bound and spill together (default 100,000 items and
         * 256 MiB). Past the soft bound the queue still takes events while a command awaits its
         * reply, and call-ending events; reaching the cap overloads the connection: pending
         * commands fail with {@code OVERLOADED}, an overload item ({@link FrameCodec#KIND_OVERLOADED}) is queued and
         * the socket is closed (then reconnected if a policy allows).
         *
         * @param maxEvents the most queued items, 0 for the default
         * @param maxBytes the most queued frame bytes, 0 for the default
         * @return this
         */
        public Settings spill(long maxEvents, long maxBytes) {
            spillMaxEvents = maxEvents;
            spillMaxBytes = maxBytes;
            return this;
        }

        /**
         * What happens at the queue's soft bound while no command awaits its reply: true stops
         * reading the socket (TCP pushes back on FreeSWITCH), false (default) drops the oldest
         * droppable event and counts it. Call-ending events are never dropped below the hard cap
         * (see {@link #spill(long, long)}), and a command's reply is always read: while one is
         * awaited the reader reads on. Blocking also caps the socket's receive buffer (256 KiB).
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
         * accepted. The {@link #inbox} then carries a {@link FrameCodec#KIND_DISCONNECTED} item
         * (header {@code Disconnect-Reason}) at the loss and a {@link FrameCodec#KIND_RECONNECTED}
         * item (headers {@code Reconnect-Attempts}, {@code Reconnect-Gap-Micros}) when it is back. {@link #close()}
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
        /** Ordinary items dropped because the queue was full (or at an overload). */
        public final long dropped;
        /** Times the reader waited for room. */
        public final long readerWaits;
        /** Items queued now. */
        public final long queued;
        /** Most items ever queued at once. */
        public final long highWater;
        /** Call-ending events dropped: only an overload drops them. */
        public final long criticalDropped;
        /** Items queued past the soft bound. */
        public final long spilled;
        /** Most items ever queued past the soft bound. */
        public final long spillHighWater;
        /** Times the queue reached its hard cap. */
        public final long overloads;
        /** Replies dropped because no command awaited them or they did not fit it. */
        public final long unsolicitedReplies;
        /** Frame bytes queued now. */
        public final long queuedBytes;

        Stats(long[] values) {
            received = values[0];
            dropped = values[1];
            readerWaits = values[2];
            queued = values[3];
            highWater = values[4];
            criticalDropped = values[5];
            spilled = values[6];
            spillHighWater = values[7];
            overloads = values[8];
            unsolicitedReplies = values[9];
            queuedBytes = values[10];
        }
    }

    private final Executor executor;
    /** The engine's deadline for a command given no timeout of its own. */
    private final long commandTimeoutMs;
    /**
     * An outbound session's channel data as the engine handed it over (a one-frame batch), the
     * only copy: the engine keeps none. Set before the session is handed out; null for inbound.
     */
    private volatile byte[] channelData;

    private NativeConnection(long handle, Executor executor, long commandTimeoutMs) {
        super(handle, LIFECYCLE);
        this.executor = executor;
        this.commandTimeoutMs = commandTimeoutMs > 0 ? commandTimeoutMs : ENGINE_DEFAULT_TIMEOUT_MS;
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
        long handle = Native.connectionConnect(utf8(address), utf8(user), utf8(password), utf8(settings.serverName),
                settings.connectTimeoutMs,
                settings.commandTimeoutMs, settings.queueCapacity, settings.blockOnOverflow, settings.spillMaxEvents,
                settings.spillMaxBytes, settings.reconnectInitialDelayMs, settings.reconnectMaxDelayMs, settings.reconnectMaxAttempts);
        return new NativeConnection(handle, settings.executor, settings.commandTimeoutMs);
    }

    /**
     * Takes over a socket that FreeSWITCH's {@code socket} application connected to an accept loop
     * of the caller's own, by its descriptor (libesl's {@code esl_attach_handle}): the engine
     * duplicates the descriptor (the caller may close its own), sends {@code connect} and starts
     * an outbound session on it, blocking up to the handshake deadline. Unix only.
     *
     * @param fd a connected TCP socket's descriptor
     * @param handshakeTimeoutMs deadline for the {@code connect} reply, 0 for the default (5 s)
     * @param settings the connection settings (command timeout, queue, executor)
     * @return the session, whose {@link #channelData()} holds the connect reply
     * @throws org.esl4j.EslException for a descriptor that is not a connected TCP socket
     *     ({@code INVALID_COMMAND}), a peer that does not answer {@code connect} in time, or a
     *     platform without descriptors ({@code INVALID_STATE})
     */
    public static NativeConnection adoptDescriptor(int fd, long handshakeTimeoutMs, Settings settings) {
        Native.ensureLoaded();
        long handle = Native.connectionAdoptDescriptor(fd, handshakeTimeoutMs, settings.commandTimeoutMs,
                settings.queueCapacity, settings.blockOnOverflow, settings.spillMaxEvents, settings.spillMaxBytes);
        return adopt(handle, settings);
    }

    /**
     * Wraps a session handle from {@link NativeServer#accept(long)} and takes its channel data
     * from the engine.
     */
    static NativeConnection adopt(long handle, Settings settings) {
        NativeConnection session = new NativeConnection(handle, settings.executor, settings.commandTimeoutMs);
        try {
            session.channelData = Native.connectionChannelData(handle);
        } catch (RuntimeException failed) {
            session.close();
            throw failed;
        }
        return session;
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

    /** One call of a typed command export: a null completion makes it block and return the batch. */
    private interface Invocation {
        byte[] invoke(long handle, NativeCompletion<?> completion);
    }

    private <T> CompletableFuture<T> submit(Invocation invocation, NativeCompletion.Decoder<T> decoder) {
        NativeCompletion<T> completion = new NativeCompletion<>(executor, decoder);
        long handle;
        try {
            handle = acquire();
        } catch (RuntimeException e) {
            completion.failNow(e);
            return completion.future();
        }
        try {
            invocation.invoke(handle, completion);
        } catch (RuntimeException e) {
            // Refused before sending (e.g. a line break in the command): fail the future.
            completion.failNow(e);
        } finally {
            release();
        }
        return completion.future();
    }

    /**
     * Runs a command on the calling thread: the native side writes it from here and its reader
     * hands the reply straight back, with no task, callback or executor in between. Not
     * interruptible once sent (it ends at the reply, at its deadline, or when the connection
     * closes); an interrupted thread does not send. On a virtual thread, which a native wait would
     * pin to its carrier, it waits on the future form instead.
     */
    private <T> T call(Invocation invocation, NativeCompletion.Decoder<T> decoder, long timeoutMs) {
        if (Thread.currentThread().isInterrupted()) {
            throw new EslException(EslException.Kind.INVALID_STATE, "interrupted; the command was not sent");
        }
        if (VirtualThreads.isCurrent()) {
            return await(submit(invocation, decoder), timeoutMs);
        }
        long handle = acquire();
        byte[] batch;
        try {
            batch = invocation.invoke(handle, null);
        } finally {
            release();
        }
        return decoder.decode(batch);
    }

    /** Waits for a future command a little longer than the engine's own deadline for it. */
    private <T> T await(CompletableFuture<T> future, long timeoutMs) {
        long engineDeadlineMs = timeoutMs > 0 ? timeoutMs : commandTimeoutMs;
        try {
            return future.get(engineDeadlineMs + LOST_COMPLETION_MARGIN_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException failed) {
            Throwable cause = failed.getCause();
            throw cause instanceof EslException ? (EslException) cause
                    : new EslException(EslException.Kind.INTERNAL, String.valueOf(cause), cause);
        } catch (TimeoutException lost) {
            throw new EslTimeoutException("no result within " + engineDeadlineMs + " ms");
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new EslException(EslException.Kind.INVALID_STATE, "interrupted while waiting for a reply");
        }
    }

    private static Invocation sendRecvCall(String command, long timeoutMs) {
        final byte[] line = utf8(command);
        return (handle, completion) -> Native.connectionSendRecv(handle, line, timeoutMs, completion);
    }

    private static Invocation apiCall(String commandAndArgs, long timeoutMs) {
        final byte[] line = utf8(commandAndArgs);
        return (handle, completion) -> Native.connectionApi(handle, line, timeoutMs, completion);
    }

    private static Invocation bgapiCall(String commandAndArgs, String jobUuid, boolean awaitJob, long timeoutMs) {
        final byte[] line = utf8(commandAndArgs);
        final byte[] job = utf8(jobUuid);
        return (handle, completion) -> Native.connectionBgapi(handle, line, job, awaitJob, timeoutMs, completion);
    }

    private static Invocation executeCall(String app, String arg, String uuid, int flags, long timeoutMs) {
        final byte[] name = utf8(app);
        final byte[] argument = utf8(arg);
        final byte[] channel = utf8(uuid);
        return (handle, completion) -> Native.connectionExecute(handle, name, argument, channel, flags, timeoutMs,
                completion);
    }

    private static Invocation sendEventCall(String name, EslEvent event, long timeoutMs) {
        final byte[] eventName = utf8(name);
        final byte[] frame = FrameCodec.encodeSingle(event);
        return (handle, completion) -> Native.connectionSendEvent(handle, eventName, frame, timeoutMs, completion);
    }

    private static Invocation sendMsgCall(String uuid, EslEvent message, long timeoutMs) {
        final byte[] channel = utf8(uuid);
        final byte[] frame = FrameCodec.encodeSingle(message);
        return (handle, completion) -> Native.connectionSendMsg(handle, channel, frame, timeoutMs, completion);
    }

    private CompletableFuture<EslEvent> subscription(int command, String format, String first, String second) {
        final byte[] firstBytes = utf8(first);
        final byte[] secondBytes = utf8(second);
        return submit((handle, completion) -> Native.connectionSubscription(handle, command, formatCode(format),
                firstBytes, secondBytes, completion), SINGLE);
    }

    private CompletableFuture<EslEvent> session(int command, int number) {
        return submit((handle, completion) -> Native.connectionSession(handle, command, number, completion), SINGLE);
    }

    private static int formatCode(String format) {
        if (format == null || format.equals("plain")) {
            return NativeContract.FORMAT_PLAIN;
        } else if (format.equals("json")) {
            return NativeContract.FORMAT_JSON;
        } else if (format.equals("xml")) {
            return NativeContract.FORMAT_XML;
        }
        throw new EslException(EslException.Kind.INVALID_COMMAND, "unknown event format " + format);
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
        return submit(sendRecvCall(command, timeoutMs), SINGLE);
    }

    /**
     * Blocking {@link #sendRecv(String, long)} on the calling thread (see the class comment).
     *
     * @param command the command
     * @param timeoutMs reply deadline, 0 for the default
     * @return the reply envelope
     * @throws EslException on failure, {@link EslTimeoutException} at the deadline
     */
    public EslEvent sendRecvBlocking(String command, long timeoutMs) {
        return call(sendRecvCall(command, timeoutMs), SINGLE, timeoutMs);
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
        return submit(apiCall(commandAndArgs, timeoutMs), SINGLE);
    }

    /**
     * Blocking {@link #api(String, long)} on the calling thread (see the class comment).
     *
     * @param commandAndArgs the API command and arguments
     * @param timeoutMs reply deadline, 0 for the default
     * @return the reply envelope
     * @throws EslException on failure, {@link EslTimeoutException} at the deadline
     */
    public EslEvent apiBlocking(String commandAndArgs, long timeoutMs) {
        return call(apiCall(commandAndArgs, timeoutMs), SINGLE, timeoutMs);
    }

    /**
     * {@code bgapi <command>}; the {@code BACKGROUND_JOB} event arrives through {@link #inbox}
     * when subscribed.
     *
     * @param commandAndArgs the API command and arguments
     * @param jobUuid the {@code Job-UUID} to use, or null to let the server choose
     * @param timeoutMs reply deadline, 0 for the default
     * @return the {@code +OK Job-UUID: ...} reply
     */
    public CompletableFuture<EslEvent> bgapi(String commandAndArgs, String jobUuid, long timeoutMs) {
        return submit(bgapiCall(commandAndArgs, jobUuid, false, timeoutMs), SINGLE);
    }

    /**
     * Blocking {@link #bgapi(String, String, long)} on the calling thread (see the class comment).
     *
     * @param commandAndArgs the API command and arguments
     * @param jobUuid the {@code Job-UUID} to use, or null to let the server choose
     * @param timeoutMs reply deadline, 0 for the default
     * @return the {@code +OK Job-UUID: ...} reply
     * @throws EslException on failure, {@link EslTimeoutException} at the deadline
     */
    public EslEvent bgapiBlocking(String commandAndArgs, String jobUuid, long timeoutMs) {
        return call(bgapiCall(commandAndArgs, jobUuid, false, timeoutMs), SINGLE, timeoutMs);
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
        return submit(bgapiCall(commandAndArgs, null, true, timeoutMs), BATCH);
    }

    /**
     * Blocking {@link #bgapiJob(String, long)} on the calling thread (see the class comment).
     *
     * @param commandAndArgs the API command and arguments
     * @param timeoutMs deadline for the job's result, 0 for the command timeout
     * @return [the reply, the BACKGROUND_JOB event whose body is the output]
     * @throws EslException on failure, {@link EslTimeoutException} at the deadline
     */
    public List<EslEvent> bgapiJobBlocking(String commandAndArgs, long timeoutMs) {
        return call(bgapiCall(commandAndArgs, null, true, timeoutMs), BATCH, timeoutMs);
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
        return submit(executeCall(app, arg, uuid, executeFlags(eventLock, async, waitForCompletion), timeoutMs), BATCH);
    }

    /**
     * Blocking {@link #execute(String, String, String, boolean, boolean, boolean, long)} on the
     * calling thread (see the class comment).
     *
     * @param app the application
     * @param arg its argument, or null
     * @param uuid target channel, or null for an outbound session's own channel
     * @param eventLock {@code event-lock: true}
     * @param async {@code async: true}
     * @param waitForCompletion return only at the matching {@code CHANNEL_EXECUTE_COMPLETE}
     * @param timeoutMs deadline for reply and completion, 0 for the default
     * @return [the reply with an added {@code Event-UUID} header, the completion event when
     *     waited for]
     * @throws EslException on failure, {@link EslTimeoutException} at the deadline
     */
    public List<EslEvent> executeBlocking(String app, String arg, String uuid, boolean eventLock, boolean async,
            boolean waitForCompletion, long timeoutMs) {
        return call(executeCall(app, arg, uuid, executeFlags(eventLock, async, waitForCompletion), timeoutMs), BATCH,
                timeoutMs);
    }

    private static int executeFlags(boolean eventLock, boolean async, boolean waitForCompletion) {
        return (eventLock ? NativeContract.EXECUTE_EVENT_LOCK : 0) | (async ? NativeContract.EXECUTE_ASYNC : 0)
                | (waitForCompletion ? NativeContract.EXECUTE_WAIT : 0);
    }

    /**
     * {@code event <format> <names>}; replayed after a reconnect.
     *
     * @param format {@code plain}, {@code json} or {@code xml}
     * @param names space-separated event names, {@code CUSTOM sub1 sub2} last
     * @return the reply
     */
    public CompletableFuture<EslEvent> subscribe(String format, String names) {
        return subscription(NativeContract.SUBSCRIPTION_EVENT, format, names, null);
    }

    /**
     * {@code nixevent <names>}.
     *
     * @param names space-separated event names
     * @return the reply
     */
    public CompletableFuture<EslEvent> unsubscribe(String names) {
        return subscription(NativeContract.SUBSCRIPTION_NIXEVENT, null, names, null);
    }

    /**
     * {@code noevents}.
     *
     * @return the reply
     */
    public CompletableFuture<EslEvent> noEvents() {
        return subscription(NativeContract.SUBSCRIPTION_NOEVENTS, null, null, null);
    }

    /**
     * {@code myevents [<uuid>] <format>}.
     *
     * @param format {@code plain}, {@code json} or {@code xml}
     * @param uuid the channel (inbound), or null for an outbound session's own channel
     * @return the reply
     */
    public CompletableFuture<EslEvent> myEvents(String format, String uuid) {
        return subscription(NativeContract.SUBSCRIPTION_MYEVENTS, format, uuid, null);
    }

    /**
     * {@code filter <header> <value>}; replayed after a reconnect.
     *
     * @param header the header name
     * @param value the value ({@code -} prefix: negative; {@code /regex/})
     * @return the reply
     */
    public CompletableFuture<EslEvent> filter(String header, String value) {
        return subscription(NativeContract.SUBSCRIPTION_FILTER, null, header, value);
    }

    /**
     * {@code filter delete <header> [<value>]}, or {@code filter delete all} for a null header.
     *
     * @param header the header name, or null for all
     * @param value the value, or null for every filter on the header
     * @return the reply
     */
    public CompletableFuture<EslEvent> filterDelete(String header, String value) {
        return subscription(NativeContract.SUBSCRIPTION_FILTER_DELETE, null, header, value);
    }

    /**
     * {@code linger [seconds]}.
     *
     * @param seconds seconds to linger, negative to linger until the client exits
     * @return the reply
     */
    public CompletableFuture<EslEvent> linger(int seconds) {
        return session(NativeContract.SESSION_LINGER, seconds);
    }

    /**
     * {@code nolinger}.
     *
     * @return the reply
     */
    public CompletableFuture<EslEvent> noLinger() {
        return session(NativeContract.SESSION_NOLINGER, 0);
    }

    /**
     * {@code resume}.
     *
     * @return the reply
     */
    public CompletableFuture<EslEvent> resume() {
        return session(NativeContract.SESSION_RESUME, 0);
    }

    /**
     * {@code divert_events on|off}.
     *
     * @param on true for on
     * @return the reply
     */
    public CompletableFuture<EslEvent> divertEvents(boolean on) {
        return session(NativeContract.SESSION_DIVERT_EVENTS, on ? 1 : 0);
    }

    /**
     * {@code log <level>}.
     *
     * @param level a level name or 0-7
     * @return the reply
     */
    public CompletableFuture<EslEvent> log(String level) {
        return subscription(NativeContract.SUBSCRIPTION_LOG, null, level, null);
    }

    /**
     * {@code nolog}.
     *
     * @return the reply
     */
    public CompletableFuture<EslEvent> noLog() {
        return subscription(NativeContract.SUBSCRIPTION_NOLOG, null, null, null);
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
        return submit(sendEventCall(name, event, timeoutMs), SINGLE);
    }

    /**
     * Blocking {@link #sendEvent(String, EslEvent, long)} on the calling thread (see the class
     * comment).
     *
     * @param name the event name
     * @param event headers and body
     * @param timeoutMs reply deadline, 0 for the default
     * @return the reply
     * @throws EslException on failure, {@link EslTimeoutException} at the deadline
     */
    public EslEvent sendEventBlocking(String name, EslEvent event, long timeoutMs) {
        return call(sendEventCall(name, event, timeoutMs), SINGLE, timeoutMs);
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
        return submit(sendMsgCall(uuid, message, timeoutMs), SINGLE);
    }

    /**
     * Blocking {@link #sendMsg(String, EslEvent, long)} on the calling thread (see the class
     * comment).
     *
     * @param uuid target channel, or null for an outbound session's own channel
     * @param message the message headers and body
     * @param timeoutMs reply deadline, 0 for the default
     * @return the reply
     * @throws EslException on failure, {@link EslTimeoutException} at the deadline
     */
    public EslEvent sendMsgBlocking(String uuid, EslEvent message, long timeoutMs) {
        return call(sendMsgCall(uuid, message, timeoutMs), SINGLE, timeoutMs);
    }

    /**
     * An inbox over this connection's queued items: each {@link EventInbox#take} returns up to
     * {@code max} of them (and up to about 192 KiB of frames, so the batch stays in the CPU cache
     * while it is copied and decoded). Blocks the taking thread, which must not be an esl4j engine
     * thread.
     *
     * @param max the most items per batch
     * @return the inbox; it ends once the connection has ended and everything queued was taken
     */
    public EventInbox inbox(int max) {
        return new EventInbox(timeoutMs -> pollRaw(max, timeoutMs), (into, timeoutMs) -> pollInto(into, max, timeoutMs));
    }

    /**
     * Takes queued items as {@link #pollRaw} does, writing the batch from the first byte of
     * {@code into} when it fits there, so that a reader can reuse its array.
     *
     * @param into the caller's array, which it must not touch during the call
     * @param max the most items to return
     * @param timeoutMs how long to wait when nothing is queued; 0 returns at once
     * @return {@code into} holding the batch (0 items on timeout), a new array holding exactly the
     *     batch when it is longer than {@code into}, or null once the connection has ended and
     *     everything queued has been taken
     */
    public byte[] pollInto(byte[] into, int max, long timeoutMs) {
        long handle = acquire();
        try {
            return Native.connectionPollInto(handle, into, max, timeoutMs);
        } finally {
            release();
        }
    }

    /**
     * Takes queued items as an undecoded batch, so one thread can keep draining the engine while
     * another decodes ({@link FrameCodec#decodeBatch(byte[])}): the two halves of the work then
     * run on two cores.
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
     * {@code connect} reply, decoded when read): a new view on each call, every view reading the
     * one copy, which stays readable after {@link #close()}.
     *
     * @return the channel data, or null for an inbound connection
     */
    public EslEvent channelData() {
        byte[] batch = channelData;
        return batch == null ? null : FrameCodec.decodeSingle(batch);
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

    /** Whether the calling thread is virtual (Java 21+; found by reflection, as the library runs on 8). */
    private static final class VirtualThreads {
        private static final MethodHandle IS_VIRTUAL = lookup();

        private VirtualThreads() {
        }

        private static MethodHandle lookup() {
            try {
                return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual",
                        MethodType.methodType(boolean.class));
            } catch (NoSuchMethodException | IllegalAccessException olderJava) {
                return null;
            }
        }

        static boolean isCurrent() {
            if (IS_VIRTUAL == null) {
                return false;
            }
            try {
                return (boolean) IS_VIRTUAL.invokeExact(Thread.currentThread());
            } catch (Throwable unexpected) {
                throw new IllegalStateException("Thread.isVirtual failed", unexpected);
            }
        }
    }
}
