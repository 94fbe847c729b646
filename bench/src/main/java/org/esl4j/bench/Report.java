package org.esl4j.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Formats the RESULT records of the forked benchmarks as Markdown tables. */
final class Report {
    private Report() {
    }

    static String markdown(List<Map<String, String>> results) {
        StringBuilder out = new StringBuilder();
        double bestPeerRate = 0;
        double bestPeerP99 = Double.MAX_VALUE;
        for (Map<String, String> r : results) {
            if (isPeer(r) && r.get("scenario").equals("flood")) {
                bestPeerRate = Math.max(bestPeerRate, number(r, "rate"));
            }
            if (isPeer(r) && r.get("scenario").equals("api")) {
                bestPeerP99 = Math.min(bestPeerP99, number(r, "p99"));
            }
        }
        for (Map<String, String> r : section(out, results, "flood", "### Events/s to a consumer reading Event-Name and Unique-ID",
                "| client | events/s (median) | min – max | × best peer | lost | allocated B/event | client CPU µs/event"
                        + " | RSS after | heap after GC |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")) {
            out.append(String.format(Locale.ROOT, "| %s | %,.0f | %,.0f – %,.0f | %s | %s | %,.0f | %.2f | %s | %s |%n",
                    r.get("client"), number(r, "rate"), number(r, "min"), number(r, "max"),
                    ratio(number(r, "rate"), bestPeerRate), lost(r), number(r, "alloc"), number(r, "cpu"), mib(r, "rss"),
                    mib(r, "heap")));
        }
        for (Map<String, String> r : section(out, results, "api", "### `api` round trip under flood (one call per 1,000 events)",
                "| client | p50 ms | p99 ms | max ms | calls | events/s with calls | rate drop vs no calls | lost | p99 ÷ best peer p99 |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")) {
            double plain = 0;
            for (Map<String, String> f : scenario(results, "flood")) {
                if (f.get("client").equals(r.get("client"))) {
                    plain = number(f, "rate");
                }
            }
            out.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f | %,.0f | %,.0f | %s | %s | %s |%n", r.get("client"),
                    number(r, "p50"), number(r, "p99"), number(r, "max"), number(r, "calls"), number(r, "rate"),
                    plain > 0 ? String.format(Locale.ROOT, "%.1f %%", 100 * (1 - number(r, "rate") / plain)) : "—", lost(r),
                    bestPeerP99 < Double.MAX_VALUE ? String.format(Locale.ROOT, "%.3f", number(r, "p99") / bestPeerP99) : "—"));
        }
        for (Map<String, String> r : section(out, results, "paced", "### `api` round trip under a paced flood (a call every 5 ms from another thread)",
                "| client | load source | events/s | p50 µs | p99 µs | max µs | calls | lost | p50 over this run's floor µs |",
                "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")) {
            out.append(String.format(Locale.ROOT, "| %s | %s | %,.0f | %,.0f | %,.0f | %,.0f | %,.0f | %s | %s |%n", r.get("client"),
                    r.get("source"),
                    number(r, "rate"), 1000 * number(r, "p50"), 1000 * number(r, "p99"), 1000 * number(r, "max"),
                    number(r, "calls"), lost(r), overFloor(results, r)));
        }
        for (Map<String, String> r : section(out, results, "soak", "### Memory under a long flood",
                "| client | events | lost | events/s | RSS after 1 M | RSS at end | heap after GC, 1 M | heap after GC, end |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")) {
            out.append(String.format(Locale.ROOT, "| %s | %,.0f | %s | %,.0f | %s | %s | %s | %s |%n", r.get("client"), number(r, "events"),
                    lost(r), number(r, "rate"), mib(r, "rss1m"), mib(r, "rssEnd"), mib(r, "heap1m"), mib(r, "heapEnd")));
        }
        for (Map<String, String> r : section(out, results, "outbound", "### Outbound: concurrent sessions in one JVM (connect, answer, hang up)",
                "| server | sessions requested | up at once | sessions/s | RSS KiB/session | engine native KiB/session | JVM native KiB/session (thread stacks) | heap KiB/session | threads | handshake p50 ms | handshake p99 ms | failed handshakes | failed hang-ups | hang-up reply p99 ms |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")) {
            out.append(String.format(Locale.ROOT, "| %s | %,.0f | %,.0f | %,.0f | %.1f | %.1f | %.1f | %.1f | %,.0f | %.2f | %.2f | %,.0f | %,.0f | %.2f |%n", r.get("server"),
                    number(r, "sessions"), number(r, "up"), number(r, "rate"), number(r, "rssPerSession") / 1024, number(r, "nativePerSession") / 1024,
                    number(r, "jvmNativePerSession") / 1024, number(r, "heapPerSession") / 1024, number(r, "threads"), number(r, "p50"), number(r, "p99"),
                    number(r, "handshakeFailures"), number(r, "teardownFailures"), number(r, "hangupP99")));
        }
        for (Map<String, String> r : section(out, results, "consumer-api",
                "### `api` from inside the consumer under flood (one call per 1,000 events, on the consumer's thread)",
                "| client | pattern | outcome | flood events consumed | api answered / called | api p50 ms | api p99 ms | wall s | peak RSS |",
                "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")) {
            out.append(String.format(Locale.ROOT, "| %s | %s | %s | %,.0f of %,.0f | %,.0f / %,.0f | %.2f | %.2f | %.1f | %s |%n", r.get("client"),
                    ConsumerApiBench.pattern(r.get("client")), outcome(r), Math.min(number(r, "consumed"), number(r, "events")),
                    number(r, "events"), number(r, "answered"), number(r, "calls"), number(r, "p50"), number(r, "p99"),
                    number(r, "wall"), mib(r, "rssPeak")));
        }
        for (Map<String, String> r : scenario(results, "failed")) {
            out.append(String.format(Locale.ROOT, "%nFAILED: %s (%s)%n", r.get("what"), r.get("status")));
        }
        return out.toString();
    }

    /** The rows of {@code name}, after appending its heading and table header when there are any. */
    private static List<Map<String, String>> section(StringBuilder out, List<Map<String, String>> results, String name,
            String heading, String header, String align) {
        List<Map<String, String>> rows = scenario(results, name);
        if (!rows.isEmpty()) {
            out.append(out.length() == 0 ? "" : "\n").append(heading).append("\n\n")
                    .append(header).append('\n').append(align).append('\n');
        }
        return rows;
    }

    /** How a consumer-api run ended, in words. */
    private static String outcome(Map<String, String> r) {
        switch (r.get("outcome")) {
            case "completed":
                return "completed";
            case "timed-out":
                return "**timed out** after " + r.get("deadline") + " s";
            case "connect-timed-out":
                return "**could not connect**";
            case "out-of-memory":
                return "**out of memory** (heap 1 GiB), figures from its last second";
            case "killed":
                return "**killed** at the hard limit, figures from its last second";
            default:
                return "**failed** (" + r.get("outcome") + ", see the log)";
        }
    }

    private static List<Map<String, String>> scenario(List<Map<String, String>> results, String name) {
        List<Map<String, String>> selected = new java.util.ArrayList<>();
        for (Map<String, String> r : results) {
            if (name.equals(r.get("scenario"))) {
                selected.add(r);
            }
        }
        return selected;
    }

    private static boolean isPeer(Map<String, String> r) {
        String client = r.get("client");
        return client != null && FloodClient.Kind.byId(client).isPeer();
    }

    private static double number(Map<String, String> r, String key) {
        String value = r.get(key);
        return value == null ? Double.NaN : Double.parseDouble(value);
    }

    private static String ratio(double value, double base) {
        return base > 0 ? String.format(Locale.ROOT, "%.2f×", value / base) : "—";
    }

    /**
     * A paced client's p50 minus the raw-api floor's p50 at the same source and rate in the same
     * run: what the client itself adds, comparable across sittings whose floors differ by several
     * times (the machine is a VM on a shared host).
     */
    private static String overFloor(List<Map<String, String>> results, Map<String, String> r) {
        for (Map<String, String> floor : scenario(results, "paced")) {
            if (floor.get("client").equals("raw-api") && !r.get("client").equals("raw-api")
                    && floor.get("source").equals(r.get("source")) && floor.get("rate").equals(r.get("rate"))) {
                return String.format(Locale.ROOT, "%+,.0f", 1000 * (number(r, "p50") - number(floor, "p50")));
            }
        }
        return "—";
    }

    /** Events the client never delivered, over all measured runs (out of runs × events). */
    private static String lost(Map<String, String> r) {
        if (r.get("client").startsWith("raw-")) {
            return "—"; // it counts frames by their known sizes, which drift by a few between runs
        }
        double lost = number(r, "lost");
        double sent = number(r, "events") * (r.containsKey("runs") ? number(r, "runs") : 1);
        return lost == 0 ? "0" : String.format(Locale.ROOT, "%,.0f (%.1f %%)", lost, 100 * lost / sent);
    }

    private static String mib(Map<String, String> r, String key) {
        double bytes = number(r, key);
        return bytes >= 0 ? String.format(Locale.ROOT, "%.0f MiB", bytes / (1024 * 1024)) : "—";
    }
}
