package org.esl4j.internal;

/**
 * Every native method of the {@code esl4j_jni} library, in one place. Not API.
 *
 * <p>Loading this class loads the library ({@link NativeLoader}), checks its ABI version, caches
 * the Java classes Rust calls back into, starts the shared runtime (worker threads:
 * {@value #WORKERS_PROPERTY}, default 2) and connects Rust logging to {@link NativeLog}.
 */
public final class Native {
    /** Version of the Java/native contract (see {@link NativeContract}). */
    static final int ABI_VERSION = NativeContract.ABI_VERSION;
    /** System property: number of runtime worker threads (0 or unset = 2). */
    public static final String WORKERS_PROPERTY = "esl4j.workers";

    static {
        NativeLoader.load();
        init(Integer.getInteger(WORKERS_PROPERTY, 0), NativeLog.configuredLevel());
    }

    private Native() {
    }

    /** Makes sure the library is loaded and initialised; cheap after the first call. */
    public static void ensureLoaded() {
        // The static initializer does the work.
    }

    /**
     * The library's ABI version.
     *
     * @return the ABI version compiled into the library
     */
    static native int abiVersion();

    /**
     * The native crate's version.
     *
     * @return e.g. {@code "0.1.0"}
     */
    public static native String nativeVersion();

    private static native void init(int workers, int logLevel);

    /**
     * Changes the most detailed Rust log level forwarded to Java.
     *
     * @param level {@link NativeLog#OFF} .. {@link NativeLog#TRACE}
     */
    public static native void setLogLevel(int level);

    // --- connections (rust/jni/src/connection.rs) ---

    static native long connectionConnect(byte[] address, byte[] user, byte[] password, byte[] serverName,
            long connectTimeoutMs,
            long commandTimeoutMs, int queueCapacity, boolean blockOnOverflow, long spillMaxEvents,
            long spillMaxBytes, long reconnectInitialDelayMs, long reconnectMaxDelayMs, int reconnectMaxAttempts);

    // Commands: with a null completion the call blocks the calling thread and returns the
    // reply batch; otherwise it returns null at once and completes the NativeCompletion later.

    static native byte[] connectionSendRecv(long handle, byte[] command, long timeoutMs, Object completion);

    static native byte[] connectionApi(long handle, byte[] command, long timeoutMs, Object completion);

    static native byte[] connectionBgapi(long handle, byte[] command, byte[] jobUuid, boolean awaitJob, long timeoutMs,
            Object completion);

    static native byte[] connectionExecute(long handle, byte[] app, byte[] arg, byte[] uuid, int flags, long timeoutMs,
            Object completion);

    static native byte[] connectionSendMsg(long handle, byte[] uuid, byte[] message, long timeoutMs, Object completion);

    static native byte[] connectionSendEvent(long handle, byte[] name, byte[] event, long timeoutMs, Object completion);

    static native byte[] connectionSubscription(long handle, int command, int format, byte[] first, byte[] second,
            Object completion);

    static native byte[] connectionSession(long handle, int command, int number, Object completion);

    static native byte[] connectionPoll(long handle, int max, long timeoutMs);

    static native byte[] connectionPollInto(long handle, byte[] into, int max, long timeoutMs);

    static native byte[] connectionChannelData(long handle);

    static native boolean connectionIsConnected(long handle);

    static native long[] connectionStats(long handle);

    static native void connectionClose(long handle);

    static native void connectionDestroy(long handle);

    // --- an outbound session on a socket the application accepted (rust/jni/src/adopt.rs) ---

    static native long connectionAdoptDescriptor(int fd, long handshakeTimeoutMs, long commandTimeoutMs,
            int queueCapacity, boolean blockOnOverflow, long spillMaxEvents, long spillMaxBytes);

    // --- outbound server (rust/jni/src/server.rs) ---

    static native long serverBind(byte[] address, int maxSessions, int maxHandshakes, long handshakeTimeoutMs,
            int listenBacklog, long commandTimeoutMs, int queueCapacity, boolean blockOnOverflow, long spillMaxEvents,
            long spillMaxBytes);

    static native int serverPort(long handle);

    static native long serverAccept(long handle, long timeoutMs);

    static native void serverRoute(long handle, long session, long key);

    static native byte[] serverPoll(long handle, long[] route, long timeoutMs);

    static native long[] serverStats(long handle);

    static native void serverShutdown(long handle, long drainMs);

    static native void serverDestroy(long handle);
}
