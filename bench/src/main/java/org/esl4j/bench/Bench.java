package org.esl4j.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs the JVM benchmarks, each scenario and client in a fresh JVM (no JIT profile or leaked
 * memory carried from one client to the next), and prints the figures as Markdown tables.
 *
 * <p>Usage: {@code Bench [all | flood CLIENT... | paced [lean|sim] [rate=N] [CLIENT...] | soak CLIENT [EVENTS] | outbound
 * [async|blocking] SESSIONS... | consumer-api [CLIENT...]]}; clients: raw-socket, raw-api (paced only), esl4j-engine,
 * esl4j-modern, esl4j-view, esl4j-compat, esl-client, thingscloud ({@code paced} without clients: raw-api, esl4j-compat,
 * esl4j-modern and the two peers, each against the lean load source and then the simulator unless one is
 * named; {@code consumer-api} without clients: esl4j-compat, esl4j-modern and both
 * peers).
 *
 * <p>Every forked JVM has a hard time limit: one that passes it is killed and reported as failed,
 * so the benchmark always finishes.
 */
public final class Bench {
    private static final int EVENTS_PER_RUN = 200_000;
    private static final int WARMUPS = 2;
    private static final int RUNS = 5;
    private static final long SOAK_EVENTS = 10_000_000;
    /** Deadline of the consumer-api flood, from the flood request. */
    private static final long CONSUMER_API_DEADLINE_S = 60;
    /** Hard limit of a consumer-api JVM: its own deadline, connecting, and a margin. */
    private static final long CONSUMER_API_FORK_LIMIT_MS = TimeUnit.SECONDS.toMillis(CONSUMER_API_DEADLINE_S + 90);
    /** Hard limit of any other benchmark JVM (the longest, the soak, takes minutes). */
    private static final long FORK_LIMIT_MS = TimeUnit.HOURS.toMillis(2);
    /** The exit status of a JVM that ran out of memory with {@code -XX:+ExitOnOutOfMemoryError}. */
    private static final int OUT_OF_MEMORY_STATUS = 3;
    /** The paced-latency scenario: api round trips while this many events/s arrive (unless {@code rate=N} says). */
    private static final int PACED_RATE = 20_000;
    /** A paced run lasts this long at any rate, after a warm-up a fifth as long. */
    private static final int PACED_SECONDS = 10;
    private static final int PACED_WARMUP_SECONDS = 2;
    private static final String RATE_ARG = "rate=";
    private static final List<String> PACED_CLIENTS = Arrays.asList("raw-api", "esl4j-compat", "esl4j-modern",
            "esl-client", "thingscloud");
    private static final String USAGE =
            "usage: Bench [all | flood CLIENT... | paced [lean|sim] [rate=N] [CLIENT...] | soak CLIENT [EVENTS] | outbound [async|blocking] SESSIONS..."
                    + " | consumer-api [CLIENT...]]";
    private static final List<String> JVM_OPTIONS = Arrays.asList("-Xms1g", "-Xmx1g", "-XX:MaxDirectMemorySize=2g",
            "-Djava.util.logging.config.file=/dev/null");

