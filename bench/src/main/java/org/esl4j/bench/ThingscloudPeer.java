package org.esl4j.bench;

import java.util.concurrent.TimeUnit;
import link.thingscloud.freeswitch.esl.IEslEventListener;
import link.thingscloud.freeswitch.esl.InboundClient;
import link.thingscloud.freeswitch.esl.inbound.option.ConnectState;
import link.thingscloud.freeswitch.esl.inbound.option.InboundClientOption;
import link.thingscloud.freeswitch.esl.inbound.option.ServerOption;
import link.thingscloud.freeswitch.esl.transport.event.EslEvent;
import link.thingscloud.freeswitch.esl.transport.message.EslMessage;

/**
 * Peer: thingscloud freeswitch-esl 2.2.0 (Netty 4), driven as its README shows: options with
 * the server, {@code addEvents("all")} and a listener, then {@code start()}. Its client is a
 * JVM-wide singleton, so one benchmark JVM holds one.
 */
final class ThingscloudPeer implements FloodClient {
    private static final long CONNECT_TIMEOUT_MS = 10_000;
    private static final long STATE_CHECK_MS = 10;

    private final InboundClient client;
    private final String address;

    ThingscloudPeer(int port, EventCounter counter) throws Exception {
        ServerOption server = new ServerOption("127.0.0.1", port);
        address = server.addr();
        InboundClientOption option = new InboundClientOption()
                .defaultPassword("ClueCon")
                .addServerOption(server)
                .addEvents("all")
                .addListener(new IEslEventListener() {
                    @Override
                    public void eventReceived(String addr, EslEvent event) {
                        counter.accept(event.getEventName(), event.getEventHeaders().get("Unique-ID"));
                    }

                    @Override
                    public void backgroundJobResultReceived(String addr, EslEvent event) {
                        counter.accept(event.getEventName(), event.getEventHeaders().get("Unique-ID"));
                    }
                });
        client = InboundClient.newInstance(option);
        client.start();
        awaitAuthenticated(server);
        // The library subscribes (addEvents) on its own thread right after authenticating; this
        // synchronous subscription makes sure the server has it before the flood starts.
        if (!client.setEventSubscriptions(address, "plain", "all").isOk()) {
            throw new IllegalStateException("thingscloud could not subscribe");
        }
    }

    /**
     * Waits for the library to authenticate. It reports no callback after authentication
     * (onOpened comes before), so its connection state is checked every {@link #STATE_CHECK_MS}.
     */
    private static void awaitAuthenticated(ServerOption server) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CONNECT_TIMEOUT_MS);
        while (server.state() != ConnectState.AUTHED) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("thingscloud client did not authenticate: " + server.state());
            }
            Thread.sleep(STATE_CHECK_MS);
        }
    }

    @Override
    public void api(String command) {
        EslMessage reply = client.sendSyncApiCommand(address, command, "");
        if (reply == null) {
            throw new IllegalStateException("thingscloud api failed: " + command);
        }
    }

    @Override
    public void close() {
        client.shutdown();
    }
}
