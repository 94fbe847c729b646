package org.esl4j.internal;

/**
 * Every native method of the {@code esl4j_jni} library, in one place. Not API.
 *
 * <p>Loading this class loads the library ({@link NativeLoader}), checks its ABI version, caches
 * the Java classes Rust calls back into, starts the shared runtime (worker threads:
 * {@value #WORKERS_PROPERTY}, default 2) and connects Rust logging to {@link NativeLog}.
 */
public final class Native {
    /** Version of the Java/native contract. Keep in sync with {@code ABI_VERSION} in lib.rs. */
    static final int ABI_VERSION = 2;
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

    static native long connectionConnect(byte[] address, byte[] user, byte[] password, long connectTimeoutMs,
            long commandTimeoutMs, int queueCapacity, boolean blockOnOverflow, long reconnectInitialDelayMs,
            long reconnectMaxDelayMs, int reconnectMaxAttempts);

    static native void connectionCommand(long handle, int op, byte[] a, byte[] b, byte[] c, long number,
            long timeoutMs, Object completion);

    static native byte[] connectionPoll(long handle, int max, long timeoutMs);

    static native byte[] connectionChannelData(long handle);

    static native boolean connectionIsConnected(long handle);

    static native long[] connectionStats(long handle);

    static native void connectionClose(long handle);

    static native void connectionDestroy(long handle);

    // --- outbound server (rust/jni/src/server.rs) ---

    static native long serverBind(byte[] address, int maxSessions, long handshakeTimeoutMs, long commandTimeoutMs,
            int queueCapacity, boolean blockOnOverflow);

    static native int serverPort(long handle);

    static native long serverAccept(long handle, long timeoutMs);

    static native void serverRoute(long handle, long session, long key);

    static native byte[] serverPoll(long handle, long[] route, long timeoutMs);

    static native long[] serverStats(long handle);

    static native void serverShutdown(long handle, long drainMs);

    static native void serverDestroy(long handle);
}
