package org.esl4j.testing;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.readme.ClientQuickStart;
import org.esl4j.readme.CompatQuickStart;
import org.esl4j.readme.IvrNoAnswerTest;
import org.esl4j.readme.NoAnswerPatterns;
import org.junit.Rule;
import org.junit.Test;
import org.junit.runner.JUnitCore;
import org.junit.runner.Result;

/** The README's examples (java/examples/org/esl4j/readme) run against the simulator. */
public class ReadmeExamplesTest {
    @Rule
    public final EslSimulatorRule rule = new EslSimulatorRule();

    @Test
    public void compatQuickStartGetsTheStatus() {
        EslSimulator sim = rule.simulator();
        String status = CompatQuickStart.status(sim.host(), sim.port(), sim.password());
        assertTrue(status, status.startsWith("UP "));
    }

    @Test
    public void clientQuickStartGetsTheStatus() throws Exception {
        EslSimulator sim = rule.simulator();
        PrintStream original = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        String status;
        System.setOut(new PrintStream(printed, true, "UTF-8"));
        try {
            status = ClientQuickStart.run(sim.clientOptions().build(), Duration.ofMillis(1));
        } finally {
            System.setOut(original);
        }
        assertTrue(status, status.startsWith("UP "));
        assertTrue(printed.toString("UTF-8"), printed.toString("UTF-8").startsWith("FreeSWITCH Version"));
    }

    @Test
    public void junit4TestKitExamplePasses() {
        Result result = JUnitCore.runClasses(IvrNoAnswerTest.class);
        assertEquals(result.getFailures().toString(), 2, result.getRunCount());
        assertTrue(result.getFailures().toString(), result.wasSuccessful());
    }

    @Test
    public void noAnswerPatternsCarryTheirTimeouts() throws Exception {
        OriginateRequest inbound = NoAnswerPatterns.inboundOriginate();
        assertTrue(inbound.command(), inbound.command().startsWith("originate {originate_timeout=30,"));
        String callback = NoAnswerPatterns.callback().command();
        assertTrue(callback, callback.contains("originate_timeout=30") && callback.contains("&bridge(")
                && callback.contains("originate_timeout=20"));
        assertEquals("true", NoAnswerPatterns.outboundBridge().callerChannelVariables().get("continue_on_fail"));
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(printed, true, "UTF-8"));
        try {
            NoAnswerPatterns.main(new String[0]);
        } finally {
            System.setOut(original);
        }
        String text = new String(printed.toByteArray(), StandardCharsets.UTF_8);
        assertTrue(text, text.contains("1. bgapi originate ") && text.contains("2. bgapi originate ")
                && text.contains("execute bridge {originate_timeout=20"));
    }
}
