package org.esl4j;

/** The connection was closed (by either side) before or while the call was waiting. */
public class EslConnectionClosedException extends EslException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the details
     */
    public EslConnectionClosedException(String message) {
        super(Kind.CONNECTION_CLOSED, message);
    }
}
