package org.esl4j;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The FreeSWITCH simulator ({@code esl4j-sim}, real clock) as a child process. Found through the
 * {@code esl4j.sim} system property, else in {@code $CARGO_TARGET_DIR} or {@code target}; tests
 * that need it are skipped when it is not built.
 */
final class SimProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");

    private final Process process;
    private final int port;

    private SimProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    static File binary() {
        List<String> candidates = new ArrayList<>();
        String property = System.getProperty("esl4j.sim");
        if (property != null) {
            candidates.add(property);
        }
        String targetDir = System.getenv("CARGO_TARGET_DIR");
        for (String base : new String[] {targetDir, "target", "../target"}) {
            if (base != null) {
                candidates.add(base + "/debug/esl4j-sim");
                candidates.add(base + "/release/esl4j-sim");
            }
        }
        for (String candidate : candidates) {
            File file = new File(candidate);
            if (file.canExecute()) {
                return file;
            }
        }
        return null;
    }

    static boolean nativeAvailable() {
        try {
            org.esl4j.internal.Native.ensureLoaded();
            return true;
        } catch (Throwable unavailable) {
            return false;
        }
    }

    /** Starts the simulator on the port (0: a free one) and waits until it listens. */
    static SimProcess start(int port) throws IOException {
        File binary = binary();
        if (binary == null) {
            throw new IllegalStateException("esl4j-sim not built");
        }
        Process process = new ProcessBuilder(binary.getAbsolutePath(), "--port", Integer.toString(port))
                .redirectErrorStream(true)
                .start();
        BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<Integer> listening = new CompletableFuture<>();
        Thread drain = new Thread(() -> {
            try {
                for (String line = output.readLine(); line != null; line = output.readLine()) {
                    Matcher matcher = LISTENING.matcher(line);
                    if (matcher.find()) {
                        listening.complete(Integer.parseInt(matcher.group(1)));
                    }
                }
            } catch (IOException ended) {
                // The process ended.
            }
            listening.completeExceptionally(new IllegalStateException("esl4j-sim exited without listening"));
        }, "esl4j-sim-output");
        drain.setDaemon(true);
        drain.start();
        try {
            return new SimProcess(process, listening.get(20, TimeUnit.SECONDS));
        } catch (Exception failed) {
            process.destroyForcibly();
            throw new IOException("esl4j-sim did not start", failed);
        }
    }

    int port() {
        return port;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
