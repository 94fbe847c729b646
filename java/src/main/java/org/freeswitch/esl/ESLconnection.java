package org.freeswitch.esl;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

import org.esl4j.EslEvent;
import org.esl4j.internal.EventInbox;
import org.esl4j.internal.FrameCodec;
import org.esl4j.internal.Log;
import org.esl4j.internal.NativeConnection;
import org.esl4j.internal.UrlCodec;

/**
 * A connection to FreeSWITCH's event socket with the public API of the SWIG-generated
 * {@code org.freeswitch.esl.ESLconnection} of libesl, backed by the esl4j engine. Nothing needs
 * {@code System.loadLibrary}: the native library is loaded from the jar.
 *
 * <p>Return conventions are libesl's: methods return {@code null}, {@code 0}/{@code 1}, or a reply
 * whose {@code Reply-Text} starts with {@code -ERR}; they never throw for a network or server
 * failure, and every method is safe to call after {@link #disconnect()} or a failed connect (no
 * crash: calls simply fail).
 *
 * <p>Fixed libesl bugs: no lock is held across blocking reads, so {@link #recvEvent()} in one
 * thread never stalls {@link #api(String, String)} in another; replies and events travel on
 * separate queues, so a reply can never be taken by {@link #recvEventTimed(int)} and events
 * read while waiting for a reply are not delayed; {@link #recvEventTimed(int)} waits for its turn
 * instead of returning null when another thread is receiving; arguments are never truncated
 * (long {@code execute} arguments travel as a body); strings are real UTF-8;
 * {@link #sendEvent(ESLevent)} returns the server's {@code +OK <Event-UUID>} reply;
 * {@link #execute(String, String, String)} tags the message with an {@code Event-UUID}, echoed in
 * the reply, so its {@code CHANNEL_EXECUTE_COMPLETE} can be matched; every wait is bounded.
 *
 * <p>Deliberate choice where the wiki and libesl disagree: {@code recvEventTimed(0)} returns at
 * once (the wiki's "useful for polling"), instead of blocking forever as libesl does; use
 * {@link #recvEvent()} to block.
 *
 * <p>Commands wait at most {@value #DEFAULT_COMMAND_TIMEOUT_MS} ms for their reply (long enough
 * for a blocking {@code api originate}); change it with the system property
 * {@value #COMMAND_TIMEOUT_PROPERTY}. They run on the calling thread, as in libesl: it writes the
 * command and the engine hands the reply straight back to it. A call is not interrupted by
 * {@link Thread#interrupt()} once sent (it ends at its reply, its timeout or the connection's
 * end); on an interrupted thread it returns null without sending and keeps the interrupt.
 *
 * <p>Events are never dropped, as with libesl: they wait in a queue for {@link #recvEvent()}, and
 * when it holds 16,384 the connection stops reading, so FreeSWITCH keeps them. A command's reply
 * never waits behind unread events, though: while one is awaited the connection reads on and
 * queues the events past that bound, so the libesl loop "{@code recvEvent()}, and {@code api()}
 * on the same thread every N events" cannot deadlock. That spill has a hard cap (100,000 events
 * or 256 MiB by default; system properties {@value #SPILL_MAX_EVENTS_PROPERTY} and {@value
 * #SPILL_MAX_BYTES_PROPERTY}); a program that sends commands while never reading its events
 * reaches it, and the connection is then closed ({@link #getLastError()} says it was overloaded),
 * where libesl would grow its memory without bound.
 *
 * <p>A disconnect notice from the server ends the connection at once, as in libesl, even if the
 * server leaves the socket open: waiting commands return null and {@link #connected()} is 0 once
 * the events received before the notice have been taken.
 */
