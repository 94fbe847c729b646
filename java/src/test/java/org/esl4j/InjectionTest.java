package org.esl4j;

import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.esl4j.dial.Application;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.testing.EndpointBehavior;
import org.esl4j.testing.EslSimulator;
import org.esl4j.testing.EslSimulatorRule;
import org.freeswitch.esl.ESLconnection;
import org.freeswitch.esl.ESLevent;
import org.junit.Rule;
import org.junit.Test;

/**
 * Every public entry point that reaches the wire, fed hostile values: each call either fails
 * (an exception or the documented compat return value) or sends exactly one command, and the
 * payload smuggled after the line break ({@code api evil}) never arrives as a command of its own.
 */
public class InjectionTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** An accepted call's own outcome does not matter here, only what it wrote. */
    private static final Duration CALL_WAIT = Duration.ofMillis(500);
    private static final String SMUGGLED = "api evil";
    private static final String ONE_MIB = new String(new char[1024 * 1024]).replace('\0', 'x');

    /** Hostile values; every one except the huge one carries {@link #SMUGGLED} after a break. */
    private static final List<String[]> VALUES = Arrays.asList(
            new String[] {"CR", "a\r" + SMUGGLED},
            new String[] {"LF", "a\n" + SMUGGLED},
            new String[] {"CRLF CRLF", "a\r\n\r\n" + SMUGGLED},
            new String[] {"NUL", "a\u0000\n\n" + SMUGGLED},
            new String[] {"header-looking suffix", "a\nContent-Length: 0\n\n" + SMUGGLED},
            new String[] {"1 MiB", ONE_MIB});

    /** The first words of the commands the tested entry points send. */
    private static final List<String> OWN_COMMANDS = Arrays.asList(
            "api", "bgapi", "sendmsg", "sendevent", "event", "filter", "nixevent", "myevents");

    @Rule
    public final EslSimulatorRule rule = new EslSimulatorRule(EslSimulator.builder().heartbeat(Duration.ZERO));

    /** One entry point fed one value; may throw. */
    private interface Entry {
        void call(EslClient client, ESLconnection compat, String value) throws Exception;
    }

    private static void await(CompletableFuture<?> future) throws Exception {
        future.get(CALL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static ESLevent event(String header, String value, String body) {
        ESLevent event = new ESLevent("CUSTOM", "esl4j::test");
        event.addHeader(header, value);
        if (body != null) {
            event.addBody(body);
        }
        return event;
    }

    private static List<Object[]> entries() {
        List<Object[]> entries = new ArrayList<>();
        entries.add(new Object[] {"EslClient.api", (Entry) (c, l, v) -> c.api("status " + v, CALL_WAIT)});
        entries.add(new Object[] {"EslClient.bgapi", (Entry) (c, l, v) -> await(c.bgapi("status " + v))});
        entries.add(new Object[] {"EslClient.execute arg", (Entry) (c, l, v) -> await(c.execute("u-1", "playback", v, CALL_WAIT))});
        entries.add(new Object[] {"EslClient.execute app", (Entry) (c, l, v) -> await(c.execute("u-1", v, "x", CALL_WAIT))});
        entries.add(new Object[] {"EslClient.execute uuid", (Entry) (c, l, v) -> await(c.execute(v, "answer", null, CALL_WAIT))});
        entries.add(new Object[] {"EslClient.filter value", (Entry) (c, l, v) -> await(c.filter("Unique-ID", v))});
        entries.add(new Object[] {"EslClient.filter header", (Entry) (c, l, v) -> await(c.filter(v, "x"))});
        entries.add(new Object[] {"EslClient.subscribe", (Entry) (c, l, v) -> await(c.subscribe(v))});
        entries.add(new Object[] {"dial Endpoint", (Entry) (c, l, v) ->
                await(c.originate(OriginateRequest.to(Endpoint.of("user/" + v)).build()))});
        entries.add(new Object[] {"dial Application", (Entry) (c, l, v) ->
                await(c.originate(OriginateRequest.to(Endpoint.user("1000")).application(Application.run("playback", v)).build()))});
        entries.add(new Object[] {"dial caller id", (Entry) (c, l, v) ->
                await(c.originate(OriginateRequest.to(Endpoint.user("1000")).callerId(v, "1000").build()))});
        entries.add(new Object[] {"ESLconnection.api", (Entry) (c, l, v) -> l.api("status", v)});
        entries.add(new Object[] {"ESLconnection.bgapi", (Entry) (c, l, v) -> l.bgapi("status", v)});
        entries.add(new Object[] {"ESLconnection.bgapi job", (Entry) (c, l, v) -> l.bgapi("status", "", v)});
        entries.add(new Object[] {"ESLconnection.sendRecv", (Entry) (c, l, v) -> l.sendRecv("api status " + v)});
        entries.add(new Object[] {"ESLconnection.send", (Entry) (c, l, v) -> l.send("api status " + v)});
        entries.add(new Object[] {"ESLconnection.execute", (Entry) (c, l, v) -> l.execute("playback", v, "u-1")});
        entries.add(new Object[] {"ESLconnection.executeAsync", (Entry) (c, l, v) -> l.executeAsync(v, "x", "u-1")});
        entries.add(new Object[] {"ESLconnection.filter", (Entry) (c, l, v) -> l.filter("Unique-ID", v)});
        entries.add(new Object[] {"ESLconnection.events", (Entry) (c, l, v) -> l.events("plain", v)});
        entries.add(new Object[] {"ESLconnection.sendEvent header", (Entry) (c, l, v) -> l.sendEvent(event("X-Note", v, null))});
        entries.add(new Object[] {"ESLconnection.sendEvent header name", (Entry) (c, l, v) -> l.sendEvent(event(v, "x", null))});
        entries.add(new Object[] {"ESLconnection.sendEvent body", (Entry) (c, l, v) -> l.sendEvent(event("X-Note", "n", v))});
        entries.add(new Object[] {"ESLconnection.sendMSG header", (Entry) (c, l, v) -> {
            ESLevent message = new ESLevent("sendmsg");
            message.addHeader("call-command", "execute");
            message.addHeader("execute-app-name", "playback");
            message.addHeader("execute-app-arg", v);
            l.sendMSG(message, "u-1");
        }});
        return entries;
    }

    @Test
    public void noEntryPointSendsASecondCommand() throws Exception {
        EslSimulator sim = rule.simulator();
        sim.endpoint("user/1000", EndpointBehavior.busy());
        List<String> failures = new ArrayList<>();
        try (EslClient client = EslClient.connect(sim.clientOptions().build())) {
            ESLconnection compat = new ESLconnection(sim.host(), sim.port(), sim.password());
            try {
                for (Object[] entry : entries()) {
                    for (String[] value : VALUES) {
                        String name = entry[0] + " <- " + value[0];
                        int before = sim.commands().size();
                        try {
                            ((Entry) entry[1]).call(client, compat, value[1]);
                        } catch (Exception expected) {
                            // a clear refusal (or the command's own failure) is an allowed outcome
                        }
                        // Replies come in order: once this barrier is answered, everything the
                        // call wrote has been read by the simulator.
                        client.api("status", WAIT);
                        compat.sendRecv("api status");
                        List<String> all = sim.commands();
                        List<String> sent = all.subList(before, all.size());
                        for (String line : sent) {
                            if (!isOwnCommand(line)) {
                                failures.add(name + ": " + abbreviate(sent));
                                break;
                            }
                        }
                    }
                }
            } finally {
                compat.disconnect();
            }
        }
        assertTrue("injected: " + failures, failures.isEmpty());
    }

    /** A CR, LF or NUL in a compat argument, and what {@code getLastError()} must then say. */
    private static final List<String[]> BREAKS = Arrays.asList(
            new String[] {"CR", "a\rexit", "CR or LF"},
            new String[] {"LF", "a\nexit", "CR or LF"},
            new String[] {"NUL", "a\u0000exit", "NUL"});

    /** One compat entry point fed one value; true when it returned its documented failure value. */
    private interface CompatEntry {
        boolean refused(ESLconnection compat, String value);
    }

    /** A raw command may carry header lines after single LFs; a blank line is what it must refuse. */
    private static String blankLines(String value) {
        return value.replace("\n", "\n\n");
    }

    private static List<Object[]> compatEntries() {
        List<Object[]> entries = new ArrayList<>();
        entries.add(new Object[] {"api", (CompatEntry) (l, v) -> l.api("status", v) == null});
        entries.add(new Object[] {"bgapi", (CompatEntry) (l, v) -> l.bgapi("status", v) == null});
        entries.add(new Object[] {"filter header", (CompatEntry) (l, v) -> l.filter(v, "x") == null});
        entries.add(new Object[] {"filter value", (CompatEntry) (l, v) -> l.filter("Unique-ID", v) == null});
        entries.add(new Object[] {"events", (CompatEntry) (l, v) -> l.events("plain", v) == 1});
        entries.add(new Object[] {"execute app", (CompatEntry) (l, v) -> l.execute(v, "x", "u-1") == null});
        entries.add(new Object[] {"execute uuid", (CompatEntry) (l, v) -> l.execute("answer", null, v) == null});
        entries.add(new Object[] {"sendRecv", (CompatEntry) (l, v) -> l.sendRecv("api status " + blankLines(v)) == null});
        entries.add(new Object[] {"send", (CompatEntry) (l, v) -> l.send("api status " + blankLines(v)) == 1});
        return entries;
    }

    @Test
    public void compatEntryPointsRefuseAtOnceAndSayWhy() throws Exception {
        EslSimulator sim = rule.simulator();
        List<String> failures = new ArrayList<>();
        ESLconnection compat = new ESLconnection(sim.host(), sim.port(), sim.password());
        try {
            for (Object[] entry : compatEntries()) {
                for (String[] value : BREAKS) {
                    String name = "ESLconnection." + entry[0] + " <- " + value[0];
                    int before = sim.commands().size();
                    // The return value must already be the failure: nothing is waited for here.
                    boolean refused = ((CompatEntry) entry[1]).refused(compat, value[1]);
                    String why = compat.getLastError();
                    compat.sendRecv("api status");
                    List<String> all = sim.commands();
                    List<String> sent = new ArrayList<>(all.subList(before, all.size()));
                    if (!refused) {
                        failures.add(name + ": not refused");
                    }
                    // BREAKS alternate their causes, so a stale message is caught too.
                    if (why == null || !why.contains(value[2])) {
                        failures.add(name + ": getLastError() = " + why);
                    }
                    if (!sent.equals(Arrays.asList("api status"))) {
                        failures.add(name + ": sent " + abbreviate(sent));
                    }
                }
            }
        } finally {
            compat.disconnect();
        }
        assertTrue("not refused at once: " + failures, failures.isEmpty());
    }

    @Test
    public void theCheckSeesASecondCommand() throws Exception {
        // The check above must be able to fail: a raw multi-command write shows up as two.
        EslSimulator sim = rule.simulator();
        try (EslClient client = EslClient.connect(sim.clientOptions().build())) {
            client.api("status", WAIT);
            assertTrue(sim.commands().contains("api status"));
            try (java.net.Socket raw = new java.net.Socket(sim.host(), sim.port())) {
                raw.setSoTimeout((int) WAIT.toMillis());
                raw.getOutputStream().write(("auth " + sim.password() + "\n\napi status\n\n" + SMUGGLED + "\n\n")
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
                sim.awaitCommand(SMUGGLED, WAIT);
            }
        }
    }

    /**
     * Whether a received command line is one the entry points send themselves (some send more
     * than one: execute subscribes first, originate may kill its leg); a smuggled {@code api evil}
     * or a fragment of a value is not.
     */
    private static boolean isOwnCommand(String line) {
        if (line.startsWith(SMUGGLED)) {
            return false;
        }
        String word = line.split(" ", 2)[0];
        return OWN_COMMANDS.contains(word);
    }

    private static String abbreviate(List<String> lines) {
        List<String> shown = new ArrayList<>();
        for (String line : lines) {
            shown.add(line.length() > 80 ? line.substring(0, 80) + "...(" + line.length() + ")" : line);
        }
        return shown.toString();
    }
}
