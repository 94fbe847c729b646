package org.esl4j.cluster;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.esl4j.EslClient;
import org.esl4j.EslException;
import org.esl4j.dial.HangupCause;
import org.esl4j.internal.Words;

/**
 * Sends a command about a call to the node that owns it by the {@link CallRegistry}; an unknown
 * call or an owner that takes no commands fails the command without sending anything.
 */
final class CallRouter {
    private final Map<String, Node> nodesByName;
    private final CallRegistry calls;

    CallRouter(Map<String, Node> nodesByName, CallRegistry calls) {
        this.nodesByName = nodesByName;
        this.calls = calls;
    }

    String nodeOf(String callUuid) {
        return calls.ownerOf(requireUuid(callUuid));
    }

    /** {@code uuid_kill}; a {@code -ERR} reply forgets the call and fails the future. */
    CompletableFuture<Void> hangup(String callUuid, HangupCause cause) {
        return routed(callUuid, client -> client.api("uuid_kill " + callUuid + " " + cause.name())).thenApply(output -> {
            String reply = output.trim();
            if (reply.startsWith("-ERR")) {
                String owner = calls.ownerOf(callUuid);
                if (owner != null) {
                    calls.hungUp(callUuid, owner);
                }
                throw new EslException(EslException.Kind.COMMAND_FAILED, "uuid_kill " + callUuid + ": " + reply);
            }
            return null;
        });
    }

    /** Runs {@code command} on the client of the node that owns {@code callUuid}. */
    <T> CompletableFuture<T> routed(String callUuid, Function<EslClient, CompletableFuture<T>> command) {
        requireUuid(callUuid);
        CompletableFuture<T> failed = new CompletableFuture<>();
        String owner = calls.ownerOf(callUuid);
        if (owner == null) {
            failed.completeExceptionally(new UnknownCallException(callUuid));
            return failed;
        }
        Node node = nodesByName.get(owner);
        EslClient client = node.usableClient();
        if (client == null) {
            failed.completeExceptionally(new NodeUnavailableException("call " + callUuid + " belongs to node " + owner
                    + ", which takes no commands now (" + node.describeState() + "); the command was not sent"));
            return failed;
        }
        return command.apply(client);
    }

    /** A UUID is one word: anything else could smuggle arguments into a command line. */
    static String requireUuid(String callUuid) {
        return Words.requireWord(callUuid, "callUuid");
    }
}
