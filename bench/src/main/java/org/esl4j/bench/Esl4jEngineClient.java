package org.esl4j.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.esl4j.EslConnectionClosedException;
import org.esl4j.EslEvent;
import org.esl4j.internal.NativeConnection;

/**
 * esl4j's engine seen from Java without the public API on top: {@link NativeConnection#poll}
 * batches on one thread, with the engine told to stop reading the socket rather than drop
 * when Java falls behind. The ceiling of the JNI crossing plus decoding into {@link EslEvent}s.
 */
final class Esl4jEngineClient implements FloodClient {
    private static final int POLL_BATCH = 4096;
    private static final long POLL_WAIT_MS = 200;
    private static final long API_TIMEOUT_MS = 30_000;

    private final NativeConnection connection;
    private final Thread reader;

    Esl4jEngineClient(int port, EventCounter counter) throws Exception {
        connection = NativeConnection.connect("127.0.0.1", port, null, "ClueCon",
                new NativeConnection.Settings().blockOnOverflow(true));
        connection.subscribe("plain", "ALL").get(API_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        reader = new Thread(() -> {
            try {
                for (List<EslEvent> batch = connection.poll(POLL_BATCH, POLL_WAIT_MS); batch != null;
                        batch = connection.poll(POLL_BATCH, POLL_WAIT_MS)) {
                    for (EslEvent event : batch) {
                        counter.accept(event.eventName(), event.uniqueId());
                    }
                }
            } catch (EslConnectionClosedException closed) {
                // close() ends the loop
            }
        }, "engine-poll-loop");
        reader.setDaemon(true);
        reader.start();
    }

    @Override
    public void api(String command) throws Exception {
        connection.api(command, API_TIMEOUT_MS).get(API_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        connection.close();
        Threads.join(reader);
    }
}
