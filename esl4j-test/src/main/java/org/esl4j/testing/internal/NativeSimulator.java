package org.esl4j.testing.internal;

import static org.esl4j.internal.NativeConnection.utf8;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.esl4j.EslEvent;
import org.esl4j.internal.FrameCodec;
import org.esl4j.internal.Native;
import org.esl4j.internal.NativeHandle;
import org.esl4j.internal.NativeLoader;

/**
 * The FreeSWITCH simulator of {@code esl4j-sim}: an event socket on 127.0.0.1 with a call
 * model (endpoints that answer, ring, send early media, are busy; a dialplan; outbound
 * {@code socket} sessions; a virtual clock). Not API: the building block of
 * {@code org.esl4j.testing}. Blocking methods block the calling thread only.
 */
public final class NativeSimulator extends NativeHandle {
    /** Endpoint behaviours. Keep in sync with the constants in sim.rs. */
    public enum Behavior {
        /** Rings, then answers after the delay (0: at once). */
        ANSWER_AFTER,
        /** Rings (180) and never answers. */
        NEVER_ANSWER,
        /** Sends early media (183) and never answers. */
        EARLY_MEDIA_NEVER_ANSWER,
        /** Sends early media, then answers after the delay. */
        EARLY_MEDIA_THEN_ANSWER,
        /** Rejects with USER_BUSY. */
        BUSY,
        /** Rejects with the given cause. */
        REJECT
    }

    private static final Lifecycle LIFECYCLE = new Lifecycle() {
        @Override
        public void shutdown(long handle) {
            simShutdown(handle);
        }

        @Override
        public void destroy(long handle) {
            simDestroy(handle);
        }
    };

    private NativeSimulator(long handle) {
        super(handle, LIFECYCLE);
    }

    /**
     * Starts a simulator.
     *
     * @param port TCP port on 127.0.0.1, 0 for a free one
     * @param password the event socket password, or null for {@code ClueCon}
     * @param virtualClock true: time moves only through {@link #advance(long)}
     * @param heartbeatMs HEARTBEAT interval, 0 to disable
     * @return the running simulator
     * @throws UnsatisfiedLinkError naming the library loaded when it has no simulator
     */
    public static NativeSimulator start(int port, String password, boolean virtualClock, long heartbeatMs) {
        Native.ensureLoaded();
        long handle;
        try {
            handle = simStart(port, utf8(password), virtualClock, heartbeatMs);
        } catch (UnsatisfiedLinkError e) {
            // esl4j's own library (no simulator) was loaded: esl4j-test has none for this platform,
            // or -Desl4j.native.path names a library built without the cargo feature `sim`.
            UnsatisfiedLinkError error = new UnsatisfiedLinkError("the esl4j native library loaded from "
                    + NativeLoader.loadedFrom() + " has no simulator; esl4j-test needs its own library "
                    + NativeLoader.resourcePath(NativeLoader.platformId(), NativeLoader.TEST_LIBRARY_NAME)
                    + " (cargo feature `sim`) on platform " + NativeLoader.platformId());
            error.initCause(e);
            throw error;
        }
        return new NativeSimulator(handle);
    }

    /**
     * The bound port.
     *
     * @return the port
     */
    public int port() {
        long handle = acquire();
        try {
            return simPort(handle);
        } finally {
            release();
        }
    }

    /**
     * Scripts a dialable endpoint such as {@code user/1000}.
     *
     * @param name the endpoint
     * @param behavior how it reacts when dialed
     * @param delayMs the delay of {@code ANSWER_AFTER} / {@code EARLY_MEDIA_THEN_ANSWER}
     * @param cause the cause of {@code REJECT}, else ignored
     */
    public void setEndpoint(String name, Behavior behavior, long delayMs, String cause) {
        long handle = acquire();
        try {
            simSetEndpoint(handle, utf8(name), behavior.ordinal(), delayMs,
                    utf8(cause));
        } finally {
            release();
        }
    }

    /**
     * Sets the dialplan of an extension.
     *
     * @param extension the extension
     * @param apps (application, argument) pairs in order
     */
    public void setRoute(String extension, List<Map.Entry<String, String>> apps) {
        EslEvent.Builder frame = EslEvent.builder();
        for (Map.Entry<String, String> app : apps) {
            frame.header(app.getKey(), app.getValue());
        }
        long handle = acquire();
        try {
            simSetRoute(handle, utf8(extension), FrameCodec.encodeSingle(frame.build()));
        } finally {
            release();
        }
    }

    /**
     * Routes an extension to an outbound server.
     *
     * @param extension the extension
     * @param target the {@code socket} argument, e.g. {@code 127.0.0.1:8084 async full}
     */
    public void routeToSocket(String extension, String target) {
        long handle = acquire();
        try {
            simRouteToSocket(handle, utf8(extension), utf8(target));
        } finally {
            release();
        }
    }

    /**
     * Every command line received so far (the most recent 10,000).
     *
     * @return the command lines
     */
    public List<String> commands() {
        long handle = acquire();
        byte[] batch;
        try {
            batch = simCommands(handle);
        } finally {
            release();
        }
        return new ArrayList<>(FrameCodec.decodeSingle(batch).headerValues("Command"));
    }

