package org.esl4j.examples;

import org.freeswitch.esl.ESLconnection;
import org.freeswitch.esl.ESLevent;

/**
 * Port of libesl's {@code testclient.c}: connect to the event socket, run {@code api status},
 * print the output.
 *
 * <p>Usage: {@code TestClient [host] [port] [password]} (defaults: localhost 8021 ClueCon).
 */
public final class TestClient {
    private TestClient() {
    }

    /**
     * Runs {@code api status}.
     *
     * @param host the FreeSWITCH host
     * @param port the event socket port
     * @param password the event socket password
     * @return the status text, or null when the connection or the command failed
     */
    public static String status(String host, int port, String password) {
        ESLconnection handle = new ESLconnection(host, port, password);
        try {
            if (handle.connected() == 0) {
                return null;
            }
            ESLevent reply = handle.api("status", null);
            return reply == null ? null : reply.getBody();
        } finally {
            handle.disconnect();
        }
    }

    /**
     * Entry point.
     *
     * @param args host, port, password (all optional)
     */
    public static void main(String[] args) {
        String host = args.length > 0 ? args[0] : "localhost";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 8021;
        String password = args.length > 2 ? args[2] : "ClueCon";
        String status = status(host, port, password);
        if (status == null) {
            System.err.println("cannot get the status from " + host + ":" + port);
            System.exit(1);
        }
        System.out.println(status);
    }
}
