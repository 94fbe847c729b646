package org.esl4j.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.esl4j.EslClient;
import org.esl4j.EslEvent;
import org.esl4j.EslOutboundServer;
import org.esl4j.ServerOptions;
import org.esl4j.dial.Application;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.CallLeg;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.dial.OriginateResult;
import org.esl4j.dial.Timeouts;
import org.esl4j.testing.EndpointBehavior;
import org.esl4j.testing.EslSimulator;

/**
 * {@code esl4j demo}: the library end to end on the embedded simulator, printed as a timeline.
 *
 * <p>The timeouts are the production ones (20 s for the agent), so the simulator runs on its
 * virtual clock, which a ticker moves forward at {@value #SPEED} times real time: every ring time
 * and timeout happens in the order and at the simulated second FreeSWITCH would produce, and the
 * timeline shows simulated seconds.
 */
final class Demo {
    /** How much faster than real time the simulated clock runs. */
    static final int SPEED = 10;
    /** The no-answer timeout of the demo's bridges. */
    static final Duration NO_ANSWER = Duration.ofSeconds(20);
    private static final Duration FIRST_LEG_RING = Duration.ofSeconds(3);
    /** Longest real wait for one step of the story. */
    private static final Duration STEP_LIMIT = Duration.ofSeconds(30);
    /** Simulated time per tick; a tick every TICK / SPEED of real time. */
    private static final Duration TICK = Duration.ofMillis(100);
    private static final Set<String> SHOWN = new HashSet<>(Arrays.asList("CHANNEL_CREATE", "CHANNEL_PROGRESS",
            "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER", "CHANNEL_EXECUTE", "CHANNEL_BRIDGE", "CHANNEL_HANGUP",
            "BACKGROUND_JOB"));

    private final PrintStream out;
    /** Simulated milliseconds since the simulator started. */
    private final AtomicLong simulatedMillis = new AtomicLong();

    Demo(PrintStream out) {
        this.out = out;
    }

