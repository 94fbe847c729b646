package org.esl4j;

/**
 * A local limit was reached: the connection's event queue passed its hard cap because listeners
 * (or a compat {@code recvEvent()} loop) fell too far behind, so the connection was closed and
 * the command's outcome is unknown; or too many commands are in flight. Kind {@link
 * EslException.Kind#OVERLOADED}.
 */
public class EslOverloadedException extends EslException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the details
     */
    public EslOverloadedException(String message) {
        super(Kind.OVERLOADED, message);
    }
}
