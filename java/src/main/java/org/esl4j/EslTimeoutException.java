package org.esl4j;

/** A reply, an event or a connection did not arrive within the allowed time. */
public class EslTimeoutException extends EslException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the details
     */
    public EslTimeoutException(String message) {
        super(Kind.TIMEOUT, message);
    }
}
