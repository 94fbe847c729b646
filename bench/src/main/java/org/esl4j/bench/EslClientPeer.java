package org.esl4j.bench;

import org.freeswitch.esl.client.IEslEventListener;
import org.freeswitch.esl.client.inbound.Client;
import org.freeswitch.esl.client.transport.event.EslEvent;
import org.freeswitch.esl.client.transport.message.EslMessage;

/** Peer: esl-client 0.9.2 (Netty 3), driven as its README shows: a listener, sync api. */
final class EslClientPeer implements FloodClient {
    private static final int CONNECT_TIMEOUT_SECONDS = 10;

    private final Client client = new Client();

    EslClientPeer(int port, EventCounter counter) throws Exception {
        client.addEventListener(new IEslEventListener() {
            @Override
            public void eventReceived(EslEvent event) {
                counter.accept(event.getEventName(), event.getEventHeaders().get("Unique-ID"));
            }

            @Override
            public void backgroundJobResultReceived(EslEvent event) {
                counter.accept(event.getEventName(), event.getEventHeaders().get("Unique-ID"));
            }
        });
        client.connect("127.0.0.1", port, "ClueCon", CONNECT_TIMEOUT_SECONDS);
        if (!client.setEventSubscriptions("plain", "all").isOk()) {
            throw new IllegalStateException("esl-client could not subscribe");
        }
    }

    @Override
    public void api(String command) {
        EslMessage reply = client.sendSyncApiCommand(command, "");
        if (reply == null) {
            throw new IllegalStateException("esl-client api failed: " + command);
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
