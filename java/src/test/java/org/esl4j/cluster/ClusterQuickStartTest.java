package org.esl4j.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.esl4j.readme.ClusterQuickStart;
import org.esl4j.testing.EslSimulator;
import org.esl4j.testing.EslSimulatorRule;
import org.junit.Rule;
import org.junit.Test;

/** The README's cluster example against two simulators. */
public class ClusterQuickStartTest {
    @Rule
    public final EslSimulatorRule first = new EslSimulatorRule(EslSimulator.builder().heartbeat(Duration.ZERO));
    @Rule
    public final EslSimulatorRule second = new EslSimulatorRule(EslSimulator.builder().heartbeat(Duration.ZERO));

    @Test
    public void placesOnTheQuietestServerAndHangsUpThere() throws Exception {
        EslSimulator fs1 = first.simulator().registerUser("1000");
        EslSimulator fs2 = second.simulator().registerUser("1000");
        String node = ClusterQuickStart.run(fs1.clientOptions().build(), fs2.clientOptions().build(), 0, 1);
        assertEquals("both idle: the first node", "fs1", node);
        assertEquals(1, kills(fs1).size());
        assertTrue(kills(fs2).isEmpty());
        assertEquals(0, fs1.channelCount());
    }

    private static List<String> kills(EslSimulator sim) {
        List<String> kills = new ArrayList<>();
        for (String line : sim.commands()) {
            if (line.startsWith("api uuid_kill ")) {
                kills.add(line);
            }
        }
        return kills;
    }
}
