package org.esl4j.kafka;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;

/**
 * A real Kafka broker in KRaft mode (broker and controller in one process), started from Kafka's
 * own jars as a child JVM: {@code kafka.tools.StorageTool format}, then {@code kafka.Kafka}. The
 * class path comes from the build (system property {@code esl4j.kafka.brokerClasspath}); its log
 * is {@code broker.log} in its folder under {@code esl4j.kafka.workDir}.
 */
final class KafkaBroker implements AutoCloseable {
    private static final long START_TIMEOUT_SECONDS = 180;
    private static final long STOP_TIMEOUT_SECONDS = 30;

    private final File dir;
    private final Process process;
    private final String bootstrapServers;

    private KafkaBroker(File dir, Process process, String bootstrapServers) {
        this.dir = dir;
        this.process = process;
        this.bootstrapServers = bootstrapServers;
    }

    /**
     * Formats a fresh storage folder and starts the broker on two free ports.
     *
     * @return the running broker, answering admin requests
     * @throws IOException when its folder or process cannot be made
     * @throws InterruptedException when interrupted while waiting for it
     */
    public static KafkaBroker start() throws IOException, InterruptedException {
        String classpath = System.getProperty("esl4j.kafka.brokerClasspath");
        if (classpath == null || classpath.isEmpty()) {
            throw new IllegalStateException("no broker class path: run through Gradle (esl4j.kafka.brokerClasspath)");
        }
        File dir = new File(System.getProperty("esl4j.kafka.workDir", System.getProperty("java.io.tmpdir")),
                "broker-" + UUID.randomUUID());
        if (!dir.mkdirs()) {
            throw new IOException("cannot create " + dir);
        }
        int brokerPort = freePort();
        int controllerPort = freePort();
        File config = new File(dir, "server.properties");
        Files.write(config.toPath(), Arrays.asList(
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + brokerPort,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                "log.dirs=" + new File(dir, "data").getAbsolutePath(),
                "num.partitions=1",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "group.initial.rebalance.delay.ms=0",
                "group.min.session.timeout.ms=1000",
                "log.flush.interval.messages=9223372036854775807"), StandardCharsets.UTF_8);
        File log = new File(dir, "broker.log");
        String clusterId = Uuid.randomUuid().toString();
        Process format = java(classpath, log, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", config.getAbsolutePath());
        if (!format.waitFor(START_TIMEOUT_SECONDS, TimeUnit.SECONDS) || format.exitValue() != 0) {
            format.destroyForcibly();
            throw new IllegalStateException("formatting the broker's storage failed; see " + log);
        }
        Process broker = java(classpath, log, "kafka.Kafka", config.getAbsolutePath());
        // A test JVM that dies without close() must not leave the broker running.
        Runtime.getRuntime().addShutdownHook(new Thread(broker::destroyForcibly, "kafka-broker-reaper"));
        KafkaBroker started = new KafkaBroker(dir, broker, "127.0.0.1:" + brokerPort);
        try {
            started.awaitReady();
        } catch (RuntimeException | InterruptedException failed) {
            started.close();
            throw failed;
        }
        return started;
    }

    private static Process java(String classpath, File log, String... mainAndArgs) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(new File(System.getProperty("java.home"), "bin/java").getAbsolutePath());
        command.addAll(Arrays.asList("-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Djava.awt.headless=true", "-cp", classpath));
        command.addAll(Arrays.asList(mainAndArgs));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Waits until the broker answers an admin request (it has elected itself and registered). */
    private void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_SECONDS);
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrapServers,
                "request.timeout.ms", 5_000, "default.api.timeout.ms", 10_000))) {
            while (true) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the broker exited with " + process.exitValue() + "; see " + logFile());
                }
                try {
                    if (!admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException notYet) {
                    // still starting: the admin client retries its connection
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the broker did not start within " + START_TIMEOUT_SECONDS + " s; see " + logFile());
                }
            }
        }
    }

    /** @return {@code 127.0.0.1:<port>} */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    File logFile() {
        return new File(dir, "broker.log");
    }

    /** Stops the broker and deletes its data; the log stays. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (InterruptedException interrupted) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        deleteTree(new File(dir, "data")); // the log stays for a failed run
    }

    private static void deleteTree(File file) {
        File[] children = file.listFiles();
        if (children != null) {
            for (File child : children) {
                deleteTree(child);
            }
        }
        if (!file.delete() && file.exists()) {
            throw new UncheckedIOException(new IOException("cannot delete " + file));
        }
    }
}
