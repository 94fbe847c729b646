package org.esl4j.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.ObjectName;
import org.esl4j.EslOutboundServer;
import org.esl4j.EslSession;
import org.esl4j.ServerOptions;
import org.esl4j.dial.HangupCause;

/**
 * Outbound mode: the simulator originates {@code SESSIONS} calls whose dialplan is {@code socket
 * <our server> async full}; each session answers, waits until all sessions are up at once
 * (memory is measured then), and hangs up.
 *
 * <p>At most {@link #IN_FLIGHT} calls are being set up at once, and at most as many hang-ups are
 * awaited at once at tear-down (calls end at a switch's pace too; a burst of thousands measures
 * the simulator's backlog, whose event fan-out costs O(sessions) per event). Handshake: from sending the
 * {@code bgapi originate} to the handler starting with the session's channel data. Memory per session: heap used after a full collection; the JVM's own
 * native memory (thread stacks, by Native Memory Tracking); and the rest of the resident set
 * (the Rust engine's sockets, buffers and tasks), with the heap pre-touched so its pages do not
 * count. Needs {@code -XX:NativeMemoryTracking=summary -XX:+AlwaysPreTouch} (set by the orchestrator).
 *
 * <p>Arguments: number of sessions, then {@code blocking} (default: a {@link
 * org.esl4j.SessionHandler}, one thread per call before Java 21) or {@code async} (an {@link
 * org.esl4j.AsyncSessionHandler}: the calls wait in futures, no thread each).
 */
