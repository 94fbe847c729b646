package org.esl4j.readme;

import org.freeswitch.esl.ESLconnection;
import org.freeswitch.esl.ESLevent;

/** README, "compat API": the SWIG binding's classes, unchanged code, no native SWIG library. */
public final class CompatQuickStart {
    private CompatQuickStart() {
    }

    /**
     * {@code api status}, exactly as with FreeSWITCH's own Java binding.
     *
     * @param host FreeSWITCH's address
     * @param port the event socket port (8021)
     * @param password the event socket password (ClueCon)
     * @return the status text, or null when not connected
     */
    public static String status(String host, int port, String password) {
        ESLconnection con = new ESLconnection(host, port, password);
        try {
            if (con.connected() != 1) {
                return null;
            }
            ESLevent reply = con.api("status", "");
            return reply.getBody();
        } finally {
            con.disconnect();
        }
    }

    /**
     * Prints FreeSWITCH's status.
     *
     * @param args none
     */
    public static void main(String[] args) {
        System.out.println(status("127.0.0.1", 8021, "ClueCon"));
    }
}
