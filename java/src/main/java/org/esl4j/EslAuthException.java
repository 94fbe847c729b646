package org.esl4j;

/** The server rejected the credentials ({@code -ERR invalid}) or the client's address (ACL). */
public class EslAuthException extends EslException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the details
     */
    public EslAuthException(String message) {
        super(Kind.AUTH, message);
    }
}