public class ESLconnection {
    /** System property: milliseconds a command waits for its reply. */
    public static final String COMMAND_TIMEOUT_PROPERTY = "esl4j.compat.commandTimeoutMs";
    /** Default reply deadline: 2 minutes (an {@code api originate} rings up to 60 s by default). */
    public static final long DEFAULT_COMMAND_TIMEOUT_MS = 120_000L;
    /** System property: the most events queued for {@link #recvEvent()} (default 100,000). */
    public static final String SPILL_MAX_EVENTS_PROPERTY = "esl4j.compat.spillMaxEvents";
    /** System property: the most bytes of event frames queued for {@link #recvEvent()} (default 256 MiB). */
    public static final String SPILL_MAX_BYTES_PROPERTY = "esl4j.compat.spillMaxBytes";
    private static final Log LOG = Log.of(ESLconnection.class);
    private static final long CONNECT_TIMEOUT_MS = 10_000L;
    /** Longest single native wait inside {@link #recvEvent()}, so a closed connection is noticed. */
    private static final long RECV_SLICE_MS = 1_000L;
    private static final int POLL_BATCH = 512;
    /** mod_event_socket copies a client's {@code Job-UUID} into a 37-byte buffer. */
    private static final int MAX_JOB_UUID_LENGTH = 36;
    private static final AtomicInteger DESCRIPTORS = new AtomicInteger(1000);
    /** The engine's notice that the queue reached its hard cap (see NativeConnection). */

    private final NativeConnection connection;
    /** The engine's queued items; null for an unconnected object. */
    private final EventInbox inbox;
    private final EslEvent info;
    private final int descriptor;
    private final long commandTimeoutMs;
    /** Events and send() replies fetched but not yet returned, in arrival order. */
    private final LinkedBlockingDeque<ESLevent> received = new LinkedBlockingDeque<>();
    /** Serializes fetching from the native queue (keeps arrival order); never held by commands. */
    private final ReentrantLock fetchLock = new ReentrantLock();
    private volatile boolean ended;
    private volatile String lastError;
    private volatile boolean asyncExecute;
    private volatile boolean eventLock;
    /** The server sends {@code text/event-xml}, which libesl hands out as an envelope. */
    private volatile boolean xmlEvents;
    /**
     * What {@link #recvEvent()} returns in place of the server's final disconnect notice; taking
     * it ends the connection, as libesl does when it reads that notice.
     */
    private final ESLevent serverDisconnected = new ESLevent("SERVER_DISCONNECTED", null);
    /** {@link #send(String)} replies not yet in {@link #received}: they precede a final notice. */
    private final Queue<CompletableFuture<EslEvent>> unqueuedSendReplies = new ConcurrentLinkedQueue<>();

    /**
     * Connects to an inbound event socket and authenticates with {@code userauth}.
     *
     * @param host host name or address
     * @param port port, usually 8021
     * @param user {@code user@domain}
     * @param password the password
     */
    public ESLconnection(String host, int port, String user, String password) {
        this(open(host, port, user, password), null);
    }

    /**
     * Connects to an inbound event socket and authenticates with {@code auth}.
     *
     * @param host host name or address
     * @param port port, usually 8021
     * @param password the password
     */
    public ESLconnection(String host, int port, String password) {
        this(open(host, port, null, password), null);
    }

    /**
     * Same as the {@code int} port version; a null or non-numeric port leaves the object
     * unconnected.
     *
     * @param host host name or address
     * @param port port as text
     * @param user {@code user@domain}
     * @param password the password
     */
    public ESLconnection(String host, String port, String user, String password) {
        this(open(host, parsePort(port), user, password), null);
    }

    /**
     * Same as the {@code int} port version; a null or non-numeric port leaves the object
     * unconnected.
     *
     * @param host host name or address
     * @param port port as text
     * @param password the password
     */
    public ESLconnection(String host, String port, String password) {
        this(open(host, parsePort(port), null, password), null);
    }

