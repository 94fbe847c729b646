package org.esl4j.bench;

import org.freeswitch.esl.ESLconnection;
import org.freeswitch.esl.ESLevent;

/** esl4j's SWIG-compatible API: the classic {@code recvEvent()} loop on its own thread. */
final class Esl4jCompatClient implements FloodClient {
    private static final String DISCONNECTED = "SERVER_DISCONNECTED";

    private final ESLconnection connection;
    private final Thread loop;

    Esl4jCompatClient(int port, EventCounter counter) throws Exception {
        connection = new ESLconnection("127.0.0.1", port, "ClueCon");
        if (connection.connected() != 1) {
            throw new IllegalStateException("compat client could not connect");
        }
        if (connection.events("plain", "ALL") != 0) {
            throw new IllegalStateException("compat client could not subscribe");
        }
        loop = new Thread(() -> {
            for (ESLevent event = connection.recvEvent(); !DISCONNECTED.equals(event.getType()); event = connection.recvEvent()) {
                counter.accept(event.getHeader("Event-Name"), event.getHeader("Unique-ID"));
            }
        }, "compat-recvEvent-loop");
        loop.setDaemon(true);
        loop.start();
    }

    @Override
    public void api(String command) {
        ESLevent reply = connection.api(command);
        if (reply == null) {
            throw new IllegalStateException("compat api failed: " + command);
        }
    }

    @Override
    public void close() {
        connection.disconnect();
        Threads.join(loop);
    }
}
