package org.esl4j.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A load source ({@code bench/load}, binary {@code esl4j-bench-load}) as a child process: one
 * request line in, one reply line out.
 */
final class LoadDriver implements AutoCloseable {
    /** Which server the clients connect to. */
    enum Source {
        /** The simulator in load mode: every scenario, and the FreeSWITCH command set. */
        SIMULATOR("sim"),
        /**
         * The lean FreeSWITCH-shaped server ({@code --lean}): one thread per connection answers a
         * trivial {@code api} as soon as it reads it, as FreeSWITCH's listener thread does; paced
         * floods only.
         */
        LEAN("lean");

        final String id;

        Source(String id) {
            this.id = id;
        }

        static Source byId(String id) {
            for (Source source : values()) {
                if (source.id.equals(id)) {
                    return source;
                }
            }
            throw new IllegalArgumentException("unknown load source " + id);
        }
    }

    private static final long START_TIMEOUT_MS = 10_000;
    private static final String END_OF_OUTPUT = "\u0000end";

    private final Process process;
    private final Writer requests;
    private final BlockingQueue<String> replies = new ArrayBlockingQueue<>(16);
    private final int port;

    private LoadDriver(Process process) throws IOException, InterruptedException {
        this.process = process;
        this.requests = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Thread reader = new Thread(() -> {
            try {
                for (String line = output.readLine(); line != null; line = output.readLine()) {
                    replies.put(line);
                }
            } catch (IOException | InterruptedException ended) {
                // the driver stopped
            }
            replies.offer(END_OF_OUTPUT);
        }, "load-driver-output");
        reader.setDaemon(true);
        reader.start();
        String listening = reply(START_TIMEOUT_MS);
        if (!listening.startsWith("listening ")) {
            throw new IOException("load driver did not start: " + listening);
        }
        this.port = Integer.parseInt(listening.substring("listening ".length()).trim());
    }

    /** Starts the simulator (see {@link #start(Source)}). */
    static LoadDriver start() throws IOException, InterruptedException {
        return start(Source.SIMULATOR);
    }

    /** Starts the driver named by the {@code esl4j.bench.load} property with the flood corpus. */
    static LoadDriver start(Source source) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Config.required("esl4j.bench.load"));
        if (source == Source.LEAN) {
            command.add("--lean");
        }
        command.add("--corpus");
        command.add(Config.required("esl4j.bench.corpus"));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return new LoadDriver(process);
    }

    /** The simulator's inbound port on 127.0.0.1. */
    int port() {
        return port;
    }

    /** Sends a request without waiting; {@link #reply(long)} returns its answer. */
    void send(String request) throws IOException {
        requests.write(request + "\n");
        requests.flush();
    }

    /** The next reply line. */
    String reply(long timeoutMs) throws IOException, InterruptedException {
        String line = replies.poll(timeoutMs, TimeUnit.MILLISECONDS);
        if (line == null) {
            throw new IOException("load driver: no reply within " + timeoutMs + " ms");
        }
        if (line.equals(END_OF_OUTPUT)) {
            throw new IOException("load driver exited");
        }
        if (line.startsWith("error ")) {
            throw new IOException("load driver: " + line);
        }
        return line;
    }

    /** The next reply line if one has arrived, else null. */
    String replyIfAny() throws IOException, InterruptedException {
        return replies.isEmpty() ? null : reply(0);
    }

    /** Sends a request and waits for its reply. */
    String request(String request, long timeoutMs) throws IOException, InterruptedException {
        send(request);
        return reply(timeoutMs);
    }

    @Override
    public void close() {
        try {
            requests.close();
        } catch (IOException alreadyGone) {
            // the driver exited first
        }
        try {
            if (!process.waitFor(Threads.STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException interrupted) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
