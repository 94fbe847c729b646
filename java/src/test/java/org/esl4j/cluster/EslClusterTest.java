package org.esl4j.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.esl4j.ClientOptions;
import org.esl4j.EslEvent;
import org.esl4j.EslException;
import org.esl4j.ReconnectPolicy;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.internal.Native;
import org.esl4j.testing.EndpointBehavior;
import org.esl4j.testing.EslSimulator;
import org.junit.After;
import org.junit.BeforeClass;
import org.junit.Test;

/** The cluster against two or three simulators in this JVM. */
public class EslClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final List<EslSimulator> sims = new ArrayList<>();
    private final List<EslCluster> clusters = new ArrayList<>();

    @BeforeClass
    public static void needNative() {
        boolean loaded;
        try {
            Native.ensureLoaded();
            loaded = true;
        } catch (Throwable unavailable) {
            loaded = false;
        }
        assumeTrue("native library not available", loaded);
    }

    @After
    public void stop() {
        for (EslCluster cluster : clusters) {
            cluster.close();
        }
        for (EslSimulator sim : sims) {
            sim.close();
        }
    }

    /** A simulator where user/1000 answers at once (the call then parks). */
    private EslSimulator answeringSim() {
        return track(EslSimulator.builder().heartbeat(Duration.ZERO).start().registerUser("1000"));
    }

    private EslSimulator track(EslSimulator sim) {
        sims.add(sim);
        return sim;
    }

    /** Nodes n0, n1, ... on the simulators, in order. */
    private static ClusterOptions.Builder nodes(EslSimulator... on) {
        ClusterOptions.Builder builder = ClusterOptions.builder().retryInterval(Duration.ofMillis(50));
        for (int i = 0; i < on.length; i++) {
            builder.node("n" + i, on[i].clientOptions().build());
        }
        return builder;
    }

    private EslCluster startUp(ClusterOptions options) {
        EslCluster cluster = EslCluster.start(options);
        clusters.add(cluster);
        assertTrue("nodes up: " + cluster.states(), cluster.awaitUp(options.nodes().size(), WAIT));
        return cluster;
    }

    private static OriginateRequest callUser1000() {
        return OriginateRequest.to(Endpoint.user("1000")).build();
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        return future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static PlacedOriginate placeAnswered(EslCluster cluster) throws Exception {
        PlacedOriginate placed = get(cluster.originate(callUser1000()));
        assertTrue(placed.toString(), placed.result().succeeded());
        return placed;
    }

    /** The command lines a simulator received that mention {@code text}. */
    private static List<String> commandsWith(EslSimulator sim, String text) {
        List<String> matching = new ArrayList<>();
        for (String line : sim.commands()) {
            if (line.contains(text)) {
                matching.add(line);
            }
        }
        return matching;
    }

    private static Throwable failureOf(CompletableFuture<?> future) throws Exception {
        try {
            future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException failed) {
            return failed.getCause();
        }
        throw new AssertionError("expected a failure");
    }

    /** Takes from the queue until {@code expected} comes, failing after the wait. */
    private static void awaitItem(BlockingQueue<String> queue, String expected) throws InterruptedException {
        List<String> seen = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            String item = queue.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (item == null) {
                fail("no " + expected + " within " + WAIT + "; saw " + seen);
            }
            if (item.equals(expected)) {
                return;
            }
            seen.add(item);
        }
    }

    // ---- placement ------------------------------------------------------------------------------

    @Test
    public void roundRobinPlacesOnEachNodeInTurnAndEachSimulatorGetsItsOwnCalls() throws Exception {
        EslSimulator[] on = {answeringSim(), answeringSim(), answeringSim()};
        EslCluster cluster = startUp(nodes(on).placement(Placement.ROUND_ROBIN).build());
        List<String> placedOn = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            PlacedOriginate placed = placeAnswered(cluster);
            placedOn.add(placed.node());
            String uuid = placed.result().channelUuid();
            int node = Integer.parseInt(placed.node().substring(1));
            for (int sim = 0; sim < on.length; sim++) {
                assertEquals("originate of " + uuid + " on sim " + sim, sim == node ? 1 : 0,
                        commandsWith(on[sim], uuid).size());
            }
            assertEquals(placed.node(), cluster.nodeOf(uuid));
        }
        assertEquals(Arrays.asList("n0", "n1", "n2", "n0", "n1", "n2"), placedOn);
    }

    @Test
    public void leastActiveCallsPicksTheNodeWithFewestChannels() throws Exception {
        EslSimulator[] on = {answeringSim(), answeringSim()};
        EslCluster cluster = startUp(nodes(on).placement(Placement.LEAST_ACTIVE_CALLS).build());
        BlockingQueue<String> hangups = new LinkedBlockingQueue<>();
        cluster.onEvent("CHANNEL_HANGUP_COMPLETE", event -> hangups.add(event.event().uniqueId()));
        List<PlacedOriginate> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int before0 = cluster.activeChannels("n0");
            int before1 = cluster.activeChannels("n1");
            PlacedOriginate placed = placeAnswered(cluster);
            calls.add(placed);
            assertEquals("counts " + before0 + "/" + before1, before1 < before0 ? "n1" : "n0", placed.node());
        }
        assertEquals(2, cluster.activeChannels("n0"));
        assertEquals(2, cluster.activeChannels("n1"));
        // Empty n0: least-active now sends everything there until it catches up; round robin would not.
        for (PlacedOriginate call : calls) {
            if (call.node().equals("n0")) {
                get(cluster.hangup(call.result().channelUuid(), HangupCause.NORMAL_CLEARING));
                awaitItem(hangups, call.result().channelUuid());
            }
        }
        assertEquals(0, cluster.activeChannels("n0"));
        assertEquals("n0", placeAnswered(cluster).node());
        assertEquals("n0", placeAnswered(cluster).node());
        assertEquals(2, cluster.activeChannels("n0"));
        assertEquals("a tie goes to the node configured first", "n0", placeAnswered(cluster).node());
    }

    @Test
    public void aNodeThatWentDownIsSkippedAndTheOthersTakeEveryCall() throws Exception {
        EslSimulator[] on = {answeringSim(), answeringSim()};
        EslCluster cluster = startUp(nodes(on).placement(Placement.ROUND_ROBIN).build());
        CountDownLatch n0Down = new CountDownLatch(1);
        cluster.onNodeState((node, previous, current) -> {
            if (node.equals("n0") && current == NodeState.DOWN) {
                n0Down.countDown();
            }
        });
        on[0].close();
        assertTrue("n0 noticed down: " + cluster.states(), n0Down.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        for (int i = 0; i < 3; i++) {
            PlacedOriginate placed = placeAnswered(cluster);
            assertEquals("n1", placed.node());
            assertEquals(1, commandsWith(on[1], placed.result().channelUuid()).size());
        }
    }

    @Test
    public void withEveryNodeDownNothingIsSentAndTheFailureSaysSo() throws Exception {
        EslSimulator only = answeringSim();
        EslCluster cluster = startUp(nodes(only).build());
        CountDownLatch down = new CountDownLatch(1);
        cluster.onNodeState((node, previous, current) -> {
            if (current == NodeState.DOWN) {
                down.countDown();
            }
        });
        only.close();
        assertTrue(down.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        Throwable failure = failureOf(cluster.originate(callUser1000()));
        assertTrue(String.valueOf(failure), failure instanceof NodeUnavailableException);
        assertTrue(failure.getMessage(), failure.getMessage().contains("n0 is DOWN"));
        assertEquals("nothing routed for an unsent originate", 0, cluster.trackedCalls());
    }

    @Test
    public void anOriginateThatMayHaveBeenSentIsNeverSentToAnotherNode() throws Exception {
        EslSimulator ringing = track(EslSimulator.builder().virtualClock().heartbeat(Duration.ZERO).start()
                .endpoint("user/1000", EndpointBehavior.neverAnswer()));
        EslSimulator spare = answeringSim();
        EslCluster cluster = startUp(nodes(ringing, spare).placement(Placement.ROUND_ROBIN).build());
        OriginateRequest request = callUser1000();
        CompletableFuture<PlacedOriginate> placed = cluster.originate(request);
        ringing.awaitCommand(line -> line.contains(request.uuid()), WAIT);
        assertEquals("routable while it rings", "n0", cluster.nodeOf(request.uuid()));
        ringing.close();
        Throwable failure = failureOf(placed);
        assertTrue(String.valueOf(failure), failure instanceof EslException);
        assertEquals(EslException.Kind.CONNECTION_CLOSED, ((EslException) failure).kind());
        assertTrue(failure.getMessage(), failure.getMessage().contains("not tried on another node"));
        assertTrue(spare.commands().toString(), commandsWith(spare, "originate").isEmpty());
        assertEquals("the call may exist on n0, so it stays routed there", "n0", cluster.nodeOf(request.uuid()));
    }

    // ---- routing by call UUID -------------------------------------------------------------------

    @Test
    public void commandsForACallGoToTheNodeThatOwnsIt() throws Exception {
        EslSimulator[] on = {answeringSim(), answeringSim()};
        EslCluster cluster = startUp(nodes(on).placement(Placement.ROUND_ROBIN).build());
        String first = placeAnswered(cluster).result().channelUuid();
        String second = placeAnswered(cluster).result().channelUuid();
        assertEquals("n0", cluster.nodeOf(first));
        assertEquals("n1", cluster.nodeOf(second));

        // uuid_exists is true only on the simulator that has the channel.
        assertEquals("true", get(cluster.apiForCall(first, "uuid_exists " + first)).trim());
        assertEquals("true", get(cluster.apiForCall(second, "uuid_exists " + second)).trim());
        assertEquals("true", get(cluster.bgapiForCall(second, "uuid_exists " + second)).trim());
        EslEvent played = get(cluster.execute(first, "playback", "ivr/hello.wav", WAIT));
        assertEquals("CHANNEL_EXECUTE_COMPLETE", played.eventName());
        assertEquals(1, commandsWith(on[0], "sendmsg " + first).size());
        assertTrue(commandsWith(on[1], "sendmsg").isEmpty());

        get(cluster.hangup(second, HangupCause.NORMAL_CLEARING));
        assertEquals(Collections.singletonList("api uuid_kill " + second + " NORMAL_CLEARING"), commandsWith(on[1], "uuid_kill"));
        assertTrue(commandsWith(on[0], "uuid_kill").isEmpty());
        assertEquals(1, on[0].channelCount());
        assertEquals(0, on[1].channelCount());
    }

    @Test
    public void anUnknownCallFailsClearlyAndNothingIsSent() throws Exception {
        EslSimulator[] on = {answeringSim(), answeringSim()};
        EslCluster cluster = startUp(nodes(on).build());
        String stranger = "6c1e0b6e-0000-4000-8000-000000000001";
        for (CompletableFuture<?> command : Arrays.asList(cluster.hangup(stranger, HangupCause.NORMAL_CLEARING),
                cluster.apiForCall(stranger, "uuid_exists " + stranger), cluster.bgapiForCall(stranger, "status"),
                cluster.execute(stranger, "playback", "x.wav", WAIT))) {
            Throwable failure = failureOf(command);
            assertTrue(String.valueOf(failure), failure instanceof UnknownCallException);
            assertEquals(stranger, ((UnknownCallException) failure).callUuid());
        }
        assertNull(cluster.nodeOf(stranger));
        for (EslSimulator sim : on) {
            assertTrue(sim.commands().toString(), commandsWith(sim, stranger).isEmpty());
            assertTrue(sim.commands().toString(), commandsWith(sim, "status").isEmpty());
        }
        try {
            cluster.hangup(stranger + " NORMAL_CLEARING\napi hupall", HangupCause.NORMAL_CLEARING);
            fail("a UUID with blanks must be refused");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage().contains("blank"));
        }
    }

    @Test
    public void aHangupSeenFromTheNodeForgetsTheCall() throws Exception {
        EslSimulator sim = answeringSim();
        EslCluster cluster = startUp(nodes(sim).build());
        String uuid = placeAnswered(cluster).result().channelUuid();
        assertEquals(1, cluster.activeChannels("n0"));
        CountDownLatch hungUp = new CountDownLatch(1);
        cluster.onChannel(uuid, event -> {
            if ("CHANNEL_HANGUP_COMPLETE".equals(event.event().eventName())) {
                hungUp.countDown();
            }
        });
        sim.hangup(uuid, HangupCause.NORMAL_CLEARING); // not through the cluster
        assertTrue(hungUp.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertNull(cluster.nodeOf(uuid));
        assertEquals(0, cluster.activeChannels("n0"));
        assertEquals(0, cluster.trackedCalls());
        assertTrue(failureOf(cluster.hangup(uuid, HangupCause.NORMAL_CLEARING)) instanceof UnknownCallException);
    }

    @Test
    public void theCallMapKeepsOnlyTheNewestCallsUpToItsCap() throws Exception {
        EslSimulator sim = answeringSim();
        EslCluster cluster = startUp(nodes(sim).maxTrackedCalls(3).build());
        BlockingQueue<String> created = new LinkedBlockingQueue<>();
        cluster.onEvent("CHANNEL_CREATE", event -> created.add(event.event().uniqueId()));
        List<String> uuids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String uuid = placeAnswered(cluster).result().channelUuid();
            awaitItem(created, uuid); // its CHANNEL_CREATE is counted too, before the next call
            uuids.add(uuid);
            assertEquals(Math.min(i + 1, 3), cluster.trackedCalls());
        }
        assertEquals(3, cluster.activeChannels("n0"));
        assertNull(cluster.nodeOf(uuids.get(0)));
        assertNull(cluster.nodeOf(uuids.get(1)));
        for (String kept : uuids.subList(2, 5)) {
            assertEquals("n0", cluster.nodeOf(kept));
        }
        assertTrue(failureOf(cluster.hangup(uuids.get(0), HangupCause.NORMAL_CLEARING)) instanceof UnknownCallException);
        assertEquals("the evicted call itself is still up", 5, sim.channelCount());
    }

    @Test
    public void callsAlreadyUpWhenTheClusterConnectsAreRoutable() throws Exception {
        EslSimulator sim = answeringSim().route("parked", "answer", "park");
        String before = sim.call("parked");
        // Parked: the call is fully set up, so the channel list the cluster reads is complete.
        sim.awaitEvent(event -> before.equals(event.uniqueId()) && "CHANNEL_PARK".equals(event.eventName()), WAIT);
        EslCluster cluster = startUp(nodes(sim).build());
        assertEquals("n0", cluster.nodeOf(before));
        assertEquals(sim.channelCount(), cluster.activeChannels("n0"));
        get(cluster.hangup(before, HangupCause.NORMAL_CLEARING));
        assertEquals(1, commandsWith(sim, "uuid_kill " + before).size());
    }

    @Test
    public void afterAReconnectTheCallsThatEndedDuringTheGapAreForgotten() throws Exception {
        EslSimulator sim = answeringSim();
        int port = sim.port();
        ClientOptions withReconnect = sim.clientOptions()
                .reconnect(ReconnectPolicy.backoff(Duration.ofMillis(20), Duration.ofMillis(100), 0)).build();
        EslCluster cluster = startUp(ClusterOptions.builder().node("n0", withReconnect).build());
        BlockingQueue<String> changes = new LinkedBlockingQueue<>();
        cluster.onNodeState((node, previous, current) -> changes.add(node + ":" + current));
        String uuid = placeAnswered(cluster).result().channelUuid();
        assertEquals(1, cluster.activeChannels("n0"));
        sim.close(); // its calls end with it, and no hang-up event reaches the cluster
        awaitItem(changes, "n0:RECONNECTING");
        assertEquals("still remembered during the gap", "n0", cluster.nodeOf(uuid));
        track(restartOn(port));
        awaitItem(changes, "n0:UP");
        assertNull(cluster.nodeOf(uuid));
        assertEquals(0, cluster.activeChannels("n0"));
    }

    @Test
    public void aServerLostJustAsItsNodeComesUpIsReconnectedNotDropped() throws Exception {
        EslSimulator first = answeringSim();
        int port = first.port();
        ClientOptions withReconnect = first.clientOptions()
                .reconnect(ReconnectPolicy.backoff(Duration.ofMillis(20), Duration.ofMillis(100), 0)).build();
        // Nothing listens until the state listener is in place, so the first UP is told to it.
        first.close();
        EslCluster cluster = EslCluster.start(ClusterOptions.builder().retryInterval(Duration.ofMillis(50))
                .node("n0", withReconnect).build());
        clusters.add(cluster);
        // The UP notice is told on the thread that installed the client: holding it there keeps
        // that thread between "node UP" and its last look at the connection while the server goes.
        CountDownLatch upTold = new CountDownLatch(1);
        CountDownLatch serverGone = new CountDownLatch(1);
        BlockingQueue<String> changes = new LinkedBlockingQueue<>();
        List<String> told = Collections.synchronizedList(new ArrayList<>());
        cluster.onNodeState((node, previous, current) -> {
            told.add(node + ":" + current); // before the queue the test waits on
            changes.add(node + ":" + current);
            if (current == NodeState.UP && upTold.getCount() > 0) {
                upTold.countDown();
                try {
                    serverGone.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        EslSimulator sim = track(restartOn(port));
        assertTrue("the first UP was told to the listener", upTold.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        sim.close();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (cluster.state("n0") != NodeState.RECONNECTING) {
            assertTrue("n0 never noticed the loss: " + cluster.states(), System.nanoTime() < deadline);
            Thread.yield();
        }
        serverGone.countDown();
        track(restartOn(port));
        awaitItem(changes, "n0:RECONNECTING");
        awaitItem(changes, "n0:UP");
        assertEquals("the reconnecting client was kept", Arrays.asList("n0:UP", "n0:RECONNECTING", "n0:UP"), told);
    }

    // ---- merged events --------------------------------------------------------------------------

    @Test
    public void eventsOfEveryNodeArriveTaggedWithTheirNode() throws Exception {
        EslSimulator[] on = {answeringSim(), answeringSim(), answeringSim()};
        EslCluster cluster = startUp(nodes(on).build());
        BlockingQueue<ClusterEvent> received = new LinkedBlockingQueue<>();
        cluster.onEvent("esl4j::cluster_test", received::add);
        get(cluster.subscribe("CUSTOM", "esl4j::cluster_test"));
        for (int i = 0; i < on.length; i++) {
            on[i].fireEvent(EslEvent.builder().header("Event-Name", "CUSTOM")
                    .header("Event-Subclass", "esl4j::cluster_test").header("Fired-By", "n" + i).build());
        }
        Map<String, String> nodeByFirer = new HashMap<>();
        for (int i = 0; i < on.length; i++) {
            ClusterEvent event = received.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull("event " + i + " of " + on.length, event);
            nodeByFirer.put(event.event().header("Fired-By"), event.node());
        }
        Map<String, String> expected = new HashMap<>();
        for (int i = 0; i < on.length; i++) {
            expected.put("n" + i, "n" + i);
        }
        assertEquals(expected, nodeByFirer);
    }

    @Test
    public void twoShardedInstancesSplitTheCallsWithoutOverlapOrGap() throws Exception {
        EslSimulator[] on = {answeringSim(), answeringSim()};
        EslCluster[] instances = {startUp(nodes(on).shard(0, 2).build()), startUp(nodes(on).shard(1, 2).build())};
        int callCount = 16;
        CountDownLatch allSeen = new CountDownLatch(callCount);
        List<Set<String>> handled = Arrays.asList(ConcurrentHashMap.<String>newKeySet(), ConcurrentHashMap.<String>newKeySet());
        for (int i = 0; i < instances.length; i++) {
            Set<String> mine = handled.get(i);
            instances[i].onEvent("CHANNEL_CREATE", event -> {
                mine.add(event.event().uniqueId());
                allSeen.countDown();
            });
        }
        // Unsharded channel listeners run after each instance's call tracker: both have seen the call.
        CountDownLatch trackedByBoth = new CountDownLatch(2 * callCount);
        Set<String> placed = new HashSet<>();
        for (int i = 0; i < callCount; i++) {
            OriginateRequest request = callUser1000();
            for (EslCluster instance : instances) {
                instance.onChannel(request.uuid(), event -> {
                    if ("CHANNEL_CREATE".equals(event.event().eventName())) {
                        trackedByBoth.countDown();
                    }
                });
            }
            PlacedOriginate call = get(instances[i % 2].originate(request));
            assertTrue(call.toString(), call.result().succeeded());
            placed.add(call.result().channelUuid());
        }
        assertTrue("every call reached one instance", allSeen.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertTrue("both instances tracked every call", trackedByBoth.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        Set<String> both = new HashSet<>(handled.get(0));
        both.retainAll(handled.get(1));
        assertEquals("handled twice", Collections.emptySet(), both);
        Set<String> union = new HashSet<>(handled.get(0));
        union.addAll(handled.get(1));
        assertEquals(placed, union);
        for (int i = 0; i < 2; i++) {
            assertFalse("shard " + i + " got no call of " + callCount, handled.get(i).isEmpty());
            for (String uuid : handled.get(i)) {
                assertEquals(uuid, i, ClusterOptions.shardOf(uuid, 2));
            }
        }
        // Both instances track every call for routing, whichever shard handles its events.
        for (String uuid : placed) {
            assertNotNull(instances[0].nodeOf(uuid));
            assertNotNull(instances[1].nodeOf(uuid));
        }
    }

    // ---- health ---------------------------------------------------------------------------------

    @Test
    public void healthFollowsTheNodesReconnectAndTheClusterRetriesANodeThatWasNeverUp() throws Exception {
        EslSimulator reconnecting = answeringSim();
        int reconnectingPort = reconnecting.port();
        EslSimulator late = answeringSim();
        int latePort = late.port();
        late.close(); // nothing listens there when the cluster starts
        BlockingQueue<String> changes = new LinkedBlockingQueue<>();
        ClientOptions withReconnect = reconnecting.clientOptions()
                .reconnect(ReconnectPolicy.backoff(Duration.ofMillis(20), Duration.ofMillis(100), 0)).build();
        EslCluster cluster = EslCluster.start(ClusterOptions.builder().retryInterval(Duration.ofMillis(50))
                .node("r", withReconnect).node("late", ClientOptions.builder().port(latePort).build()).build());
        clusters.add(cluster);
        cluster.onNodeState((node, previous, current) -> changes.add(node + ":" + previous + "->" + current));
        assertTrue(cluster.awaitUp(1, WAIT));
        assertEquals(NodeState.DOWN, cluster.state("late"));
        assertEquals(0, cluster.activeChannels("late"));

        reconnecting.close();
        awaitItem(changes, "r:UP->RECONNECTING");
        assertTrue(failureOf(cluster.originate(callUser1000())) instanceof NodeUnavailableException);
        track(restartOn(reconnectingPort)).registerUser("1000");
        awaitItem(changes, "r:RECONNECTING->UP");

        track(restartOn(latePort)).registerUser("1000");
        awaitItem(changes, "late:DOWN->UP");
        assertTrue(cluster.awaitUp(2, WAIT));
        assertEquals(NodeState.UP, cluster.state("r"));
        Set<String> used = new HashSet<>(Arrays.asList(placeAnswered(cluster).node(), placeAnswered(cluster).node()));
        assertEquals(new HashSet<>(Arrays.asList("r", "late")), used);
    }

    /**
     * Starts a simulator on a port a closed one used. Another socket may hold that port for a
     * moment (a client's own source port), so binding is retried until the wait runs out.
     */
    private static EslSimulator restartOn(int port) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                return EslSimulator.builder().port(port).heartbeat(Duration.ZERO).start();
            } catch (EslException bindRefused) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("port " + port + " stayed taken", bindRefused);
                }
                // Back-off between bind attempts, not synchronisation: nothing signals a port free.
                Thread.sleep(25);
            }
        }
    }
}
