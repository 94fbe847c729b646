package org.esl4j.readme;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.esl4j.ClientOptions;
import org.esl4j.ReconnectPolicy;
import org.esl4j.cluster.ClusterOptions;
import org.esl4j.cluster.EslCluster;
import org.esl4j.cluster.PlacedOriginate;
import org.esl4j.cluster.Placement;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.dial.Timeouts;

/** README, "Several FreeSWITCH servers": placement, routing by call UUID, sharded events. */
public final class ClusterQuickStart {
    private ClusterQuickStart() {
    }

    /**
     * Places one call on the least busy server, hangs it up through the server that owns it,
     * and prints the answers this instance handles.
     *
     * @param fs1 the first server
     * @param fs2 the second server
     * @param instanceIndex this application instance, 0 to {@code instanceCount - 1}
     * @param instanceCount how many instances share the calls
     * @return the node the call was placed on
     * @throws Exception when no server is up or the call cannot be placed in time
     */
    public static String run(ClientOptions fs1, ClientOptions fs2, int instanceIndex, int instanceCount) throws Exception {
        ClusterOptions options = ClusterOptions.builder()
                .node("fs1", fs1)
                .node("fs2", fs2)
                .placement(Placement.LEAST_ACTIVE_CALLS)
                .shard(instanceIndex, instanceCount) // each call's events reach one instance only
                .build();
        try (EslCluster cluster = EslCluster.start(options)) { // connects in the background
            if (!cluster.awaitUp(1, Duration.ofSeconds(5))) {
                throw new IllegalStateException("no FreeSWITCH is up: " + cluster.states());
            }
            cluster.onEvent("CHANNEL_ANSWER", e -> System.out.println(e.node() + ": answered " + e.event().uniqueId()));
            cluster.subscribe("CHANNEL_ANSWER").get(5, TimeUnit.SECONDS);
            PlacedOriginate call = cluster.originate(OriginateRequest.to(Endpoint.user("1000"))
                    .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30))).build()).get(60, TimeUnit.SECONDS);
            if (call.result().succeeded()) {
                // Sent to call.node(), the server that owns this UUID.
                cluster.hangup(call.result().channelUuid(), HangupCause.NORMAL_CLEARING).get(5, TimeUnit.SECONDS);
            }
            return call.node();
        }
    }

    /**
     * Two servers given as arguments (default 127.0.0.1:8021 and 127.0.0.1:8022), one instance.
     *
     * @param args {@code host1:port1 host2:port2}
     * @throws Exception when no server is up
     */
    public static void main(String[] args) throws Exception {
        ClientOptions[] servers = new ClientOptions[2];
        String[] addresses = args.length == 2 ? args : new String[] {"127.0.0.1:8021", "127.0.0.1:8022"};
        for (int i = 0; i < 2; i++) {
            String[] hostAndPort = addresses[i].split(":", 2);
            servers[i] = ClientOptions.builder().host(hostAndPort[0]).port(Integer.parseInt(hostAndPort[1]))
                    .reconnect(ReconnectPolicy.backoff(Duration.ofMillis(500), Duration.ofSeconds(30), 0)).build();
        }
        System.out.println("placed on " + run(servers[0], servers[1], 0, 1));
    }
}
