package org.esl4j.cluster;

import org.esl4j.EslException;

/**
 * A command was addressed to a call UUID the cluster does not know: never seen, already hung up,
 * or evicted by the size cap. The cluster never guesses a node or broadcasts such a command.
 */
public final class UnknownCallException extends EslException {
    private static final long serialVersionUID = 1L;

    /** The UUID; part of the serialized form. */
    private final String callUuid;

    UnknownCallException(String callUuid) {
        super(Kind.COMMAND_FAILED, "no node is known to own call " + callUuid
                + " (never seen, hung up, or evicted from the call map); the command was not sent");
        this.callUuid = callUuid;
    }

    /**
     * The UUID that was not found.
     *
     * @return the call UUID
     */
    public String callUuid() {
        return callUuid;
    }
}
