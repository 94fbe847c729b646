package org.esl4j;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.esl4j.dial.AttemptWatchdog;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.BridgeResult;
import org.esl4j.internal.NativeConnection;

/**
 * Commands on one channel, shared by the inbound client (any channel by UUID) and the outbound
 * session (its own channel, UUID null): execute an application and wait for its
 * CHANNEL_EXECUTE_COMPLETE, and the typed bridge.
 */
final class ChannelControl {
    private ChannelControl() {}

    /** Runs an application and completes with its CHANNEL_EXECUTE_COMPLETE. */
    static CompletableFuture<EslEvent> execute(NativeConnection connection, String uuid, String app, String arg,
            Duration timeout) {
        return connection.execute(app, arg, uuid, true, false, true, timeout.toMillis())
                .thenApply(ChannelControl::completionOf);
    }

    private static EslEvent completionOf(List<EslEvent> replyAndCompletion) {
        if (replyAndCompletion.size() < 2) {
            throw new EslException(EslException.Kind.PROTOCOL, "execute finished without CHANNEL_EXECUTE_COMPLETE");
        }
        return replyAndCompletion.get(1);
    }

    /**
     * Sets the bridge's caller-channel variables, runs {@code bridge} and reads its outcome. A
     * watchdog ends a ring phase FreeSWITCH overruns by killing the dialled legs, unless the
     * controlled channel reported CHANNEL_BRIDGE (answered) first.
     */
    static CompletableFuture<BridgeResult> bridge(NativeConnection connection, EventRouter router, AttemptWatchdog watchdog,
            String uuid, String ownUuid, BridgeRequest request, Duration margin, Duration callLimit) {
        CompletableFuture<Void> prepared = CompletableFuture.completedFuture(null);
        for (Map.Entry<String, String> variable : request.callerChannelVariables().entrySet()) {
            String assignment = variable.getKey() + "=" + variable.getValue();
            prepared = prepared.thenCompose(done -> execute(connection, uuid, "set", assignment, callLimit))
                    .thenApply(event -> (Void) null);
        }
        CompletableFuture<Boolean> answered = new CompletableFuture<>();
        Subscription watch = router.onChannel(ownUuid, event -> {
            if ("CHANNEL_BRIDGE".equals(event.eventName())) {
                answered.complete(true);
            }
        });
        // A failed bridge that hangs the channel up still completes: FreeSWITCH sends the
        // bridge's CHANNEL_EXECUTE_COMPLETE after CHANNEL_HANGUP but before CHANNEL_HANGUP_COMPLETE,
        // where the engine gives up on the wait (transcript 04).
        CompletableFuture<BridgeResult> attempt = prepared
                .thenCompose(done -> execute(connection, uuid, "bridge", request.applicationArgument(), callLimit))
                .thenApply(BridgeResult::fromExecuteComplete);
        attempt.whenComplete((result, failure) -> watch.close());
        List<String> legs = new ArrayList<>(request.legUuids());
        return watchdog.guard(ringPhaseOrAnswered(attempt, answered), request.watchdogDeadline(margin),
                        BridgeResult::watchdogExpired, () -> killLegs(connection, legs))
                .thenCompose(first -> first == null ? attempt : CompletableFuture.completedFuture(first));
    }

    /** Ends the legs of an attempt the watchdog gave up on; replies are not awaited. */
    static void killLegs(NativeConnection connection, List<String> uuids) {
        for (String uuid : uuids) {
            connection.api("uuid_kill " + uuid + " ALLOTTED_TIMEOUT", 0);
        }
    }

    /**
     * Completes with the outcome if it comes during the ring phase, or with null once the bridge is
     * answered (the watchdog then stops; the caller waits for the outcome itself).
     */
    private static CompletableFuture<BridgeResult> ringPhaseOrAnswered(CompletableFuture<BridgeResult> attempt,
            CompletableFuture<Boolean> answered) {
        CompletableFuture<BridgeResult> either = new CompletableFuture<>();
        attempt.whenComplete((result, failure) -> {
            if (failure != null) {
                either.completeExceptionally(failure);
            } else {
                either.complete(result);
            }
        });
        answered.thenAccept(yes -> either.complete(null));
        return either;
    }
}
