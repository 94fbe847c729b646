package org.esl4j;

/**
 * Any failure reported by esl4j: connecting, authenticating, a command, a timeout, a closed
 * connection, or an internal error of the native engine.
 *
 * <p>Unchecked, so call-control code can let it travel. Catch one of the subclasses for the cases
 * callers really handle ({@link EslAuthException}, {@link EslTimeoutException},
 * {@link EslConnectionClosedException}), or switch on {@link #kind()}.
 */
public class EslException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * What went wrong, stable across releases. Keep in sync with the native error mapping
     * ({@code rust/jni/src/error.rs}).
     */
    public enum Kind {
        /** A socket error other than the ones below. */
        IO,
        /** The TCP connection was refused (or the host could not be reached or resolved). */
        REFUSED,
        /** A deadline passed: connect, authentication, a command's reply, a handshake. */
        TIMEOUT,
        /** The server did not accept the password or user. */
        AUTH,
        /** The server rejected the client (ACL: {@code text/rude-rejection}). */
        REJECTED,
        /** The connection is closed; the outcome of a pending command is unknown. */
        CONNECTION_CLOSED,
        /** The peer violated the Event Socket protocol. */
        PROTOCOL,
        /** The command was refused before sending (line break injection, empty or malformed part). */
        INVALID_COMMAND,
        /** The server answered {@code -ERR ...}, or the awaited work failed (channel hung up). */
        COMMAND_FAILED,
        /**
         * A local limit was reached: the event queue's hard cap (the connection was closed), too
         * many commands in flight, the session cap.
         */
        OVERLOADED,
        /** The call is not allowed in the current state (e.g. blocking on an esl4j runtime thread). */
        INVALID_STATE,
        /** A bug inside esl4j, including a caught native panic. */
        INTERNAL
    }

    /** What went wrong; part of the serialized form. */
    private final Kind kind;

    /**
     * Creates an exception.
     *
     * @param kind what went wrong
     * @param message the details
     */
    public EslException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    /**
     * Creates an exception with a cause.
     *
     * @param kind what went wrong
     * @param message the details
     * @param cause the underlying failure
     */
    public EslException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    /**
     * What went wrong.
     *
     * @return the kind, never null
     */
    public Kind kind() {
        return kind;
    }

    /**
     * The exception for a kind and message, of the most specific subclass.
     *
     * @param kind what went wrong
     * @param message the details
     * @return an {@link EslAuthException}, {@link EslTimeoutException},
     *     {@link EslConnectionClosedException}, {@link EslOverloadedException} or plain
     *     {@code EslException}
     */
    public static EslException of(Kind kind, String message) {
        switch (kind) {
            case AUTH:
            case REJECTED:
                return new EslAuthException(kind, message);
            case TIMEOUT:
                return new EslTimeoutException(message);
            case CONNECTION_CLOSED:
                return new EslConnectionClosedException(message);
            case OVERLOADED:
                return new EslOverloadedException(message);
            default:
                return new EslException(kind, message);
        }
    }
}
