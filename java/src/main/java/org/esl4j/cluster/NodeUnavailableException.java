package org.esl4j.cluster;

import org.esl4j.EslException;

/**
 * A command could not be sent because no suitable node is up: no healthy node for an originate,
 * or the node that owns a call is reconnecting or down. Nothing was sent, so retrying is safe.
 */
public final class NodeUnavailableException extends EslException {
    private static final long serialVersionUID = 1L;

    NodeUnavailableException(String message) {
        super(Kind.INVALID_STATE, message);
    }
}
