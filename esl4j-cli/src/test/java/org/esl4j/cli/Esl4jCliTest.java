package org.esl4j.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.esl4j.EslEvent;
import org.esl4j.testing.EndpointBehavior;
import org.esl4j.testing.EslSimulator;
import org.esl4j.testing.EslSimulatorRule;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;

/** The esl4j command line against the simulator: output and exit codes, run in-process. */
public class Esl4jCliTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Rule
    public final EslSimulatorRule rule = new EslSimulatorRule(EslSimulator.builder().virtualClock().heartbeat(Duration.ZERO));

    private final ExecutorService background = Executors.newCachedThreadPool();

    @After
    public void stopBackground() {
        background.shutdownNow();
    }

    /** Output captured from one run; completes {@link #listening} with the port "serve" prints. */
    static final class Capture extends OutputStream {
        private static final Pattern LISTENING = Pattern.compile("listening on [^:]+:(\\d+);");
        final CompletableFuture<Integer> listening = new CompletableFuture<>();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            bytes.write(b);
            if (b == '\n' && !listening.isDone()) {
                Matcher matcher = LISTENING.matcher(text());
                if (matcher.find()) {
                    listening.complete(Integer.parseInt(matcher.group(1)));
                }
            }
        }

        synchronized String text() {
            return new String(bytes.toByteArray(), StandardCharsets.UTF_8);
        }
    }

    /** One finished run. */
    static final class Run {
        final int exit;
        final String out;
        final String err;

        Run(int exit, String out, String err) {
            this.exit = exit;
            this.out = out;
            this.err = err;
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n--- out\n" + out + "--- err\n" + err;
        }
    }

    /** A run in the background, for commands that wait for calls or events. */
    final class Started {
        final Capture out = new Capture();
        final Capture err = new Capture();
        final Future<Integer> exit;

        Started(String... args) {
            exit = background.submit(() -> Esl4jCli.run(args, stream(out), stream(err)));
        }

        Run finish() throws Exception {
            return new Run(exit.get(WAIT.toMillis(), TimeUnit.MILLISECONDS), out.text(), err.text());
        }
    }

    private static PrintStream stream(OutputStream target) {
        try {
            return new PrintStream(target, true, "UTF-8");
        } catch (IOException impossible) {
            throw new AssertionError(impossible);
        }
    }

    private static Run run(String... args) {
        Capture out = new Capture();
        Capture err = new Capture();
        int exit = Esl4jCli.run(args, stream(out), stream(err));
        return new Run(exit, out.text(), err.text());
    }

    private String port() {
        return String.valueOf(rule.simulator().port());
    }

    // ---- the command line itself ------------------------------------------------------------------

    @Test
    public void helpListsCommandsAndExitCodes() {
        Run help = run("--help");
        assertEquals(help.toString(), Esl4jCli.OK, help.exit);
        for (String part : new String[] {"demo", "api <command...>", "bgapi", "events", "originate", "serve",
                "--password PASSWORD", "exit codes", "4 authentication failed"}) {
            assertTrue(part, help.out.contains(part));
        }
        assertEquals("", help.err);
    }

    @Test
    public void wrongCommandLinesExitWithTwoAndOneLine() {
        for (String[] args : new String[][] {{}, {"dance"}, {"api"}, {"api", "status", "--bogus", "1"},
                {"originate", "not-an-endpoint"}, {"events", "--format", "xml"}, {"api", "status", "--port", "70000"},
                {"serve", "--listen", "nowhere"}}) {
            Run wrong = run(args);
            assertEquals(wrong.toString(), Esl4jCli.USAGE, wrong.exit);
            assertTrue(wrong.toString(), wrong.err.startsWith("esl4j: "));
            assertEquals(wrong.toString(), 2, wrong.err.split("\n").length);
        }
    }

    // ---- api / bgapi and the connection errors ---------------------------------------------------

    @Test
    public void apiPrintsTheOutput() {
        Run status = run("api", "status", "--port", port());
        assertEquals(status.toString(), Esl4jCli.OK, status.exit);
        assertTrue(status.toString(), status.out.startsWith("UP "));
        assertTrue(rule.simulator().commands().contains("api status"));
    }

    @Test
    public void apiErrorOutputExitsWithOne() {
        Run unknown = run("api", "no_such_command", "--port", port());
        assertEquals(unknown.toString(), Esl4jCli.FAILED, unknown.exit);
        assertTrue(unknown.toString(), unknown.out.startsWith("-ERR"));
    }

    @Test
    public void bgapiPrintsTheJobResult() {
        Run version = run("bgapi", "version", "--port", port());
        assertEquals(version.toString(), Esl4jCli.OK, version.exit);
        assertTrue(version.toString(), version.out.startsWith("FreeSWITCH Version"));
        assertTrue(rule.simulator().commands().contains("bgapi version"));
    }

    @Test
    public void wrongPasswordExitsWithFour() {
        Run denied = run("api", "status", "--port", port(), "--password", "wrong");
        assertEquals(denied.toString(), Esl4jCli.AUTH, denied.exit);
        assertTrue(denied.toString(), denied.err.startsWith("esl4j: authentication failed"));
        assertEquals(denied.toString(), 1, denied.err.split("\n").length);
        assertFalse("the password is not printed", denied.err.contains("wrong"));
    }

    @Test
    public void refusedConnectionExitsWithThree() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        Run refused = run("api", "status", "--port", String.valueOf(closedPort));
        assertEquals(refused.toString(), Esl4jCli.UNREACHABLE, refused.exit);
        assertTrue(refused.toString(), refused.err.startsWith("esl4j: cannot connect"));
        assertEquals(refused.toString(), 1, refused.err.split("\n").length);
    }

    @Test
    public void silentServerExitsWithFive() throws IOException {
        // Accepted by the kernel's backlog, never answered: the auth request never comes.
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Run timedOut = run("api", "status", "--port", String.valueOf(silent.getLocalPort()), "--wait", "0.5");
            assertEquals(timedOut.toString(), Esl4jCli.TIMEOUT, timedOut.exit);
            assertTrue(timedOut.toString(), timedOut.err.startsWith("esl4j: timed out"));
            assertEquals(timedOut.toString(), 1, timedOut.err.split("\n").length);
        }
    }

    // ---- events -----------------------------------------------------------------------------------

    private static EslEvent custom(String subclass) {
        return EslEvent.builder().header("Event-Name", "CUSTOM").header("Event-Subclass", subclass)
                .header("X-Note", "line one\nline two").build();
    }

    @Test
    public void eventsPrintsPlainEventsUntilTheCount() throws Exception {
        EslSimulator sim = rule.simulator();
        Started events = new Started("events", "CUSTOM", "kit::one", "kit::two", "--count", "2", "--port", port());
        sim.awaitCommand("event plain CUSTOM kit::one kit::two", WAIT);
        sim.fireEvent(custom("kit::one"));
        sim.fireEvent(custom("kit::two"));
        Run done = events.finish();
        assertEquals(done.toString(), Esl4jCli.OK, done.exit);
        assertTrue(done.toString(), done.out.contains("Event-Name: CUSTOM\n"));
        assertTrue(done.toString(), done.out.indexOf("Event-Subclass: kit::one") < done.out.indexOf("Event-Subclass: kit::two"));
        assertTrue("one header a line", done.out.contains("X-Note: line one\\nline two\n"));
    }

    @Test
    public void eventsFiltersAndPrintsJson() throws Exception {
        EslSimulator sim = rule.simulator();
        Started events = new Started("events", "CUSTOM", "kit::one", "kit::two", "--format", "json",
                "--filter", "Event-Subclass=kit::two", "--count", "1", "--port", port());
        sim.awaitCommand("event json CUSTOM kit::one kit::two", WAIT);
        sim.fireEvent(custom("kit::one"));
        sim.fireEvent(custom("kit::two"));
        Run done = events.finish();
        assertEquals(done.toString(), Esl4jCli.OK, done.exit);
        String[] lines = done.out.split("\n");
        assertEquals(done.toString(), 1, lines.length);
        assertTrue(done.toString(), lines[0].startsWith("{") && lines[0].endsWith("}"));
        assertTrue(done.toString(), lines[0].contains("\"Event-Subclass\":\"kit::two\""));
        assertTrue(done.toString(), lines[0].contains("\"X-Note\":\"line one\\nline two\""));
        assertTrue(sim.commands().contains("filter Event-Subclass kit::two"));
    }

    @Test
    public void eventsStopsAfterItsSeconds() throws Exception {
        Run quiet = run("events", "CHANNEL_ANSWER", "--seconds", "0.2", "--port", port());
        assertEquals(quiet.toString(), Esl4jCli.OK, quiet.exit);
        assertEquals("", quiet.out);
        assertTrue(quiet.toString(), quiet.err.startsWith("esl4j: listening for CHANNEL_ANSWER on 127.0.0.1:"));
    }

    @Test
    public void eventsReportsALostConnection() throws Exception {
        EslSimulator sim = rule.simulator();
        Started events = new Started("events", "--port", port());
        sim.awaitCommand("event plain ALL", WAIT);
        sim.close();
        Run lost = events.finish();
        assertEquals(lost.toString(), Esl4jCli.ERROR, lost.exit);
        assertTrue(lost.toString(), lost.err.contains("esl4j: connection lost"));
    }

    // ---- originate --------------------------------------------------------------------------------

    @Test
    public void originatePrintsNoAnswerAfterTheTimeout() throws Exception {
        EslSimulator sim = rule.simulator();
        sim.endpoint("user/2000", EndpointBehavior.neverAnswer());
        Started originate = new Started("originate", "user/2000", "--timeout", "20", "--port", port());
        sim.awaitCommand("bgapi originate", WAIT);
        sim.advance(Duration.ofSeconds(20));
        Run done = originate.finish();
        assertEquals(done.toString(), Esl4jCli.FAILED, done.exit);
        assertTrue(done.toString(), done.out.startsWith("bgapi originate {originate_timeout=20,ignore_early_media=true}"));
        assertTrue(done.toString(), done.out.contains("NOT CONNECTED: leg A NO_ANSWER (-ERR NO_ANSWER)"));
    }

    @Test
    public void originateOfAnAnsweringUserSucceeds() throws Exception {
        EslSimulator sim = rule.simulator();
        sim.registerUser("1000");
        Started originate = new Started("originate", "user/1000", "--port", port());
        sim.awaitCommand("bgapi originate", WAIT);
        sim.advance(Duration.ZERO);
        Run done = originate.finish();
        assertEquals(done.toString(), Esl4jCli.OK, done.exit);
        assertTrue(done.toString(), done.out.contains("ANSWERED "));
    }

    @Test
    public void originateCallbackNamesTheSecondLeg() throws Exception {
        EslSimulator sim = rule.simulator();
        sim.registerUser("1000");
        sim.endpoint("user/2000", EndpointBehavior.neverAnswer());
        Started originate = new Started("originate", "user/1000", "--bridge", "user/2000", "--bridge-timeout", "20",
                "--port", port());
        sim.awaitCommand("bgapi originate", WAIT);
        sim.advance(Duration.ZERO);
        sim.awaitExecute("bridge", WAIT);
        sim.advance(Duration.ofSeconds(20));
        Run done = originate.finish();
        assertEquals(done.toString(), Esl4jCli.FAILED, done.exit);
        assertTrue(done.toString(), done.out.contains("&bridge({originate_timeout=20,"));
        assertTrue(done.toString(), done.out.contains("NOT CONNECTED: leg B NO_ANSWER"));
    }

    // ---- serve ------------------------------------------------------------------------------------

    @Test
    public void serveAnswersBridgesAndKeepsTheChannelOnNoAnswer() throws Exception {
        EslSimulator sim = rule.simulator();
        sim.endpoint("user/2000", EndpointBehavior.neverAnswer());
        Started serve = new Started("serve", "--listen", "127.0.0.1:0", "--bridge", "user/2000", "--timeout", "20",
                "--calls", "1");
        int port = serve.out.listening.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        sim.routeToOutbound("support", port, true);
        sim.call("support");
        sim.awaitExecute("bridge", WAIT);
        sim.advance(Duration.ofSeconds(20));
        assertEquals("ivr/ivr-not_available.wav", sim.awaitExecute("playback", WAIT).applicationData());
        sim.advance(Duration.ofSeconds(1));
        Run done = serve.finish();
        assertEquals(done.toString(), Esl4jCli.OK, done.exit);
        assertTrue(done.toString(), done.out.contains("call 1 "));
        assertTrue(done.toString(), done.out.contains("not answered: NO_ANSWER (DIALSTATUS NOANSWER); channel still up: true;"
                + " played the message and hung up NO_ANSWER"));
    }

    @Test
    public void serveReportsAnAddressInUse() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Run busy = run("serve", "--listen", "127.0.0.1:" + taken.getLocalPort());
            assertEquals(busy.toString(), Esl4jCli.UNREACHABLE, busy.exit);
            assertTrue(busy.toString(), busy.err.startsWith("esl4j: cannot listen on 127.0.0.1:"));
            assertEquals(busy.toString(), 1, busy.err.split("\n").length);
        }
    }

    // ---- demo -------------------------------------------------------------------------------------

    @Test
    public void demoShowsTheOutcomesItClaims() {
        Run demo = run("demo");
        assertEquals(demo.toString(), Esl4jCli.OK, demo.exit);
        assertTrue(demo.toString(), demo.out.contains("-> api status"));
        assertTrue(demo.toString(), demo.out.contains("<- UP "));
        assertTrue(demo.toString(), demo.out.contains("-> bgapi version"));
        assertTrue(demo.toString(), demo.out.contains("== NOT CONNECTED: leg B NO_ANSWER"));
        assertTrue(demo.toString(), demo.out.contains("<- CHANNEL_HANGUP user/2000 NO_ANSWER"));
        assertTrue(demo.toString(), demo.out.contains("runs playback ivr/ivr-not_available.wav"));
        assertTrue(demo.toString(), demo.out.contains("channel still up: true"));
        assertFalse(demo.toString(), demo.out.contains("NOT SHOWN"));
        assertEquals(demo.toString(), "", demo.err);
    }
}
