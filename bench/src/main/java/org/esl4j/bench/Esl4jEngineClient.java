package org.esl4j.bench;

import java.util.concurrent.TimeUnit;
import org.esl4j.EslEvent;
import org.esl4j.internal.EventInbox;
import org.esl4j.internal.FrameCodec;
import org.esl4j.internal.NativeConnection;

/**
 * esl4j's engine seen from Java without the public API on top: {@link NativeConnection#inbox}
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
        EventInbox inbox = connection.inbox(POLL_BATCH);
        reader = new Thread(() -> {
            // close() ends the inbox, and with it the loop
            for (FrameCodec.Batch batch = inbox.take(POLL_WAIT_MS); batch != null; batch = inbox.take(POLL_WAIT_MS)) {
                for (int i = 0; i < batch.size(); i++) {
                    EslEvent event = batch.item(i);
                    counter.accept(event.eventName(), event.uniqueId());
                }
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
