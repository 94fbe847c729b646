package org.esl4j.internal;

/**
 * The numbers Java and the native library must agree on: the twin of {@code
 * rust/jni/src/contract.rs}, whose tests read this file and fail the build when a constant is
 * missing on one side or has another value. Add a constant to both files, with the same name. Not
 * API.
 */
final class NativeContract {
    /** Version of the Java/native contract; the loader refuses a library with another one. */
    static final int ABI_VERSION = 7;

    /** {@code connectionSubscription}: {@code event <format> <names>}. */
    static final int SUBSCRIPTION_EVENT = 0;
    /** {@code nixevent <names>}. */
    static final int SUBSCRIPTION_NIXEVENT = 1;
    /** {@code noevents}. */
    static final int SUBSCRIPTION_NOEVENTS = 2;
    /** {@code myevents [<uuid>] <format>}. */
    static final int SUBSCRIPTION_MYEVENTS = 3;
    /** {@code filter <header> <value>}. */
    static final int SUBSCRIPTION_FILTER = 4;
    /** {@code filter delete <header> [<value>]}, or {@code filter delete all} without a header. */
    static final int SUBSCRIPTION_FILTER_DELETE = 5;
    /** {@code log <level>}. */
    static final int SUBSCRIPTION_LOG = 6;
    /** {@code nolog}. */
    static final int SUBSCRIPTION_NOLOG = 7;

    /** {@code connectionSession}: {@code linger [<seconds>]}, no time when negative. */
    static final int SESSION_LINGER = 0;
    /** {@code nolinger}. */
    static final int SESSION_NOLINGER = 1;
    /** {@code resume}. */
    static final int SESSION_RESUME = 2;
    /** {@code divert_events on|off}, on when the number is non-zero. */
    static final int SESSION_DIVERT_EVENTS = 3;

    /** Event format {@code plain}. */
    static final int FORMAT_PLAIN = 0;
    /** Event format {@code json}. */
    static final int FORMAT_JSON = 1;
    /** Event format {@code xml}. */
    static final int FORMAT_XML = 2;

    /** {@code connectionExecute} flag: {@code event-lock: true}. */
    static final int EXECUTE_EVENT_LOCK = 1;
    /** {@code connectionExecute} flag: {@code async: true}. */
    static final int EXECUTE_ASYNC = 2;
    /** {@code connectionExecute} flag: complete at the matching {@code CHANNEL_EXECUTE_COMPLETE}. */
    static final int EXECUTE_WAIT = 4;

    private NativeContract() {
    }

    /** Poll batch item kind (appended, never renumbered): an event. */
    static final int KIND_EVENT = 0;
    /** Item kind: a {@code log/data} line. */
    static final int KIND_LOG = 1;
    /** Item kind: a {@code text/disconnect-notice}. */
    static final int KIND_DISCONNECT_NOTICE = 2;
    /** Item kind: the engine lost the connection and will reconnect. */
    static final int KIND_DISCONNECTED = 3;
    /** Item kind: the engine reconnected. */
    static final int KIND_RECONNECTED = 4;
    /** Item kind: a frame of an unknown content type. */
    static final int KIND_UNKNOWN = 5;
    /** Item kind: a {@code command/reply} or {@code api/response}. */
    static final int KIND_REPLY = 6;
    /** Item kind: the event queue reached its hard cap; the connection is closed. */
    static final int KIND_OVERLOADED = 7;
    /** Poll batch frame flag: header values are still URL-encoded. */
    static final int FLAG_VALUES_ENCODED = 1;
    /**
     * Frame bytes (as the engine's queue counts them) one poll takes at most, at least one item;
     * the reused poll arrays are sized from it (192 KiB).
     */
    static final int POLL_BATCH_BYTES = 196608;
}
