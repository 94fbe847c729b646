package org.esl4j.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Locale;
import java.util.UUID;
import org.esl4j.ClientOptions;
import org.esl4j.EslEvent;
import org.junit.Test;

/** The shard rule, which other JVMs and languages must be able to reproduce, and the builder's checks. */
public class ClusterOptionsTest {
    @Test
    public void aNodeIsNamedInItsConnectionsLogLinesUnlessItsOptionsNameTheServer() {
        ClientOptions unnamed = ClientOptions.builder().host("10.0.0.5").build();
        ClientOptions named = ClientOptions.builder().host("10.0.0.6").serverName("edge-a").build();
        ClusterOptions options = ClusterOptions.builder().node("fs1", unnamed).node("fs2", named).build();
        assertEquals("fs1", options.nodes().get("fs1").serverName());
        assertEquals("10.0.0.5", options.nodes().get("fs1").host());
        assertEquals("edge-a", options.nodes().get("fs2").serverName());
        try {
            ClusterOptions.builder().node("fs\nINFO forged", unnamed);
            fail("a node name over two lines was accepted");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().startsWith("a node name must be one line"));
        }
    }

    @Test
    public void theHashIsFnv1a32AsPublished() {
        // Test vectors of the FNV reference (http://www.isthe.com/chongo/tech/comp/fnv/).
        assertEquals(0x811C9DC5, ClusterOptions.fnv1a32(""));
        assertEquals(0xE40C292C, ClusterOptions.fnv1a32("a"));
        assertEquals(0xBF9CF968, ClusterOptions.fnv1a32("foobar"));
    }

    @Test
    public void theShardIsTheUnsignedHashModuloTheCountWhateverTheCase() {
        String uuid = "8F3A1C52-4E0B-4C1D-9A6E-1B2C3D4E5F60";
        long unsigned = ClusterOptions.fnv1a32(uuid.toLowerCase(Locale.ROOT)) & 0xFFFFFFFFL;
        for (int count = 1; count <= 7; count++) {
            assertEquals((int) (unsigned % count), ClusterOptions.shardOf(uuid, count));
            assertEquals(ClusterOptions.shardOf(uuid, count), ClusterOptions.shardOf(uuid.toLowerCase(Locale.ROOT), count));
        }
    }

    @Test
    public void randomUuidsSpreadOverEveryShard() {
        int[] perShard = new int[4];
        for (int i = 0; i < 4000; i++) {
            perShard[ClusterOptions.shardOf(UUID.randomUUID().toString(), 4)]++;
        }
        for (int count : perShard) {
            assertTrue(Arrays.toString(perShard), count > 700 && count < 1300);
        }
    }

    @Test
    public void anEventIsOwnedByTheShardOfItsCallUuidElseItsChannelElseShardZero() {
        String call = "0d7e6a2c-1111-4222-8333-944455566677";
        String channel = "5b9c8d7e-aaaa-4bbb-8ccc-ddddeeeeffff";
        int count = 3;
        EslEvent bothLegs = EslEvent.builder().header("Event-Name", "CHANNEL_ANSWER")
                .header("Unique-ID", channel).header("Channel-Call-UUID", call).build();
        EslEvent channelOnly = EslEvent.builder().header("Event-Name", "CHANNEL_ANSWER").header("Unique-ID", channel).build();
        EslEvent noUuid = EslEvent.builder().header("Event-Name", "HEARTBEAT").build();
        for (int index = 0; index < count; index++) {
            ClusterOptions options = oneNode().shard(index, count).build();
            assertEquals(ClusterOptions.shardOf(call, count) == index, options.ownsEvent(bothLegs));
            assertEquals(ClusterOptions.shardOf(channel, count) == index, options.ownsEvent(channelOnly));
            assertEquals(index == 0, options.ownsEvent(noUuid));
        }
        assertTrue(oneNode().build().ownsEvent(bothLegs));
    }

    @Test
    public void theBuilderRefusesWhatCannotWork() {
        expectRefused(() -> ClusterOptions.builder().build());
        expectRefused(() -> oneNode().node("fs1", ClientOptions.builder().build()));
        expectRefused(() -> oneNode().node(" ", ClientOptions.builder().build()));
        expectRefused(() -> oneNode().shard(2, 2));
        expectRefused(() -> oneNode().shard(-1, 2));
        expectRefused(() -> oneNode().shard(0, 0));
        expectRefused(() -> oneNode().maxTrackedCalls(0));
        expectRefused(() -> oneNode().retryInterval(Duration.ZERO));
        expectRefused(() -> ClusterOptions.shardOf("x", 0));
        ClusterOptions options = oneNode().node("fs2", ClientOptions.builder().port(8022).build()).shard(1, 2).build();
        assertEquals(Arrays.asList("fs1", "fs2"), new ArrayList<>(options.nodes().keySet()));
        assertEquals(1, options.shardIndex());
        assertEquals(2, options.shardCount());
        assertFalse(options.ownsEvent(EslEvent.builder().header("Event-Name", "HEARTBEAT").build()));
    }

    private static ClusterOptions.Builder oneNode() {
        return ClusterOptions.builder().node("fs1", ClientOptions.builder().build());
    }

    private static void expectRefused(Runnable build) {
        try {
            build.run();
            fail("expected IllegalArgumentException");
        } catch (IllegalArgumentException expected) {
            assertFalse(expected.getMessage().isEmpty());
        }
    }
}