    /**
     * Waits until at least {@code count} commands have been received in total.
     *
     * @param count the total to wait for
     * @param timeoutMs the longest wait
     * @return false on timeout
     */
    public boolean waitForCommands(long count, long timeoutMs) {
        long handle = acquire();
        try {
            return simWaitForCommands(handle, count, timeoutMs);
        } finally {
            release();
        }
    }

    /**
     * Runs an API command against the simulator's state without a connection, as {@code api}
     * on an event socket would; an {@code originate} returns when it ends.
     *
     * @param command the command and its arguments, one line
     * @param timeoutMs the longest wait (0: none)
     * @return the output, e.g. {@code "+OK\n"}
     */
    public String api(String command, long timeoutMs) {
        long handle = acquire();
        byte[] output;
        try {
            output = simApi(handle, utf8(command), timeoutMs);
        } finally {
            release();
        }
        return new String(output, StandardCharsets.UTF_8);
    }

    /**
     * Registers a directory user for {@code userauth user@domain:password}.
     *
     * @param user the user id
     * @param domain the domain
     * @param password {@code esl-password}
     * @param allowedEvents {@code esl-allowed-events}, or null for all
     * @param allowedApi {@code esl-allowed-api}, or null for all
     * @param allowedLog {@code esl-allowed-log}
     */
    public void addUser(String user, String domain, String password, String allowedEvents, String allowedApi,
            boolean allowedLog) {
        EslEvent.Builder frame = EslEvent.builder().header("user", user).header("domain", domain)
                .header("esl-password", password).header("esl-allowed-log", String.valueOf(allowedLog));
        if (allowedEvents != null) {
            frame.header("esl-allowed-events", allowedEvents);
        }
        if (allowedApi != null) {
            frame.header("esl-allowed-api", allowedApi);
        }
        long handle = acquire();
        try {
            simAddUser(handle, FrameCodec.encodeSingle(frame.build()));
        } finally {
            release();
        }
    }

    /**
     * Whether inbound connections accepted from now on are refused like by a denying ACL
     * ({@code text/rude-rejection}, a disconnect notice, the close).
     *
     * @param reject true to refuse them
     */
    public void rejectInbound(boolean reject) {
        long handle = acquire();
        try {
            simRejectInbound(handle, reject);
        } finally {
            release();
        }
    }

    /**
     * Live channels.
     *
     * @return the count
     */
    public int channelCount() {
        long handle = acquire();
        try {
            return simChannelCount(handle);
        } finally {
            release();
        }
    }

    /**
     * Fires events in order, with one native call and one wait for the sockets; standard headers
     * are added in front of each.
     *
     * @param events each with its {@code Event-Name}, other headers and body
     */
    public void fireEvents(List<EslEvent> events) {
        byte[][] encoded = new byte[events.size()][];
        for (int i = 0; i < encoded.length; i++) {
            encoded[i] = FrameCodec.encodeSingle(events.get(i));
        }
        long handle = acquire();
        try {
            simFireEvents(handle, encoded);
        } finally {
            release();
        }
    }

    /**
     * Virtual clock: moves time forward, firing due timers, and returns once the resulting
     * frames are written.
     *
     * @param millis how far
     */
    public void advance(long millis) {
        long handle = acquire();
        try {
            simAdvance(handle, millis);
        } finally {
            release();
        }
    }

    /**
     * Streams recorded {@code text/event-plain} frames round-robin to every subscribed
     * connection.
     *
     * @param corpus concatenated frames (e.g. {@code events-plain.bin})
     * @param events events per connection, 0 for no limit
     * @param durationMs how long, 0 for no limit (one of the two must be set)
     * @param rate events per second, 0 for as fast as possible
     * @return events sent per connection
     */
    public long flood(byte[] corpus, long events, long durationMs, int rate) {
        long handle = acquire();
        try {
            return simFlood(handle, corpus, events, durationMs, rate);
        } finally {
            release();
        }
    }

    // --- natives: rust/jni/src/sim.rs, in the library built with the cargo feature `sim` ---

    private static native long simStart(int port, byte[] password, boolean virtualClock, long heartbeatMs);

    private static native int simPort(long handle);

    private static native void simSetEndpoint(long handle, byte[] name, int behavior, long delayMs, byte[] cause);

    private static native void simSetRoute(long handle, byte[] extension, byte[] apps);

    private static native void simRouteToSocket(long handle, byte[] extension, byte[] target);

    private static native byte[] simCommands(long handle);

    private static native boolean simWaitForCommands(long handle, long count, long timeoutMs);

    private static native byte[] simApi(long handle, byte[] command, long timeoutMs);

    private static native void simRejectInbound(long handle, boolean reject);

    private static native void simAddUser(long handle, byte[] user);

    private static native int simChannelCount(long handle);

    private static native void simFireEvents(long handle, byte[][] events);

    private static native void simAdvance(long handle, long millis);

    private static native long simFlood(long handle, byte[] corpus, long events, long durationMs, int rate);

    private static native void simShutdown(long handle);

    private static native void simDestroy(long handle);
}