public final class OutboundBench {
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);
    /** How long an answered session waits for all the others to be up: set-up can take minutes. */
    private static final Duration HOLD_TIMEOUT = Duration.ofMinutes(15);
    /** Generous: the simulator answers {@code connect} slowly with thousands of calls up. */
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(30);
    private static final String EXTENSION = "bench";
    /**
     * Calls being set up at once: a switch sets up calls at its own pace, so all sessions are
     * not requested in one burst (which would measure the backlog, not the handshake).
     */
    private static final int IN_FLIGHT = 200;
    /** Classes of the heap histogram printed with all sessions up. */
    private static final int LARGEST_CLASSES = 25;

    private OutboundBench() {
    }

    public static void main(String[] args) {
        // exit explicitly: a peer's non-daemon threads (Netty) would keep the JVM alive
        System.exit(Forked.run(() -> run(args)));
    }

    private static void run(String[] args) throws Exception {
        int sessions = Integer.parseInt(args[0]);
        boolean async = args.length > 1 && "async".equals(args[1]);
        Map<String, Long> originatedAt = new ConcurrentHashMap<>();
        List<Double> handshakes = java.util.Collections.synchronizedList(new ArrayList<Double>());
        CountDownLatch answered = new CountDownLatch(sessions);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch hungUp = new CountDownLatch(sessions);
        Semaphore settingUp = new Semaphore(IN_FLIGHT);
        Semaphore tearingDown = new Semaphore(IN_FLIGHT);
        List<Double> hangupReplies = java.util.Collections.synchronizedList(new ArrayList<Double>());
        AtomicLong failures = new AtomicLong();
        Map<String, AtomicLong> failureKinds = new ConcurrentHashMap<>();
        ServerOptions options = ServerOptions.builder().port(0).maxSessions(sessions + 16)
                .handshakeTimeout(HANDSHAKE_TIMEOUT).linger(Duration.ZERO).build();
        Outcomes outcomes = new Outcomes(hungUp, failures, failureKinds, hangupReplies);
        /* Async mode: each answered call parks its continuation here; the main thread releases them
         * paced, IN_FLIGHT hang-ups awaited at a time, without a thread per call. */
        Queue<CompletableFuture<Void>> parked = new ConcurrentLinkedQueue<>();
        try (LoadDriver driver = LoadDriver.start();
                EslOutboundServer server = async
                        ? EslOutboundServer.startAsync(options, session -> {
                            recordHandshake(originatedAt, handshakes, session);
                            CompletableFuture<Void> go = new CompletableFuture<>();
                            long[] hangupSent = new long[1];
                            return session.answer().thenCompose(event -> {
                                settingUp.release();
                                parked.add(go);
                                answered.countDown();
                                return go;
                            }).thenCompose(released -> {
                                hangupSent[0] = System.nanoTime();
                                return session.hangup(HangupCause.NORMAL_CLEARING);
                            }).whenComplete((done, failure) -> {
                                tearingDown.release();
                                outcomes.record(hangupSent[0] == 0 ? "answer" : "hangup", hangupSent[0], failure);
                            });
                        })
                        : EslOutboundServer.start(options, session -> {
                            recordHandshake(originatedAt, handshakes, session);
                            String step = "answer";
                            long hangupSent = 0;
                            Throwable failure = null;
                            try {
                                session.answer(STEP_TIMEOUT);
                                settingUp.release();
                                answered.countDown();
                                if (!release.await(HOLD_TIMEOUT.getSeconds(), TimeUnit.SECONDS)) {
                                    throw new IllegalStateException("never released");
                                }
                                step = "hangup";
                                if (!tearingDown.tryAcquire(HOLD_TIMEOUT.getSeconds(), TimeUnit.SECONDS)) {
                                    throw new IllegalStateException("tear-down stalled");
                                }
                                try {
                                    hangupSent = System.nanoTime();
                                    session.hangup(HangupCause.NORMAL_CLEARING).get(STEP_TIMEOUT.getSeconds(), TimeUnit.SECONDS);
                                } finally {
                                    tearingDown.release();
                                }
                            } catch (Exception | Error e) {
                                failure = e;
                                throw e;
                            } finally {
                                outcomes.record(step, hangupSent, failure);
                            }
                        })) {
            driver.request("outbound " + EXTENSION + " 127.0.0.1:" + server.port(), STEP_TIMEOUT.toMillis());
            long heapBefore = Measure.heapAfterGc();
            long rssBefore = Measure.residentBytes();
            String nmtBefore = diagnosticCommand("vmNativeMemory", "summary");
            long jvmNativeBefore = jvmNonHeapCommitted(nmtBefore);
            int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            long start = System.nanoTime();
            try (Originator originator = new Originator(driver.port())) {
                for (int i = 0; i < sessions; i++) {
                    if (!settingUp.tryAcquire(STEP_TIMEOUT.getSeconds(), TimeUnit.SECONDS)) {
                        System.out.println("call set-up stalled after " + i + " calls; " + server.stats());
                        break;
                    }
                    String uuid = UUID.randomUUID().toString();
                    originatedAt.put(uuid, System.nanoTime());
                    originator.send("bgapi originate {origination_uuid=" + uuid + "}user/bench " + EXTENSION);
                }
                if (!answered.await(STEP_TIMEOUT.getSeconds(), TimeUnit.SECONDS)) {
                    System.out.println((sessions - answered.getCount()) + " of " + sessions + " sessions answered; "
                            + server.stats());
                }
                long up = sessions - answered.getCount();
                double seconds = (System.nanoTime() - start) / 1e9;
                int threads = ManagementFactory.getThreadMXBean().getThreadCount() - threadsBefore;
                long heap = Measure.heapAfterGc() - heapBefore;
                long rss = Measure.residentBytes() - rssBefore;
                String nmt = diagnosticCommand("vmNativeMemory", "summary");
                long jvmNative = jvmNonHeapCommitted(nmt) - jvmNativeBefore;
                printLargestClasses(up);
                printNativeGrowth(nmtBefore, nmt, up);
                long teardownStart = System.nanoTime();
                release.countDown();
                for (CompletableFuture<Void> go = parked.poll(); go != null; go = parked.poll()) {
                    if (!tearingDown.tryAcquire(HOLD_TIMEOUT.getSeconds(), TimeUnit.SECONDS)) {
                        System.out.println("tear-down stalled");
                        break;
                    }
                    go.complete(null);
                }
                if (!hungUp.await(HOLD_TIMEOUT.getSeconds(), TimeUnit.SECONDS)) {
                    System.out.println(hungUp.getCount() + " sessions did not hang up");
                }
                double teardown = (System.nanoTime() - teardownStart) / 1e9;
                failureKinds.forEach((kind, count) -> System.out.println("failed " + count + "x: " + kind));
                double[] trips = Measure.toArray(handshakes);
                double[] replies = Measure.toArray(hangupReplies);
                long teardownFailures = failureKinds.entrySet().stream().filter(kind -> kind.getKey().startsWith("hangup"))
                        .mapToLong(kind -> kind.getValue().get()).sum();
                Measure.report("scenario", "outbound", "server", "esl4j " + (async ? "async" : "blocking"),
                        "sessions", sessions, "up", up, "rate", up / seconds,
                        "teardownRate", up / teardown, "rssPerSession", (double) rss / up,
                        "heapPerSession", (double) heap / up, "jvmNativePerSession", (double) jvmNative / up,
                        "nativePerSession", (double) (rss - jvmNative) / up, "threads", threads,
                        "p50", Measure.quantile(trips, 0.5), "p99", Measure.quantile(trips, 0.99),
                        "max", Measure.quantile(trips, 1), "failures", failures.get(), "teardownFailures", teardownFailures,
                        "hangupP99", Measure.quantile(replies, 0.99), "hangupMax", Measure.quantile(replies, 1),
                        "handshakeFailures", server.stats().handshakeFailures());
            }
        }
    }

    private static void recordHandshake(Map<String, Long> originatedAt, List<Double> handshakes, EslSession session) {
        // Removed, so that the harness's own entries do not count as the sessions' heap.
        Long sent = originatedAt.remove(session.uuid());
        if (sent != null) {
            handshakes.add((System.nanoTime() - sent) / 1e6);
        }
    }

    /** What each call's end is recorded into, by either handler. */
    private static final class Outcomes {
        private final CountDownLatch hungUp;
        private final AtomicLong failures;
        private final Map<String, AtomicLong> failureKinds;
        private final List<Double> hangupReplies;

        Outcomes(CountDownLatch hungUp, AtomicLong failures, Map<String, AtomicLong> failureKinds, List<Double> hangupReplies) {
            this.hungUp = hungUp;
            this.failures = failures;
            this.failureKinds = failureKinds;
            this.hangupReplies = hangupReplies;
        }

        /** One call ended: after its hang-up reply ({@code hangupSent} != 0) or a failure at {@code step}. */
        void record(String step, long hangupSent, Throwable failure) {
            if (failure != null) {
                failures.incrementAndGet();
                failureKinds.computeIfAbsent(failureKind(step, failure), kind -> new AtomicLong()).incrementAndGet();
            } else if (hangupSent != 0) {
                hangupReplies.add((System.nanoTime() - hangupSent) / 1e6);
            }
            hungUp.countDown();
        }
    }

    /** A failure's step and cause, with ids blanked so that alike failures count together. */
    private static String failureKind(String step, Throwable failure) {
        Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
        String message = String.valueOf(cause.getMessage()).replaceAll("[0-9a-f]{8}-[0-9a-f-]{27}", "<uuid>");
        return step + ": " + cause.getClass().getSimpleName() + ": " + message;
    }

    /**
     * The JVM's own committed native memory outside the Java heap (thread stacks, metaspace, GC,
     * code), from Native Memory Tracking; 0 when tracking is off.
     */
    private static long jvmNonHeapCommitted(String summary) {
        return committedKb(summary, "Total:") * 1024 - committedKb(summary, "Java Heap (") * 1024;
    }

    /** Prints the JVM's native memory categories (NMT) that grew with the sessions, per session. */
    private static void printNativeGrowth(String before, String after, long sessions) {
        System.out.println("JVM native memory (NMT committed) grown per session:");
        for (String line : after.split("\n")) {
            String trimmed = line.trim();
            int open = trimmed.indexOf(" (reserved=");
            if (trimmed.startsWith("-") && open > 0) {
                String label = trimmed.substring(1, open + 2).trim();
                double grown = (committedKb(after, label) - committedKb(before, label)) * 1024.0 / sessions;
                if (Math.abs(grown) >= 1) {
                    System.out.printf("  %8.1f B %s%n", grown, label.substring(0, label.length() - 2));
                }
            }
        }
    }

    /**
     * Prints the heap's largest classes with all sessions up (what {@code jcmd GC.class_histogram}
     * shows), in bytes per session: where the heap share goes.
     */
    private static void printLargestClasses(long sessions) throws Exception {
        String[] lines = diagnosticCommand("gcClassHistogram").split("\n");
        System.out.println("heap histogram with " + sessions + " sessions up (bytes and instances per session):");
        // Two heading lines, then one line per class, largest first: rank: instances bytes name.
        for (int i = 2; i < Math.min(lines.length, 2 + LARGEST_CLASSES); i++) {
            String[] columns = lines[i].trim().split("\\s+");
            if (columns.length >= 4) {
                System.out.printf("  %8.1f B %6.2f x %s%n", Long.parseLong(columns[2]) / (double) sessions,
                        Long.parseLong(columns[1]) / (double) sessions, columns[3]);
            }
        }
    }

    private static String diagnosticCommand(String operation, String... arguments) throws Exception {
        return (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), operation,
                new Object[] {arguments}, new String[] {String[].class.getName()});
    }

    private static long committedKb(String summary, String label) {
        int at = summary.indexOf(label);
        if (at < 0) {
            return 0;
        }
        int value = summary.indexOf("committed=", at) + "committed=".length();
        int end = summary.indexOf("KB", value);
        return Long.parseLong(summary.substring(value, end).trim());
    }

    /** An inbound socket to the simulator that sends {@code bgapi originate}s; replies are drained. */
    private static final class Originator implements AutoCloseable {
        private final Socket socket;
        private final OutputStream out;
        private final Thread drain;

        Originator(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write("auth ClueCon\n\n".getBytes(StandardCharsets.US_ASCII));
            drain = new Thread(() -> {
                byte[] buffer = new byte[64 * 1024];
                try {
                    while (in.read(buffer) > 0) {
                        // replies (+OK Job-UUID) are not needed
                    }
                } catch (IOException closed) {
                    // close() ends it
                }
            }, "originator-drain");
            drain.setDaemon(true);
            drain.start();
        }

        void send(String command) throws IOException {
            out.write((command + "\n\n").getBytes(StandardCharsets.US_ASCII));
        }

        @Override
        public void close() throws IOException {
            socket.close();
            Threads.join(drain);
        }
    }
}
