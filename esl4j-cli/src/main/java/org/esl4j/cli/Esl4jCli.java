package org.esl4j.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.esl4j.ClientOptions;
import org.esl4j.DeliveryOptions;
import org.esl4j.EslClient;
import org.esl4j.EslEvent;
import org.esl4j.EslException;
import org.esl4j.EslOutboundServer;
import org.esl4j.EventFormat;
import org.esl4j.ServerOptions;
import org.esl4j.dial.Application;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.dial.OriginateResult;
import org.esl4j.dial.Timeouts;

/**
 * The {@code esl4j} command line: a demo on the embedded simulator, and the everyday Event Socket
 * jobs against any FreeSWITCH. {@link #run(String[], PrintStream, PrintStream)} is the testable
 * entry point: it never calls {@code System.exit}.
 */
public final class Esl4jCli {
    /** Success. */
    static final int OK = 0;
    /** FreeSWITCH answered with a failure: {@code -ERR ...}, a call that was not answered. */
    static final int FAILED = 1;
    /** The command line was wrong. */
    static final int USAGE = 2;
    /** No connection: refused, unreachable, or the address could not be bound. */
    static final int UNREACHABLE = 3;
    /** The password (or user) was not accepted. */
    static final int AUTH = 4;
    /** A deadline passed. */
    static final int TIMEOUT = 5;
    /** Anything else: connection lost, protocol error, internal error. */
    static final int ERROR = 6;

    static final String USAGE_TEXT = String.join("\n",
            "usage: esl4j <command> [options]",
            "",
            "commands:",
            "  demo                      a tour on the embedded FreeSWITCH simulator (no FreeSWITCH needed)",
            "  api <command...>          run an API command, print its output      e.g. esl4j api status",
            "  bgapi <command...>        run it in the background, print the job's output",
            "  events [NAME...]          print events live (default ALL) until --count / --seconds / Ctrl-C;",
            "                            CUSTOM takes its subclasses: events CUSTOM sofia::register",
            "      --format plain|json   output format (default plain)",
            "      --filter Header=Value only events with this header value (repeatable)",
            "      --count N             stop after N events",
            "      --seconds S           stop after S seconds",
            "  originate <endpoint>      originate with a typed no-answer timeout, print the outcome",
            "      --timeout S           no-answer timeout of the call (default 30)",
            "      --bridge <endpoint>   callback pattern: when answered, bridge to this endpoint",
            "      --bridge-timeout S    no-answer timeout of the bridged leg (default 20)",
            "      --early-media         count early media as answered (default: ignore it)",
            "  serve                     outbound server: answer each call, bridge it with a no-answer timeout",
            "      --listen HOST:PORT    where FreeSWITCH's socket application connects (default 127.0.0.1:8084)",
            "      --bridge <endpoint>   where to bridge (default user/1000)",
            "      --timeout S           no-answer timeout of the bridge (default 20)",
            "      --message FILE        played when nobody answers (default ivr/ivr-not_available.wav)",
            "      --calls N             stop after N calls (default: run until Ctrl-C)",
            "",
            "connection options (api, bgapi, events, originate), FreeSWITCH's defaults:",
            "  --host HOST               127.0.0.1",
            "  --port PORT               8021",
            "  --password PASSWORD       ClueCon",
            "  --wait S                  longest wait to connect (default 5), for a reply or a job (default 30)",
            "  -h, --help                this text",
            "",
            "exit codes:",
            "  0 success                     1 FreeSWITCH reported a failure (-ERR, call not answered)",
            "  2 wrong command line          3 cannot connect (refused, unreachable) or cannot listen",
            "  4 authentication failed       5 timed out",
            "  6 other error (connection lost, protocol error)",
            "");

    /** Held so the level set in {@link #main} is not lost with a collected logger. */
    private static final Logger NATIVE_LOG = Logger.getLogger("org.esl4j.native");
    private static final Set<String> FLAGS = new HashSet<>(Arrays.asList("help", "early-media"));

    private final PrintStream out;
    private final PrintStream err;

