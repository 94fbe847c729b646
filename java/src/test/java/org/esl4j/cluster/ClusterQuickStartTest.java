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

    /**
     * The example waits for one server to be up, as an application should (a dead server must not
     * hold it up), so which one takes the call depends on which connected first: both idle and up
     * gives fs1 (the tie-break, checked in {@link EslClusterTest}), only fs2 up so far gives fs2.
     * What holds either way: the call is placed on one server and hung up through that one.
     */
    @Test
    public void placesTheCallOnOneServerAndHangsUpThere() throws Exception {
        EslSimulator fs1 = first.simulator().registerUser("1000");
        EslSimulator fs2 = second.simulator().registerUser("1000");
        String node = ClusterQuickStart.run(fs1.clientOptions().build(), fs2.clientOptions().build(), 0, 1);
        assertTrue(node, node.equals("fs1") || node.equals("fs2"));
        EslSimulator placed = node.equals("fs1") ? fs1 : fs2;
        EslSimulator other = placed == fs1 ? fs2 : fs1;
        assertEquals(1, originates(placed).size());
        assertEquals(1, kills(placed).size());
        assertTrue(originates(other).isEmpty());
        assertTrue(kills(other).isEmpty());
        assertEquals(0, placed.channelCount());
    }

    private static List<String> kills(EslSimulator sim) {
        return commandsStartingWith(sim, "api uuid_kill ");
    }

    private static List<String> originates(EslSimulator sim) {
        return commandsStartingWith(sim, "bgapi originate ");
    }

    private static List<String> commandsStartingWith(EslSimulator sim, String prefix) {
        List<String> matching = new ArrayList<>();
        for (String line : sim.commands()) {
            if (line.startsWith(prefix)) {
                matching.add(line);
            }
        }
        return matching;
    }
}
