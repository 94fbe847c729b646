package org.esl4j;

/**
 * The server rejected the credentials ({@link Kind#AUTH}, {@code -ERR invalid}) or the client's
 * address ({@link Kind#REJECTED}, an ACL {@code text/rude-rejection}).
 */
public class EslAuthException extends EslException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception for a rejected password or user.
     *
     * @param message the details
     */
    public EslAuthException(String message) {
        super(Kind.AUTH, message);
    }

    /**
     * Creates the exception.
     *
     * @param kind {@link Kind#AUTH} or {@link Kind#REJECTED}
     * @param message the details
     */
    public EslAuthException(Kind kind, String message) {
        super(kind, message);
    }
}
