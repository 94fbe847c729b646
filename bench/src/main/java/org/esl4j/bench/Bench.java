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

/**
 * Runs the JVM benchmarks, each scenario and client in a fresh JVM (no JIT profile or leaked
 * memory carried from one client to the next), and prints the figures as Markdown tables.
 *
 * <p>Usage: {@code Bench [all | flood CLIENT... | soak CLIENT [EVENTS] | outbound [async|blocking] SESSIONS...]};
 * clients: raw-socket, esl4j-modern, esl4j-compat, esl-client, thingscloud.
 */
public final class Bench {
    private static final int EVENTS_PER_RUN = 200_000;
    private static final int WARMUPS = 2;
    private static final int RUNS = 5;
    private static final long SOAK_EVENTS = 10_000_000;
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
                    bench.flood(kind);
                }
                bench.soak("esl4j-modern", SOAK_EVENTS);
                bench.outbound(1_000, "blocking");
                bench.outbound(10_000, "blocking");
                bench.outbound(10_000, "async");
                break;
            case "flood":
                for (String client : rest) {
                    bench.flood(FloodClient.Kind.byId(client));
                }
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
                        bench.outbound(Integer.parseInt(word), mode);
                    }
                }
                break;
            default:
                throw new IllegalArgumentException("usage: Bench [all | flood CLIENT... | soak CLIENT [EVENTS] | outbound [async|blocking] SESSIONS...]");
        }
        String report = Report.markdown(bench.results);
        System.out.println(report);
        File file = new File(Config.required("esl4j.bench.report"));
        file.getParentFile().mkdirs();
        Files.write(file.toPath(), report.getBytes(StandardCharsets.UTF_8));
        System.out.println("written to " + file);
    }

    private void flood(FloodClient.Kind kind) throws Exception {
        List<String> args = new ArrayList<>(Arrays.asList(kind.id, Integer.toString(EVENTS_PER_RUN),
                Integer.toString(WARMUPS), Integer.toString(RUNS)));
        if (kind != FloodClient.Kind.RAW_SOCKET) {
            args.add("api");
        }
        fork(FloodBench.class, Collections.<String>emptyList(), args);
    }

    private void soak(String client, long events) throws Exception {
        // Pre-touched heap: the resident set then grows only if native memory does.
        fork(SoakBench.class, Collections.singletonList("-XX:+AlwaysPreTouch"), Arrays.asList(client, Long.toString(events)));
    }

    private void outbound(int sessions, String mode) throws Exception {
        // Pre-touched heap: its pages are resident from the start and do not count per session.
        fork(OutboundBench.class, Arrays.asList("-XX:NativeMemoryTracking=summary", "-XX:+AlwaysPreTouch"),
                Arrays.asList(Integer.toString(sessions), mode));
    }

    /** Runs {@code main} in a new JVM with this class path, echoing its output and keeping RESULT lines. */
    private void fork(Class<?> main, List<String> jvmOptions, List<String> args) throws Exception {
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
        try (BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = output.readLine(); line != null; line = output.readLine()) {
                System.out.println(line);
                if (line.startsWith("RESULT ")) {
                    results.add(parse(line));
                }
            }
        } catch (IOException e) {
            process.destroyForcibly();
            throw e;
        }
        int status = process.waitFor();
        if (status != 0) {
            Map<String, String> failed = new LinkedHashMap<>();
            failed.put("scenario", "failed");
            failed.put("what", main.getSimpleName() + " " + String.join(" ", args));
            failed.put("status", Integer.toString(status));
            results.add(failed);
        }
    }

    private static Map<String, String> parse(String line) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String pair : line.substring("RESULT ".length()).split(" ")) {
            int equals = pair.indexOf('=');
            if (equals > 0) {
                fields.put(pair.substring(0, equals), pair.substring(equals + 1));
            }
        }
        return fields;
    }
}
