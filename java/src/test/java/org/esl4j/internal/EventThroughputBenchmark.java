package org.esl4j.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.esl4j.EslEvent;

/**
 * Events per second from the engine to a Java consumer ({@link NativeConnection#pollRaw}), over
 * loopback, with a flood of recorded {@code text/event-plain} frames, and the {@code api}
 * round trip while flooded. Not a unit test: run with {@code gradle benchEvents}.
 *
 * <p>Arguments: corpus file (default {@code bench/corpus/events-plain.bin}), events per run
 * (200,000), runs (5), mode: {@code poll} (one thread polls and decodes) or {@code pipelined}
 * (one thread drains the engine with {@link NativeConnection#pollRaw}, another decodes).
 */
public final class EventThroughputBenchmark {
    private EventThroughputBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        byte[] corpus = Files.readAllBytes(Paths.get(args.length > 0 ? args[0] : "bench/corpus/events-plain.bin"));
        int events = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        boolean pipelined = args.length > 3 && args[3].equals("pipelined");
        int perCorpus = countFrames(corpus);
        List<Double> rates = new ArrayList<>();
        for (int run = 0; run < runs; run++) {
            rates.add(runOnce(corpus, perCorpus, events, pipelined));
        }
        Collections.sort(rates);
        System.out.printf("%s: median %.0f events/s over %d runs of %d events (min %.0f, max %.0f)%n",
                pipelined ? "pipelined" : "poll", rates.get(rates.size() / 2), runs, events, rates.get(0),
                rates.get(rates.size() - 1));
    }

    private static double runOnce(final byte[] corpus, int perCorpus, int events, boolean pipelined)
            throws Exception {
        final int rounds = (events + perCorpus - 1) / perCorpus;
        final int total = rounds * perCorpus;
        try (final ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> flood(listener, corpus, rounds), "bench-flood");
            server.setDaemon(true);
            server.start();
            try (final NativeConnection connection = NativeConnection.connect("127.0.0.1", listener.getLocalPort(), null,
                    "ClueCon", new NativeConnection.Settings().blockOnOverflow(true))) {
                final List<Long> rtts = Collections.synchronizedList(new ArrayList<Long>());
                final java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();
                // The api caller must not be the consumer: with blockOnOverflow, a full queue stops
                // the reader, and the reply sits behind the events only the consumer drains.
                Thread caller = new Thread(() -> {
                    int next = 1_000;
                    while (received.get() < total) {
                        if (received.get() < next) {
                            java.util.concurrent.locks.LockSupport.parkNanos(100_000L);
                            continue;
                        }
                        next += 1_000;
                        long t0 = System.nanoTime();
                        try {
                            connection.api("hostname", 0).get(10, TimeUnit.SECONDS);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                        rtts.add(System.nanoTime() - t0);
                    }
                }, "bench-api");
                caller.setDaemon(true);
                long start = System.nanoTime();
                caller.start();
                if (pipelined) {
                    drainPipelined(connection, received, total);
                } else {
                    java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
                    long pollCpu = 0;
                    long decodeCpu = 0;
                    while (received.get() < total) {
                        long t0 = cpu.getCurrentThreadCpuTime();
                        byte[] raw = connection.pollRaw(4096, 5_000);
                        long t1 = cpu.getCurrentThreadCpuTime();
                        received.addAndGet(countEvents(raw == null ? null : FrameCodec.decodeBatch(raw).items(), received.get()));
                        pollCpu += t1 - t0;
                        decodeCpu += cpu.getCurrentThreadCpuTime() - t1;
                    }
                    System.out.printf("consumer CPU per event: native poll %.2f us, Java decode %.2f us%n",
                            pollCpu / 1e3 / total, decodeCpu / 1e3 / total);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                double rate = received.get() / seconds;
                caller.join(10_000);
                Collections.sort(rtts);
                System.out.printf("%d events in %.3f s = %.0f events/s; api rtt p50 %.2f ms, p99 %.2f ms"
                        + " (%d calls); dropped %d%n", received.get(), seconds, rate,
                        rtts.get(rtts.size() / 2) / 1e6, rtts.get(rtts.size() * 99 / 100) / 1e6, rtts.size(),
                        connection.stats().dropped);
                return rate;
            }
        }
    }

    /** This thread drains raw batches; a second thread decodes them (bounded hand-over queue). */
    private static void drainPipelined(NativeConnection connection, final java.util.concurrent.atomic.AtomicInteger received,
            int total) throws Exception {
        final java.util.concurrent.BlockingQueue<byte[]> handOver = new java.util.concurrent.ArrayBlockingQueue<>(64);
        final java.util.concurrent.atomic.AtomicReference<Throwable> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        Thread decoder = new Thread(() -> {
            try {
                while (received.get() < total) {
                    byte[] raw = handOver.poll(5, TimeUnit.SECONDS);
                    received.addAndGet(countEvents(raw == null ? null : FrameCodec.decodeBatch(raw).items(), received.get()));
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "bench-decoder");
        decoder.start();
        while (received.get() < total && failure.get() == null) {
            byte[] raw = connection.pollRaw(4096, 200);
            if (raw == null) {
                throw new IllegalStateException("connection ended");
            }
            if (raw.length > 4 && !handOver.offer(raw, 5, TimeUnit.SECONDS)) {
                throw new IllegalStateException("decoder stalled");
            }
        }
        decoder.join(10_000);
        if (failure.get() != null) {
            throw new IllegalStateException(failure.get());
        }
    }

    private static int countEvents(List<EslEvent> batch, int receivedSoFar) {
        if (batch == null || batch.isEmpty()) {
            throw new IllegalStateException("flood stopped after " + receivedSoFar + " events");
        }
        int count = 0;
        for (EslEvent event : batch) {
            if (event.eventName() != null) {
                count++;
            }
        }
        return count;
    }

    /** Plays FreeSWITCH: auth, then the corpus {@code rounds} times, answering commands in between. */
    private static void flood(ServerSocket listener, byte[] corpus, int rounds) {
        try (Socket socket = listener.accept()) {
            final OutputStream out = socket.getOutputStream();
            final InputStream in = socket.getInputStream();
            out.write("Content-Type: auth/request\n\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            readCommand(in);
            out.write("Content-Type: command/reply\nReply-Text: +OK accepted\n\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread replies = new Thread(() -> {
                byte[] reply = "Content-Type: api/response\nContent-Length: 2\n\nvm".getBytes(StandardCharsets.US_ASCII);
                try {
                    while (readCommand(in) != null) {
                        synchronized (out) {
                            out.write(reply);
                            out.flush();
                        }
                    }
                } catch (IOException e) {
                    // the client closed
                }
            }, "bench-replies");
            replies.setDaemon(true);
            replies.start();
            for (int i = 0; i < rounds; i++) {
                synchronized (out) {
                    out.write(corpus);
                }
            }
            out.flush();
            replies.join(30_000);
        } catch (IOException | InterruptedException e) {
            // the run is over
        }
    }

    private static String readCommand(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int previous = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            if (b == '\n' && previous == '\n') {
                return line.toString("UTF-8");
            }
            line.write(b);
            previous = b;
        }
    }

    private static int countFrames(byte[] corpus) {
        String text = new String(corpus, StandardCharsets.ISO_8859_1);
        int count = 0;
        int from = 0;
        while ((from = text.indexOf("Content-Type: text/event-plain", from)) >= 0) {
            count++;
            from++;
        }
        return count;
    }
}