    /**
     * Takes over an outbound call's socket by its descriptor, as libesl's {@code
     * esl_attach_handle} does: for code that accepts FreeSWITCH's {@code socket} connections
     * itself and hands each descriptor over. The engine works on a duplicate of {@code socket}, so
     * the caller may close its own at any time; it sends {@code connect}, and {@link #getInfo()}
     * is the channel data. Without a reply within 10 s, or when {@code socket} is not a connected
     * TCP socket, the object is unconnected ({@link #connected()} 0, {@link #getLastError()} says
     * why), as libesl leaves it.
     *
     * <p>Unlike libesl, which took the descriptor over and closed it at {@link #disconnect()}, the
     * caller keeps its descriptor and must close it (any time after this constructor returned;
     * the engine closes only its duplicate). Close it with {@code close(2)} or its owner's plain
     * close: {@code java.net.Socket.close()} also shuts the connection down, for the duplicate too.
     *
     * <p>Java does not expose a socket's descriptor; applications get one from the code that
     * accepted the connection: a JNI accept loop, Netty's epoll transport ({@code
     * ((EpollSocketChannel) channel).fd().intValue()}), or the process's launcher (inetd or
     * systemd socket activation hands the call over as descriptor 0 or 3). Accepting in Java needs
     * no descriptor: {@link ESLserver} gives each call an {@code ESLconnection}. Unix only; on
     * other systems the object is unconnected and {@link #getLastError()} says so.
     *
     * @param socket the descriptor of a connected TCP socket
     */
    public ESLconnection(int socket) {
        this(adopt(socket), null);
    }

    /**
     * Wraps an engine connection (outbound sessions from {@link ESLserver}).
     *
     * @param connection the connection, or null for an unconnected object
     */
    ESLconnection(NativeConnection connection) {
        this(new Opened(connection, null), null);
    }

    private ESLconnection(Opened opened, Void unused) {
        NativeConnection connection = opened.connection;
        this.lastError = opened.error;
        this.connection = connection;
        this.inbox = connection == null ? null : connection.inbox(POLL_BATCH);
        this.info = connection == null ? null : connection.channelData();
        this.descriptor = connection == null ? -1 : opened.descriptor >= 0 ? opened.descriptor : DESCRIPTORS.incrementAndGet();
        this.commandTimeoutMs = Long.getLong(COMMAND_TIMEOUT_PROPERTY, DEFAULT_COMMAND_TIMEOUT_MS);
        this.ended = connection == null;
    }

