package org.esl4j.examples;

import org.freeswitch.esl.ESLconnection;
import org.freeswitch.esl.ESLserver;

/**
 * Port of libesl's {@code testserver.c}: an outbound socket server that answers each call and
 * puts the caller into conference 3000.
 *
 * <p>Dialplan: {@code <action application="socket" data="127.0.0.1:8084 async full"/>}.
 * Usage: {@code TestServer [host] [port]} (defaults: localhost 8084).
 */
public final class TestServer {
    private TestServer() {
    }

    /**
     * Handles one call (testserver.c's {@code mycallback}).
     *
     * @param handle the call's connection; {@code getInfo()} is its channel data
     * @param lingerWaitMs how long to wait for late events after the linger notice
     * @return the number of events received
     */
    public static int handleCall(ESLconnection handle, long lingerWaitMs) {
        return OutboundCall.handle(handle, h -> {
            // answer the call
            h.execute("answer", null, null);
            // put the caller on a conference
            h.execute("conference", "3000@default", null);
        }, lingerWaitMs);
    }

    /**
     * Entry point: serves calls until the process is stopped.
     *
     * @param args host and port (optional)
     */
    public static void main(String[] args) {
        String host = args.length > 0 ? args[0] : "localhost";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 8084;
        ESLserver.listen(host, port, handle -> handleCall(handle, 5000));
    }
}
