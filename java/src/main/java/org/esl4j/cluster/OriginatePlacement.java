package org.esl4j.cluster;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.esl4j.EslClient;
import org.esl4j.EslException;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.dial.OriginateResult;

/**
 * Places originates on a healthy node by the {@link ClusterOptions#placement() placement}, and
 * fails over to the next healthy node only when the command was never sent (see {@link
 * EslCluster#originate(OriginateRequest)} for why never after).
 */
final class OriginatePlacement {
    private final Placement placement;
    /** In configuration order: round robin and tie breaks follow it. */
    private final List<Node> nodes;
    private final CallRegistry calls;
    private final AtomicInteger roundRobin = new AtomicInteger();

    OriginatePlacement(Placement placement, List<Node> nodes, CallRegistry calls) {
        this.placement = placement;
        this.nodes = nodes;
        this.calls = calls;
    }

    CompletableFuture<PlacedOriginate> originate(OriginateRequest request) {
        List<String> legs = new ArrayList<>(request.legUuids());
        BridgeRequest second = request.application().bridgeRequest();
        if (second != null) {
            legs.addAll(second.legUuids());
        }
        CompletableFuture<PlacedOriginate> placed = new CompletableFuture<>();
        place(request, legs, candidates(), 0, new ArrayList<String>(), placed);
        return placed;
    }

    /** The healthy nodes, in the order the placement tries them. */
    private List<Node> candidates() {
        List<Node> healthy = new ArrayList<>();
        for (Node node : nodes) {
            if (node.usableClient() != null) {
                healthy.add(node);
            }
        }
        if (healthy.size() < 2) {
            return healthy;
        }
        if (placement == Placement.ROUND_ROBIN) {
            Collections.rotate(healthy, -Math.floorMod(roundRobin.getAndIncrement(), healthy.size()));
        } else {
            Map<Node, Integer> load = new LinkedHashMap<>();
            for (Node node : healthy) {
                load.put(node, calls.channels(node.name));
            }
            // A stable sort: equal loads keep the configuration order.
            healthy.sort(Comparator.comparing(load::get));
        }
        return healthy;
    }

    private void place(OriginateRequest request, List<String> legs, List<Node> candidates, int first,
            List<String> skipped, CompletableFuture<PlacedOriginate> placed) {
        for (int index = first; index < candidates.size(); index++) {
            Node node = candidates.get(index);
            EslClient client = node.usableClient();
            if (client == null) {
                skipped.add(node.describeState());
                continue;
            }
            // Counted and routable from now on: the call may ring before its events arrive.
            calls.expect(legs, node.name);
            int next = index + 1;
            client.originate(request).whenComplete((result, failure) -> {
                if (failure == null) {
                    settle(node, legs, result);
                    placed.complete(new PlacedOriginate(node.name, result));
                } else if (notSent(failure)) {
                    calls.dropUnconfirmed(legs, node.name);
                    skipped.add(node.name + " refused it: " + unwrap(failure).getMessage());
                    place(request, legs, candidates, next, skipped, placed);
                } else {
                    placed.completeExceptionally(outcomeUnknown(node.name, legs, failure));
                }
            });
            return;
        }
        for (Node node : nodes) {
            if (!candidates.contains(node)) {
                skipped.add(node.describeState());
            }
        }
        placed.completeExceptionally(new NodeUnavailableException(
                "no healthy node could take the originate, so it was not sent: " + String.join("; ", skipped)));
    }

    private void settle(Node node, List<String> legs, OriginateResult result) {
        if (result.succeeded() && result.channelUuid() != null) {
            calls.created(result.channelUuid(), node.name);
        }
        calls.dropUnconfirmed(legs, node.name);
    }

    /** Whether the client refused the command before writing it. */
    private static boolean notSent(Throwable failure) {
        Throwable cause = unwrap(failure);
        return cause instanceof EslException && ((EslException) cause).kind() == EslException.Kind.OVERLOADED;
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    private static Throwable outcomeUnknown(String node, List<String> legs, Throwable failure) {
        Throwable cause = unwrap(failure);
        if (!(cause instanceof EslException) || ((EslException) cause).kind() == EslException.Kind.INVALID_COMMAND) {
            return cause;
        }
        EslException explained = EslException.of(((EslException) cause).kind(), "originate on node " + node + ": "
                + cause.getMessage() + "; not tried on another node, since the call may exist on " + node
                + " (its UUIDs " + legs + " stay routed there)");
        explained.initCause(cause);
        return explained;
    }
}