    int run() {
        out.println("esl4j demo: the Event Socket against an embedded FreeSWITCH simulator.");
        out.println("Production timeouts (" + NO_ANSWER.getSeconds() + " s no-answer); the simulator's virtual clock runs at "
                + SPEED + "x real time and the timeline shows simulated seconds.");
        out.println("  -> command sent   <- event or reply received   == typed outcome");
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "esl4j-demo-clock");
            thread.setDaemon(true);
            return thread;
        });
        try (EslSimulator sim = EslSimulator.builder().virtualClock().heartbeat(Duration.ZERO).start()) {
            ticker.scheduleAtFixedRate(() -> tick(sim), 0, TICK.toMillis() * 1000 / SPEED, TimeUnit.MICROSECONDS);
            sim.endpoint("user/1000", EndpointBehavior.answerAfter(FIRST_LEG_RING));
            sim.endpoint("user/2000", EndpointBehavior.neverAnswer());
            say("simulator on " + sim.host() + ":" + sim.port() + " (password " + sim.password() + "); user/1000 answers after "
                    + FIRST_LEG_RING.getSeconds() + " s, user/2000 never answers");
            // The timeline listens until the simulator closes.
            sim.onEvent(this::showEvent);
            try (EslClient client = EslClient.connect(sim.clientOptions().build())) {
                inbound(client);
                boolean callback = callback(client);
                boolean outbound = outbound(sim);
                out.println();
                out.println("summary");
                out.println("  callback pattern, 2000 does not answer: NO_ANSWER on leg B ......... " + verdict(callback));
                out.println("  outbound bridge, no answer: NO_ANSWER, controlled channel still up .. " + verdict(outbound));
                return callback && outbound ? Esl4jCli.OK : Esl4jCli.FAILED;
            }
        } finally {
            ticker.shutdownNow();
        }
    }

    /** Moves the simulated clock one tick; stops quietly once the simulator is closed. */
    private void tick(EslSimulator sim) {
        try {
            sim.advance(TICK);
            simulatedMillis.addAndGet(TICK.toMillis());
        } catch (RuntimeException closed) {
            // The simulator closed at the end of the demo; the ticker is being shut down.
        }
    }

    private void inbound(EslClient client) {
        section("1. inbound client: api and bgapi");
        say("-> api status");
        String status = client.api("status", STEP_LIMIT);
        say("<- " + firstLine(status));
        say("-> bgapi version");
        String version = client.bgapi("version", STEP_LIMIT);
        say("<- job result: " + firstLine(version));
    }

    private boolean callback(EslClient client) {
        section("2. callback pattern: originate user/1000 &bridge(user/2000); 2000 never answers");
        OriginateRequest request = OriginateRequest.to(Endpoint.user("1000"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
                .application(Application.bridge(BridgeRequest.to(Endpoint.user("2000"))
                        .timeouts(Timeouts.noAnswer(NO_ANSWER)).build()))
                .build();
        say("-> bgapi " + request.command());
        OriginateResult result = Esl4jCli.await(client.originate(request), STEP_LIMIT, "originate");
        say("== " + Esl4jCli.describe(result));
        return !result.succeeded() && result.failedLeg() == CallLeg.B && result.cause() == HangupCause.NO_ANSWER;
    }

    private boolean outbound(EslSimulator sim) {
        section("3. outbound server: answers a call to 'support', bridges to user/2000 with a "
                + NO_ANSWER.getSeconds() + " s no-answer timeout");
        BridgeCall bridgeCall = new BridgeCall(Endpoint.user("2000"), NO_ANSWER, "ivr/ivr-not_available.wav");
        CompletableFuture<BridgeCall.Outcome> outcome = new CompletableFuture<>();
        try (EslOutboundServer server = EslOutboundServer.start(ServerOptions.builder().port(0).build(), session -> {
            // Built once: every build gets fresh leg UUIDs, and the one shown is the one dialled.
            BridgeRequest request = bridgeCall.request();
            say("   session " + session.uuid() + " connected; bridge argument " + request.applicationArgument());
            try {
                outcome.complete(bridgeCall.handle(session, request));
            } catch (Exception failure) {
                outcome.completeExceptionally(failure);
            }
        })) {
            sim.routeToOutbound("support", server.port(), true);
            say("dialplan: support -> socket 127.0.0.1:" + server.port() + " async full");
            say("-> a caller dials support");
            sim.call("support");
            BridgeCall.Outcome result = Esl4jCli.await(outcome, STEP_LIMIT, "the outbound call");
            say("== " + result);
            return result.bridge.cause() == HangupCause.NO_ANSWER && result.bridge.callerChannelUp() && result.playedMessage;
        }
    }

    private void showEvent(EslEvent event) {
        String name = event.eventName();
        if (!SHOWN.contains(name)) {
            return;
        }
        StringBuilder line = new StringBuilder("<- ").append(name);
        String channel = event.header("Channel-Name");
        if (channel != null) {
            line.append(' ').append(channel);
        }
        if ("CHANNEL_EXECUTE".equals(name)) {
            line.append(" runs ").append(event.application());
            String data = event.applicationData();
            if (data != null && !data.isEmpty()) {
                line.append(' ').append(data.length() > 90 ? data.substring(0, 87) + "..." : data);
            }
        } else if ("CHANNEL_HANGUP".equals(name)) {
            line.append(' ').append(event.header("Hangup-Cause"));
        } else if ("BACKGROUND_JOB".equals(name)) {
            line.append(' ').append(firstLine(event.body()));
        }
        say(line.toString());
    }

    private void section(String title) {
        synchronized (out) {
            out.println();
            out.println(title);
        }
    }

    private void say(String text) {
        double seconds = simulatedMillis.get() / 1000.0;
        synchronized (out) {
            out.println(String.format("[t=%5.1fs] %s", seconds, text));
        }
    }

    private static String verdict(boolean shown) {
        return shown ? "shown" : "NOT SHOWN";
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "";
        }
        String trimmed = text.trim();
        int newline = trimmed.indexOf('\n');
        return newline < 0 ? trimmed : trimmed.substring(0, newline);
    }
}