    private static int parsePort(String port) {
        try {
            return port == null ? -1 : Integer.parseInt(port.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A connect outcome: the connection, or why there is none. */
    private static final class Opened {
        final NativeConnection connection;
        final String error;
        /** The caller's descriptor of an adopted socket, else -1. */
        final int descriptor;

        Opened(NativeConnection connection, String error) {
            this(connection, error, -1);
        }

        Opened(NativeConnection connection, String error, int descriptor) {
            this.connection = connection;
            this.error = error;
            this.descriptor = descriptor;
        }
    }

    private static NativeConnection.Settings settings() {
        return compatSettings().connectTimeoutMs(CONNECT_TIMEOUT_MS);
    }

    private static Opened adopt(int socket) {
        try {
            return new Opened(NativeConnection.adoptDescriptor(socket, CONNECT_TIMEOUT_MS, settings()), null, socket);
        } catch (RuntimeException e) {
            String error = "attaching descriptor " + socket + " failed: " + e.getMessage();
            LOG.warn(error);
            return new Opened(null, error);
        }
    }

    private static Opened open(String host, int port, String user, String password) {
        if (host == null || password == null || port <= 0 || port > 65535) {
            return new Opened(null, "invalid host, port or password");
        }
        try {
            return new Opened(NativeConnection.connect(host, port, user, password, settings()), null);
        } catch (RuntimeException e) {
            // libesl keeps the reason in handle.err and reports connected() == 0; we also log it.
            String error = "connect to " + host + ":" + port + " failed: " + e.getMessage();
            LOG.warn(error);
            return new Opened(null, error);
        }
    }

    /**
     * The connection settings of the compat API, inbound and outbound ({@link ESLserver}): the
     * command deadline and the queue's hard cap from the system properties, and like libesl,
     * never drop an event: a full queue pushes back on FreeSWITCH.
     */
    static NativeConnection.Settings compatSettings() {
        return new NativeConnection.Settings()
                .commandTimeoutMs(Long.getLong(COMMAND_TIMEOUT_PROPERTY, DEFAULT_COMMAND_TIMEOUT_MS))
                .blockOnOverflow(true)
                .spill(Long.getLong(SPILL_MAX_EVENTS_PROPERTY, 0L), Long.getLong(SPILL_MAX_BYTES_PROPERTY, 0L));
    }

    /**
     * Why the last failed call failed (libesl's {@code handle.err}, which the SWIG binding did not
     * expose): a connect error, a command timeout, a closed connection, an invalid command.
     *
     * @return the reason, or null when nothing has failed yet
     */
    public String getLastError() {
        return lastError;
    }

    /**
     * A number identifying this connection while it is connected: the descriptor given to {@link
     * #ESLconnection(int)}; otherwise not a real OS descriptor, as the socket lives in the native
     * engine.
     *
     * @return a non-negative id, or -1 when not connected
     */
    public int socketDescriptor() {
        return connected() == 1 ? descriptor : -1;
    }

    /**
     * Whether the connection is up, or still has events received before its end to hand out.
     * The server's final disconnect notice does not count: as in libesl, the connection is down
     * once it has arrived.
     *
     * @return 1 when connected, else 0
     */
    public int connected() {
        if (ended || connection == null || connection.isClosed()) {
            return 0;
        }
        if (connection.isConnected()) {
            return 1;
        }
        if (fetchLock.tryLock()) {
            try {
                // Moves what is left into received, the final notice becoming its marker.
                fetch(0);
            } finally {
                fetchLock.unlock();
            }
        } else if (received.isEmpty()) {
            // Another thread is receiving: it holds whatever the engine has left.
            return 0;
        }
        ESLevent next = received.peek();
        return next != null && next != serverDisconnected ? 1 : 0;
    }

    /**
     * The channel data of an outbound call (the {@code connect} reply): {@code Unique-ID},
     * {@code Caller-*}, {@code variable_*}, ... A copy; {@code getType()} is {@code CHANNEL_DATA}.
     *
     * @return the channel data, or null for an inbound connection
     */
    public ESLevent getInfo() {
        return info == null ? null : ESLevent.fromEvent(info);
    }

    /**
     * Sends a command without waiting; its reply is returned later by {@link #recvEvent()}, as in
     * libesl.
     *
     * @param cmd the command; trailing line breaks are ignored
     * @return 0 when sent, 1 when not connected or the command is invalid (refused before
     *     anything is sent; {@link #getLastError()} says why)
     */
    public int send(String cmd) {
        if (!usable() || cmd == null) {
            return 1;
        }
        CompletableFuture<EslEvent> reply = connection.sendRecv(trimEnd(cmd), commandTimeoutMs);
        if (reply.isCompletedExceptionally()) {
            // Refused synchronously (the engine checks the command before queueing it).
            try {
                reply.join();
            } catch (CompletionException e) {
                lastError = String.valueOf(e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
            }
            return 1;
        }
        noteEventFormat(cmd);
        final CompletableFuture<EslEvent> queued = reply.whenComplete(new BiConsumer<EslEvent, Throwable>() {
            @Override
            public void accept(EslEvent event, Throwable error) {
                if (event != null) {
                    received.add(compatView(event));
                }
            }
        });
        unqueuedSendReplies.add(queued);
        queued.whenComplete(new BiConsumer<EslEvent, Throwable>() {
            @Override
            public void accept(EslEvent event, Throwable error) {
                unqueuedSendReplies.remove(queued);
            }
        });
        return 0;
    }

    /**
     * Sends a command and waits for its reply.
     *
     * @param cmd the command, e.g. {@code "api status"} or {@code "myevents"}
     * @return the reply ({@code command/reply} or {@code api/response}), or null on failure
     */
    public ESLevent sendRecv(String cmd) {
        if (!usable() || cmd == null) {
            return null;
        }
        noteEventFormat(cmd);
        final String line = trimEnd(cmd);
        return reply(() -> connection.sendRecvBlocking(line, commandTimeoutMs));
    }

    /**
     * Runs an API command and waits for its output.
     *
     * @param cmd the command, e.g. {@code "status"}
     * @param arg its arguments, or null
     * @return the {@code api/response} (output in {@link ESLevent#getBody()}), or null on failure
     */
    public ESLevent api(String cmd, String arg) {
        if (!usable() || cmd == null) {
            return null;
        }
        final String line = join(cmd, arg);
        return reply(() -> connection.apiBlocking(line, commandTimeoutMs));
    }

    /**
     * Runs an API command and waits for its output; same as {@code api(cmd, null)}.
     *
     * @param cmd the command and its arguments
     * @return the {@code api/response}, or null on failure
     */
    public ESLevent api(String cmd) {
        return api(cmd, null);
    }

    /**
     * Starts a background API command; its result arrives later as a {@code BACKGROUND_JOB}
     * event (subscribe to it).
     *
     * @param cmd the command
     * @param arg its arguments, or null
     * @param job_uuid the {@code Job-UUID} to use, or null to let FreeSWITCH choose; FreeSWITCH
     *     keeps its first 36 characters, and so the longer ones are cut here
     * @return the {@code +OK Job-UUID: ...} reply (its {@code Job-UUID} header), or null on failure
     */
    public ESLevent bgapi(String cmd, String arg, String job_uuid) {
        if (!usable() || cmd == null) {
            return null;
        }
        String jobUuid = job_uuid == null || job_uuid.length() <= MAX_JOB_UUID_LENGTH
                ? job_uuid
                : job_uuid.substring(0, MAX_JOB_UUID_LENGTH);
        final String line = join(cmd, arg);
        return reply(() -> connection.bgapiBlocking(line, jobUuid, commandTimeoutMs));
    }

    /**
     * Starts a background API command; same as {@code bgapi(cmd, arg, null)}.
     *
     * @param cmd the command
     * @param arg its arguments, or null
     * @return the reply, or null on failure
     */
    public ESLevent bgapi(String cmd, String arg) {
        return bgapi(cmd, arg, null);
    }

    /**
     * Fires an event inside FreeSWITCH ({@code sendevent}).
     *
     * @param send_me the event; its type is the event name
     * @return the server's reply ({@code +OK <Event-UUID>}), or null on failure
     */
    public ESLevent sendEvent(ESLevent send_me) {
        if (!usable() || send_me == null) {
            return null;
        }
        final EslEvent event = toEvent(send_me, "Event-Name");
        return reply(() -> connection.sendEventBlocking(send_me.getType(), event, commandTimeoutMs));
    }

    /**
     * Sends a {@code sendmsg} built from an event's headers ({@code call-command},
     * {@code execute-app-name}, {@code execute-app-arg}, ...).
     *
     * @param send_me the message
     * @param uuid the target channel, or null for an outbound call's own channel
     * @return 0 when a reply arrived (check events for the outcome), 1 on failure
     */
    public int sendMSG(ESLevent send_me, String uuid) {
        if (!usable() || send_me == null) {
            return 1;
        }
        final EslEvent message = toEvent(send_me, null);
        return blocking(() -> connection.sendMsgBlocking(uuid, message, commandTimeoutMs)) == null ? 1 : 0;
    }

    /**
     * Waits for the next event (or {@link #send(String)} reply, log line, or linger notice).
     *
     * @return the event; when the connection has ended, an event of type
     *     {@code SERVER_DISCONNECTED} (never null, as in libesl)
     */
    public ESLevent recvEvent() {
        while (true) {
            ESLevent event = receive(RECV_SLICE_MS);
            if (event == serverDisconnected) {
                ended = true;
                return new ESLevent("SERVER_DISCONNECTED", null);
            }
            if (event != null) {
                return event;
            }
            if (ended) {
                return new ESLevent("SERVER_DISCONNECTED", null);
            }
        }
    }

    /**
     * Waits up to {@code ms} milliseconds for the next event.
     *
     * @param ms how long to wait; 0 (or negative) checks without waiting (see the class comment)
     * @return the event, or null on timeout or when the connection has ended ({@link #connected()}
     *     tells which)
     */
    public ESLevent recvEventTimed(int ms) {
        ESLevent event = receive(Math.max(0, ms));
        if (event == serverDisconnected) {
            // libesl's timed receive fails (null) on the final disconnect notice.
            ended = true;
            return null;
        }
        return event;
    }

    private ESLevent receive(long waitMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        while (true) {
            ESLevent ready = received.poll();
            if (ready != null) {
                return ready;
            }
            if (!usable()) {
                return null;
            }
            long remaining = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            try {
                // Waiting for another receiving thread is waiting for an event, not a failure.
                if (!fetchLock.tryLock(Math.max(0, remaining), TimeUnit.MILLISECONDS)) {
                    return received.poll();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            try {
                ready = received.poll();
                if (ready != null) {
                    return ready;
                }
                remaining = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                fetch(Math.max(0, Math.min(remaining, RECV_SLICE_MS)));
            } finally {
                fetchLock.unlock();
            }
            if (System.nanoTime() - deadline >= 0) {
                return received.poll();
            }
        }
    }

    /** Moves everything the engine has queued into {@link #received}; caller holds fetchLock. */
    private void fetch(long waitMs) {
        FrameCodec.Batch batch = inbox.take(waitMs);
        if (batch == null) {
            ended = true;
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            EslEvent item = batch.item(i);
            switch (batch.kind(i)) {
                case FrameCodec.KIND_EVENT:
                    received.add(xmlEvents ? xmlEnvelope(item) : ESLevent.fromEvent(item));
                    break;
                case FrameCodec.KIND_DISCONNECT_NOTICE:
                    if (isFinalDisconnectNotice(item)) {
                        awaitSendReplies();
                        received.add(serverDisconnected);
                    } else {
                        received.add(envelope(item));
                    }
                    break;
                case FrameCodec.KIND_OVERLOADED:
                    lastError = "overloaded: " + item.header("Overload-Queued") + " events were waiting for recvEvent()"
                            + " when the queue reached its hard cap; the connection was closed";
                    LOG.warn(lastError);
                    break;
                case FrameCodec.KIND_DISCONNECTED:
                case FrameCodec.KIND_RECONNECTED:
                    // The engine's own notices: libesl has none (compat connections do not reconnect).
                    break;
                default:
                    received.add(envelope(item));
                    break;
            }
        }
    }

    /**
     * Waits until the replies of earlier {@link #send(String)} calls are queued: on the wire they
     * came before the final notice, and reply completions travel apart from events. Bounded: a
     * command whose reply never comes fails when the socket closes, at the latest at its timeout.
     */
    private void awaitSendReplies() {
        for (CompletableFuture<EslEvent> pending : unqueuedSendReplies) {
            try {
                pending.get(commandTimeoutMs + 5_000L, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException e) {
                LOG.debug("a send() reply never came", e);
            }
        }
    }

    /**
     * libesl parses plain and json events but returns an xml event as its envelope, the XML text
     * being the body ({@code getBody()}); the engine decoded it, so it is written out again in
     * FreeSWITCH's layout.
     */
    private static ESLevent xmlEnvelope(EslEvent event) {
        String xml = ESLevent.fromEvent(event).serialize("xml");
        return envelope(EslEvent.builder(2)
                .header("Content-Length", Integer.toString(xml.getBytes(StandardCharsets.UTF_8).length))
                .header("Content-Type", "text/event-xml")
                .body(xml)
                .build());
    }

    /**
     * Whether a disconnect notice is not a linger notice: libesl ends the connection on it instead of
     * returning it (only the linger notice reaches the application as an event).
     */
    private static boolean isFinalDisconnectNotice(EslEvent notice) {
        return !"linger".equalsIgnoreCase(notice.header("Content-Disposition"));
    }

    /**
     * libesl's view of a received item: events as they are; every other frame (a reply, a log
     * line, a linger notice) is an envelope whose first header is {@code Event-Name: SOCKET_DATA},
     * so {@code getHeader("Event-Name")} is never null, and whose header values are URL-decoded
     * (libesl decodes every header it reads; FreeSWITCH sends these raw, so only a value holding
     * {@code %XX}, such as a {@code getvar} result, changes).
     */
    private static ESLevent compatView(EslEvent item) {
        if (item.hasHeader("Event-Name")) {
            return ESLevent.fromEvent(item);
        }
        return envelope(item);
    }

    /** An item as {@code SOCKET_DATA} envelope: libesl's view of every frame but a plain/json event. */
    private static ESLevent envelope(EslEvent item) {
        EslEvent.Builder envelope = EslEvent.builder(item.headerCount() + 1)
                .header("Event-Name", ESLevent.SOCKET_DATA);
        for (Map.Entry<String, String> header : item.headers()) {
            envelope.header(header.getKey(), UrlCodec.decode(header.getValue()));
        }
        return ESLevent.fromEvent(envelope.body(item.bodyBytes()).build());
    }

    /**
     * Adds an event filter ({@code filter <header> <value>}).
     *
     * @param header the header name
     * @param value the value
     * @return the reply, or null on failure; a CR, LF or NUL in either is refused before anything
     *     is sent, and {@link #getLastError()} says so
     */
    public ESLevent filter(String header, String value) {
        if (!usable() || header == null || value == null || !singleLine("filter header", header)
                || !singleLine("filter value", value)) {
            return null;
        }
        final String line = "filter " + header + " " + value;
        return reply(() -> connection.sendRecvBlocking(line, commandTimeoutMs));
    }

    /**
     * Subscribes to events ({@code event <type> <value>}).
     *
     * @param etype {@code "json"} or {@code "xml"}; anything else means plain (case-sensitive, as
     *     in libesl)
     * @param value space-separated event names, e.g. {@code "CHANNEL_ANSWER CHANNEL_HANGUP"} or
     *     {@code "ALL"}
     * @return 0 when the server answered (even with {@code -ERR}, as in libesl), 1 on failure; a
     *     CR, LF or NUL in {@code value} is refused before anything is sent, and
     *     {@link #getLastError()} says so
     */
    public int events(String etype, String value) {
        if (!usable() || value == null || !singleLine("event names", value)) {
            return 1;
        }
        String format = "json".equals(etype) || "xml".equals(etype) ? etype : "plain";
        String command = "event " + format + " " + value;
        noteEventFormat(command);
        return blocking(() -> connection.sendRecvBlocking(command, commandTimeoutMs)) == null ? 1 : 0;
    }

    /**
     * Whether {@code value} can go on the command line: a CR or LF would end it and send the rest
     * as header lines (or a second command), a NUL would cut it. Refused as {@code api()} refuses
     * them, with the same {@link #getLastError()} wording.
     */
    private boolean singleLine(String part, String value) {
        if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
            lastError = part + " must not contain CR or LF";
            return false;
        }
        if (value.indexOf('\0') >= 0) {
            lastError = part + " must not contain a NUL byte";
            return false;
        }
        return true;
    }

    /**
     * Follows the listener's event format as mod_event_socket sets it: the last {@code event
     * <format> ...} (any command starting with {@code event}) or {@code myevents ... [format]}.
     */
    private void noteEventFormat(String command) {
        String line = command.trim().toLowerCase(Locale.ROOT);
        if (line.startsWith("myevents")) {
            xmlEvents = line.contains("xml");
        } else if (line.startsWith("event")) {
            String[] words = line.split("\\s+", 3);
            xmlEvents = words.length > 1 && words[1].equals("xml");
        }
    }

    /**
     * Executes a dialplan application ({@code sendmsg} with {@code call-command: execute}),
     * honouring {@link #setAsyncExecute(String)} and {@link #setEventLock(String)}.
     *
     * @param app the application
     * @param arg its argument, or null (any length; line breaks allowed)
     * @param uuid target channel, or null for an outbound call's own channel
     * @return the reply, with the {@code Event-UUID} that the completion event will carry as
     *     {@code Application-UUID}; null on failure
     */
    public ESLevent execute(String app, String arg, String uuid) {
        return execute(app, arg, uuid, asyncExecute);
    }

    /**
     * Executes an application; same as {@code execute(app, null, null)}.
     *
     * @param app the application
     * @return the reply, or null on failure
     */
    public ESLevent execute(String app) {
        return execute(app, null, null);
    }

    /**
     * Like {@link #execute(String, String, String)} with {@code async: true} for this call.
     *
     * @param app the application
     * @param arg its argument, or null
     * @param uuid target channel, or null for an outbound call's own channel
     * @return the reply, or null on failure
     */
    public ESLevent executeAsync(String app, String arg, String uuid) {
        return execute(app, arg, uuid, true);
    }

    private ESLevent execute(String app, String arg, String uuid, boolean async) {
        if (!usable() || app == null) {
            return null;
        }
        final boolean lock = eventLock;
        List<EslEvent> result = blocking(() -> connection.executeBlocking(app, arg, uuid, lock, async, false,
                commandTimeoutMs));
        return result == null || result.isEmpty() ? null : compatView(result.get(0));
    }

    /**
     * Sends {@code async: true} with every later {@code execute}.
     *
     * @param val "true", "yes", "on", "enabled", "active", "allow" or a non-zero number for on;
     *     other text for off; null leaves it unchanged
     * @return the new setting, 1 or 0
     */
    public int setAsyncExecute(String val) {
        if (val != null) {
            asyncExecute = isTrue(val);
        }
        return asyncExecute ? 1 : 0;
    }

    /**
     * Sends {@code event-lock: true} with every later {@code execute}.
     *
     * @param val as for {@link #setAsyncExecute(String)}
     * @return the new setting, 1 or 0
     */
    public int setEventLock(String val) {
        if (val != null) {
            eventLock = isTrue(val);
        }
        return eventLock ? 1 : 0;
    }

    /**
     * Closes the connection ({@code exit}, then the socket). Safe to call more than once and
     * from any thread; blocked receivers return.
     *
     * @return 0 when closed (or already closed), 1 when there never was a connection
     */
    public int disconnect() {
        if (connection == null) {
            return 1;
        }
        ended = true;
        connection.close();
        return 0;
    }

    /** Same as {@link #disconnect()}; kept from the SWIG binding. */
    public void delete() {
        disconnect();
    }

    private boolean usable() {
        return !ended && connection != null && !connection.isClosed();
    }

    private ESLevent reply(Supplier<EslEvent> command) {
        EslEvent event = blocking(command);
        return event == null ? null : compatView(event);
    }

    /**
     * Runs a blocking engine command on this thread (it ends at the reply, at the command timeout
     * or when the connection ends); a failure is kept in {@link #getLastError()} and returns null.
     */
    private <T> T blocking(Supplier<T> command) {
        try {
            return command.get();
        } catch (RuntimeException e) {
            lastError = String.valueOf(e.getMessage());
            LOG.debug("command failed", e);
            return null;
        }
    }

    private static String join(String cmd, String arg) {
        return arg == null || arg.isEmpty() ? cmd.trim() : cmd.trim() + " " + arg;
    }

    private static String trimEnd(String cmd) {
        int end = cmd.length();
        while (end > 0 && (cmd.charAt(end - 1) == '\n' || cmd.charAt(end - 1) == '\r')) {
            end--;
        }
        return cmd.substring(0, end);
    }

    /** libesl's {@code esl_true}. */
    static boolean isTrue(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("true") || v.equals("yes") || v.equals("on") || v.equals("enabled") || v.equals("active")
                || v.equals("allow")) {
            return true;
        }
        try {
            return Integer.parseInt(v) != 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** The engine's view of a compat event; multi-value headers become repeated names. */
    private static EslEvent toEvent(ESLevent event, String skipHeader) {
        EslEvent.Builder builder = EslEvent.builder();
        for (Map.Entry<String, String> header : event.entries()) {
            if (skipHeader == null || !header.getKey().equalsIgnoreCase(skipHeader)) {
                builder.header(header.getKey(), header.getValue());
            }
        }
        builder.body(event.getBody());
        return builder.build();
    }
}