    private final List<Map<String, String>> results = new ArrayList<>();

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        Bench bench = new Bench();
        String what = args.length == 0 ? "all" : args[0];
        List<String> rest = Arrays.asList(args).subList(Math.min(1, args.length), args.length);
        switch (what) {
            case "all":
                for (FloodClient.Kind kind : FloodClient.Kind.values()) {
                    if (kind != FloodClient.Kind.RAW_API) {
                        bench.flood(kind);
                    }
                }
                bench.paced(Collections.<String>emptyList());
                bench.soak("esl4j-modern", SOAK_EVENTS);
                bench.outbound(1_000, "blocking");
                bench.outbound(10_000, "blocking");
                bench.outbound(10_000, "async");
                bench.consumerApi(Collections.<String>emptyList());
                break;
            case "flood":
                for (String client : rest) {
                    bench.flood(FloodClient.Kind.byId(client));
                }
                break;
            case "paced":
                bench.paced(rest);
                break;
            case "soak":
                bench.soak(rest.get(0), rest.size() > 1 ? Long.parseLong(rest.get(1)) : SOAK_EVENTS);
                break;
            case "outbound":
                // A word sets the handler for the counts after it: outbound 1000 async 10000.
                String mode = "blocking";
                for (String word : rest) {
                    if (word.equals("async") || word.equals("blocking")) {
                        mode = word;
                    } else {
                        bench.outbound(positive(word), mode);
                    }
                }
                break;
            case "consumer-api":
                bench.consumerApi(rest);
                break;
            default:
                throw new IllegalArgumentException(USAGE);
        }
        String report = Report.markdown(bench.results);
        System.out.println(report);
        File file = new File(Config.required("esl4j.bench.report"));
        file.getParentFile().mkdirs();
        Files.write(file.toPath(), report.getBytes(StandardCharsets.UTF_8));
        System.out.println("written to " + file);
    }

    /** "api from inside the consumer under flood" for {@code clients} (none: every client it knows). */
    private void consumerApi(List<String> clients) throws Exception {
        List<String> ids = new ArrayList<>(clients);
        if (ids.isEmpty()) {
            for (String[] client : ConsumerApiBench.CLIENTS) {
                ids.add(client[0]);
            }
        }
        for (String id : ids) {
            // Heap bounded by JVM_OPTIONS; running out of it ends the JVM at once (status 3) instead of thrashing.
            fork(ConsumerApiBench.class, Collections.singletonList("-XX:+ExitOnOutOfMemoryError"),
                    Arrays.asList(FloodClient.Kind.byId(id).id, Integer.toString(EVENTS_PER_RUN),
                            Long.toString(CONSUMER_API_DEADLINE_S)), CONSUMER_API_FORK_LIMIT_MS);
        }
    }

    private void flood(FloodClient.Kind kind) throws Exception {
        List<String> args = new ArrayList<>(Arrays.asList(kind.id, Integer.toString(EVENTS_PER_RUN),
                Integer.toString(WARMUPS), Integer.toString(RUNS)));
        if (kind != FloodClient.Kind.RAW_SOCKET) {
            args.add("api");
        }
        fork(FloodBench.class, Collections.<String>emptyList(), args, FORK_LIMIT_MS);
    }

    /**
     * The paced-latency scenario: {@code [lean|sim] [rate=N] [CLIENT...]}; without a source both in turn (the
     * lean one's floor is the transport's, the simulator's its own reply path), without a rate
     * {@link #PACED_RATE} events/s, without clients {@link #PACED_CLIENTS}.
     */
    private void paced(List<String> args) throws Exception {
        List<LoadDriver.Source> sources = Arrays.asList(LoadDriver.Source.LEAN, LoadDriver.Source.SIMULATOR);
        List<String> clients = args;
        if (!clients.isEmpty() && (clients.get(0).equals(LoadDriver.Source.LEAN.id) || clients.get(0).equals(LoadDriver.Source.SIMULATOR.id))) {
            sources = Collections.singletonList(LoadDriver.Source.byId(clients.get(0)));
            clients = clients.subList(1, clients.size());
        }
        int rate = PACED_RATE;
        if (!clients.isEmpty() && clients.get(0).startsWith(RATE_ARG)) {
            rate = positive(clients.get(0).substring(RATE_ARG.length()));
            clients = clients.subList(1, clients.size());
        }
        for (LoadDriver.Source source : sources) {
            for (String client : clients.isEmpty() ? PACED_CLIENTS : clients) {
                FloodClient.Kind.byId(client);
                fork(PacedBench.class, Collections.<String>emptyList(), Arrays.asList(client, source.id,
                        Integer.toString(rate), Integer.toString(rate * PACED_SECONDS), Integer.toString(rate * PACED_WARMUP_SECONDS)),
                        FORK_LIMIT_MS);
            }
        }
    }

    /** A positive count from the command line, or the usage as the error. */
    private static int positive(String text) {
        try {
            int value = Integer.parseInt(text);
            if (value > 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below with the usage
        }
        throw new IllegalArgumentException("not a positive number: " + text + "\n" + USAGE);
    }

    private void soak(String client, long events) throws Exception {
        // Pre-touched heap: the resident set then grows only if native memory does.
        fork(SoakBench.class, Collections.singletonList("-XX:+AlwaysPreTouch"), Arrays.asList(client, Long.toString(events)),
                FORK_LIMIT_MS);
    }

    private void outbound(int sessions, String mode) throws Exception {
        // Pre-touched heap: its pages are resident from the start and do not count per session.
        fork(OutboundBench.class, Arrays.asList("-XX:NativeMemoryTracking=summary", "-XX:+AlwaysPreTouch"),
                Arrays.asList(Integer.toString(sessions), mode), FORK_LIMIT_MS);
    }

    /**
     * Runs {@code main} in a new JVM with this class path, echoing its output and keeping RESULT
     * lines; kills it after {@code limitMs}. When it ends without its RESULT, its last PROGRESS
     * line (if any) becomes its row, with how it ended as the outcome.
     */
    private void fork(Class<?> main, List<String> jvmOptions, List<String> args, long limitMs) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(new File(System.getProperty("java.home"), "bin/java").getPath());
        command.addAll(JVM_OPTIONS);
        command.addAll(jvmOptions);
        for (String property : new String[] {"esl4j.bench.load", "esl4j.bench.corpus"}) {
            command.add("-D" + property + "=" + Config.required(property));
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(args);
        System.out.printf(Locale.ROOT, "== %s %s%n", main.getSimpleName(), String.join(" ", args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<Map<String, String>> reported = Collections.synchronizedList(new ArrayList<Map<String, String>>());
        AtomicReference<Map<String, String>> progress = new AtomicReference<>();
        Thread output = new Thread(() -> echo(process, reported, progress), "bench-output-" + main.getSimpleName());
        output.setDaemon(true);
        output.start();
        boolean ended = process.waitFor(limitMs, TimeUnit.MILLISECONDS);
        if (!ended) {
            process.destroyForcibly();
            process.waitFor(Threads.STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
        Threads.join(output);
        results.addAll(reported);
        int status = ended ? process.exitValue() : -1;
        if (status != 0 || reported.isEmpty()) {
            String outcome = !ended ? "killed" : status == OUT_OF_MEMORY_STATUS ? "out-of-memory" : "exit-" + status;
            Map<String, String> last = progress.get();
            if (last != null && reported.isEmpty()) {
                last.put("outcome", outcome);
                results.add(last);
            }
            Map<String, String> failed = new LinkedHashMap<>();
            failed.put("scenario", "failed");
            failed.put("what", main.getSimpleName() + " " + String.join(" ", args));
            failed.put("status", ended ? "exit status " + status : "killed after " + limitMs / 1000 + " s");
            results.add(failed);
        }
    }

    private static void echo(Process process, List<Map<String, String>> reported, AtomicReference<Map<String, String>> progress) {
        try (BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = output.readLine(); line != null; line = output.readLine()) {
                if (line.startsWith("RESULT ")) {
                    System.out.println(line);
                    reported.add(parse(line));
                } else if (line.startsWith("PROGRESS ")) {
                    progress.set(parse(line));
                } else {
                    System.out.println(line);
                }
            }
        } catch (IOException ended) {
            // the JVM was killed
        }
    }

    private static Map<String, String> parse(String line) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String pair : line.substring(line.indexOf(' ') + 1).split(" ")) {
            int equals = pair.indexOf('=');
            if (equals > 0) {
                fields.put(pair.substring(0, equals), pair.substring(equals + 1));
            }
        }
        return fields;
    }
}
