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
        /** The TCP connection could not be opened (refused, unreachable, DNS failure). */
        CONNECT,
        /** The server rejected the password, or the ACL rejected the client. */
        AUTH,
        /** No reply or event arrived within the allowed time. */
        TIMEOUT,
        /** The connection is closed, or closed while the call was waiting. */
        CLOSED,
        /** The server sent something that is not valid Event Socket framing. */
        PROTOCOL,
        /** FreeSWITCH answered the command with {@code -ERR}. */
        COMMAND,
        /** An argument cannot be sent (for example a line break inside a command line). */
        INVALID_ARGUMENT,
        /** The call is not allowed in the current state. */
        INVALID_STATE,
        /** An I/O error on the socket. */
        IO,
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
     *     {@link EslConnectionClosedException} or plain {@code EslException}
     */
    public static EslException of(Kind kind, String message) {
        switch (kind) {
            case AUTH:
                return new EslAuthException(message);
            case TIMEOUT:
                return new EslTimeoutException(message);
            case CLOSED:
                return new EslConnectionClosedException(message);
            default:
                return new EslException(kind, message);
        }
    }
}