    private Esl4jCli(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /**
     * Runs the command line and exits with its code.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        // The terminal shows results and one-line errors; native INFO records stay out of it.
        NATIVE_LOG.setLevel(Level.WARNING);
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs the command line.
     *
     * @param argv the arguments
     * @param out where results go
     * @param err where errors go (one line each)
     * @return the exit code (see {@code --help})
     */
    public static int run(String[] argv, PrintStream out, PrintStream err) {
        Esl4jCli cli = new Esl4jCli(out, err);
        try {
            return cli.dispatch(Args.parse(argv, FLAGS));
        } catch (Args.UsageException wrong) {
            err.println("esl4j: " + wrong.getMessage());
            err.println("run 'esl4j --help' for usage");
            return USAGE;
        } catch (EslException failure) {
            err.println("esl4j: " + describe(failure));
            return exitCode(failure.kind());
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int dispatch(Args args) {
        if (args.flag("help")) {
            out.print(USAGE_TEXT);
            return OK;
        }
        List<String> words = args.words();
        if (words.isEmpty()) {
            throw new Args.UsageException("no command given");
        }
        String command = words.get(0);
        List<String> rest = words.subList(1, words.size());
        switch (command) {
            case "demo":
                noWords(command, rest);
                args.rejectUnknown();
                return new Demo(out).run();
            case "api":
            case "bgapi":
                return apiCommand(args, command, rest);
            case "events":
                return events(args, rest);
            case "originate":
                return originate(args, rest);
            case "serve":
                noWords(command, rest);
                return serve(args);
            default:
                throw new Args.UsageException("unknown command " + command);
        }
    }

    private static void noWords(String command, List<String> rest) {
        if (!rest.isEmpty()) {
            throw new Args.UsageException(command + " takes no arguments: " + String.join(" ", rest));
        }
    }

    // ---- api / bgapi ------------------------------------------------------------------------------

    private int apiCommand(Args args, String command, List<String> rest) {
        if (rest.isEmpty()) {
            throw new Args.UsageException(command + " needs an API command, e.g. esl4j " + command + " status");
        }
        ClientOptions options = clientOptions(args, EventFormat.PLAIN).build();
        Duration wait = args.seconds("wait", Duration.ofSeconds(30));
        args.rejectUnknown();
        String line = String.join(" ", rest);
        try (EslClient client = EslClient.connect(options)) {
            String output = "api".equals(command) ? client.api(line, wait) : client.bgapi(line, wait);
            printOutput(output);
            return isFailure(output) ? FAILED : OK;
        }
    }

    private void printOutput(String output) {
        out.print(output);
        if (!output.endsWith("\n")) {
            out.println();
        }
    }

    /** FreeSWITCH reports API failures in the output: {@code -ERR ...}, {@code -USAGE: ...}. */
    private static boolean isFailure(String output) {
        String trimmed = output.trim();
        return trimmed.startsWith("-ERR") || trimmed.startsWith("-USAGE");
    }

    // ---- events -----------------------------------------------------------------------------------

    private int events(Args args, List<String> names) {
        String format = args.option("format", "plain").toLowerCase(Locale.ROOT);
        if (!format.equals("plain") && !format.equals("json")) {
            throw new Args.UsageException("--format must be plain or json: " + format);
        }
        int count = args.intOption("count", 0, 1, Integer.MAX_VALUE);
        Duration seconds = args.seconds("seconds", null);
        List<String[]> filters = new ArrayList<>();
        for (String filter : args.options("filter")) {
            int equals = filter.indexOf('=');
            if (equals <= 0) {
                throw new Args.UsageException("--filter must be Header=Value: " + filter);
            }
            filters.add(new String[] {filter.substring(0, equals), filter.substring(equals + 1)});
        }
        // Printed on the reader thread, in the order FreeSWITCH sent them.
        ClientOptions options = clientOptions(args, "json".equals(format) ? EventFormat.JSON : EventFormat.PLAIN)
                .delivery(DeliveryOptions.builder().executor(Runnable::run).build())
                .build();
        Duration wait = args.seconds("wait", Duration.ofSeconds(30));
        args.rejectUnknown();
        List<String> wanted = names.isEmpty() ? Arrays.asList("ALL") : names;
        EventPrinter printer = new EventPrinter(out, "json".equals(format));
        CountDownLatch done = new CountDownLatch(1);
        AtomicInteger printed = new AtomicInteger();
        try (EslClient client = EslClient.connect(options)) {
            // A lost connection ends the wait too; it is reported below.
            client.onConnectionEvent(change -> done.countDown());
            client.onAnyEvent(event -> {
                if (!matches(event, wanted) || done.getCount() == 0) {
                    return;
                }
                synchronized (printer) {
                    if (count > 0 && printed.get() >= count) {
                        return;
                    }
                    printer.print(event);
                    if (printed.incrementAndGet() == count) {
                        done.countDown();
                    }
                }
            });
            for (String[] filter : filters) {
                await(client.filter(filter[0], filter[1]), wait, "filter");
            }
            await(client.subscribe(wanted.toArray(new String[0])), wait, "event");
            err.println("esl4j: listening for " + String.join(" ", wanted) + " on " + options.host() + ":"
                    + options.port() + (count > 0 ? ", " + count + " event(s)" : "")
                    + (seconds != null ? ", " + seconds.toMillis() / 1000.0 + " s" : ""));
            awaitEnd(done, seconds);
            if (!client.isConnected()) {
                throw new EslException(EslException.Kind.CONNECTION_CLOSED, "the connection was lost");
            }
        }
        return OK;
    }

    private static boolean matches(EslEvent event, List<String> wanted) {
        if (wanted.contains("ALL")) {
            return true;
        }
        String name = event.eventName();
        String subclass = event.eventSubclass();
        return wanted.contains(name) || (subclass != null && wanted.contains(subclass));
    }

    private static void awaitEnd(CountDownLatch done, Duration limit) {
        try {
            if (limit == null) {
                done.await();
            } else {
                done.await(limit.toNanos(), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- originate --------------------------------------------------------------------------------

    private int originate(Args args, List<String> rest) {
        if (rest.size() != 1) {
            throw new Args.UsageException("originate needs one endpoint, e.g. esl4j originate user/1000");
        }
        Endpoint endpoint = endpoint(rest.get(0));
        Timeouts timeouts = timeouts(args.seconds("timeout", Duration.ofSeconds(30)), args.flag("early-media"));
        OriginateRequest.Builder request = OriginateRequest.to(endpoint).timeouts(timeouts);
        String bridge = args.option("bridge", null);
        Duration bridgeTimeout = args.seconds("bridge-timeout", Duration.ofSeconds(20));
        if (bridge != null) {
            request.application(Application.bridge(BridgeRequest.to(endpoint(bridge))
                    .timeouts(timeouts(bridgeTimeout, args.flag("early-media"))).build()));
        }
        ClientOptions options = clientOptions(args, EventFormat.PLAIN).build();
        Duration wait = args.seconds("wait", Duration.ofSeconds(30));
        args.rejectUnknown();
        OriginateRequest built = request.build();
        Duration limit = built.watchdogDeadline(options.watchdogMargin()).plus(wait);
        try (EslClient client = EslClient.connect(options)) {
            out.println("bgapi " + built.command());
            OriginateResult result = await(client.originate(built), limit, "originate");
            out.println(describe(result));
            return result.succeeded() ? OK : FAILED;
        }
    }

    static String describe(OriginateResult result) {
        if (result.succeeded()) {
            return "ANSWERED " + result.channelUuid();
        }
        return "NOT CONNECTED: leg " + result.failedLeg() + " " + result.cause()
                + (result.watchdogExpired() ? " (client watchdog)" : "") + " (" + result.reply() + ")";
    }

    private static Timeouts timeouts(Duration noAnswer, boolean acceptEarlyMedia) {
        Timeouts.Builder builder = Timeouts.builder().noAnswer(noAnswer);
        if (acceptEarlyMedia) {
            builder.acceptEarlyMedia();
        }
        return builder.build();
    }

    private static Endpoint endpoint(String text) {
        try {
            return Endpoint.of(text);
        } catch (IllegalArgumentException wrong) {
            throw new Args.UsageException(wrong.getMessage());
        }
    }

    // ---- serve ------------------------------------------------------------------------------------

    private int serve(Args args) {
        String listen = args.option("listen", "127.0.0.1:8084");
        int colon = listen.lastIndexOf(':');
        if (colon <= 0) {
            throw new Args.UsageException("--listen must be HOST:PORT: " + listen);
        }
        String host = listen.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(listen.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new Args.UsageException("--listen must be HOST:PORT: " + listen);
        }
        if (port < 0 || port > 65_535) {
            throw new Args.UsageException("--listen port out of range: " + port);
        }
        Endpoint target = endpoint(args.option("bridge", "user/1000"));
        Duration timeout = args.seconds("timeout", Duration.ofSeconds(20));
        String message = args.option("message", "ivr/ivr-not_available.wav");
        int calls = args.intOption("calls", 0, 1, Integer.MAX_VALUE);
        args.rejectUnknown();
        // Without --calls the server runs until the process is stopped (Ctrl-C).
        CountDownLatch handled = new CountDownLatch(calls > 0 ? calls : Integer.MAX_VALUE);
        AtomicInteger seen = new AtomicInteger();
        BridgeCall bridgeCall = new BridgeCall(target, timeout, message);
        ServerOptions options = ServerOptions.builder().host(host).port(port).build();
        EslOutboundServer server;
        try {
            server = EslOutboundServer.start(options, session -> {
                int number = seen.incrementAndGet();
                try {
                    BridgeCall.Outcome outcome = bridgeCall.handle(session, bridgeCall.request());
                    synchronized (out) {
                        out.println("call " + number + " " + session.uuid() + ": " + outcome);
                    }
                } catch (Exception failure) {
                    err.println("esl4j: call " + number + " " + session.uuid() + " failed: " + failure);
                } finally {
                    handled.countDown();
                }
            });
        } catch (EslException cannotListen) {
            err.println("esl4j: cannot listen on " + listen + ": " + cannotListen.getMessage());
            return UNREACHABLE;
        }
        try {
            out.println("listening on " + host + ":" + server.port() + "; dialplan: <action application=\"socket\" data=\""
                    + host + ":" + server.port() + " async full\"/>");
            out.flush();
            awaitEnd(handled, null);
            server.shutdown(Duration.ofSeconds(5));
        } finally {
            server.close();
        }
        return OK;
    }

    // ---- shared -----------------------------------------------------------------------------------

    private static ClientOptions.Builder clientOptions(Args args, EventFormat format) {
        ClientOptions.Builder builder = ClientOptions.builder()
                .host(args.option("host", "127.0.0.1"))
                .port(args.intOption("port", 8021, 1, 65_535))
                .password(args.option("password", "ClueCon"))
                .eventFormat(format);
        Duration wait = args.seconds("wait", null);
        if (wait != null) {
            builder.connectTimeout(wait).commandTimeout(wait);
        }
        return builder;
    }

    static <T> T await(CompletableFuture<T> future, Duration limit, String what) {
        try {
            return future.get(limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException timedOut) {
            throw new EslException(EslException.Kind.TIMEOUT, what + ": no result within " + limit.getSeconds() + " s");
        } catch (ExecutionException failed) {
            Throwable cause = failed.getCause() instanceof CompletionException && failed.getCause().getCause() != null
                    ? failed.getCause().getCause() : failed.getCause();
            if (cause instanceof EslException) {
                throw (EslException) cause;
            }
            throw new EslException(EslException.Kind.INTERNAL, what + ": " + cause, cause);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new EslException(EslException.Kind.INVALID_STATE, what + ": interrupted");
        }
    }

    /** One line for a failure, worded for the person at the terminal. */
    static String describe(EslException failure) {
        String detail = failure.getMessage() == null ? "" : failure.getMessage();
        switch (failure.kind()) {
            case REFUSED:
                return "cannot connect: " + detail + " (is FreeSWITCH running, is mod_event_socket listening there?)";
            case AUTH:
                return "authentication failed: " + detail + " (check --password)";
            case REJECTED:
                return "rejected by FreeSWITCH's ACL: " + detail;
            case TIMEOUT:
                return "timed out: " + detail;
            case CONNECTION_CLOSED:
                return "connection lost: " + detail;
            default:
                return detail.isEmpty() ? failure.kind().name() : detail;
        }
    }

    static int exitCode(EslException.Kind kind) {
        switch (kind) {
            case REFUSED:
                return UNREACHABLE;
            case AUTH:
            case REJECTED:
                return AUTH;
            case TIMEOUT:
                return TIMEOUT;
            case COMMAND_FAILED:
                return FAILED;
            case IO:
            default:
                return ERROR;
        }
    }
}
