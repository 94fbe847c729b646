package org.esl4j.examples;

import org.freeswitch.esl.ESLconnection;
import org.freeswitch.esl.ESLserver;

/**
 * Port of the SIP-to-TDM gateway example of the ESL quick start: an outbound socket server that
 * bridges each call to a destination computed from the called number, {@code freetdm/wp1/a/<n>}
 * (SIP to TDM), or {@code sofia/internal/<n>%192.168.2.19} with {@code --to-sip} (TDM to SIP).
 *
 * <p>Usage: {@code SipTdmGateway [--to-sip] [host] [port]} (defaults: localhost 8084).
 */
public final class SipTdmGateway {
    private SipTdmGateway() {
    }

    /**
     * The dial string for a called number.
     *
     * @param destination the channel's {@code Channel-Destination-Number}
     * @param toSip true for the TDM-to-SIP direction
     * @return the bridge target
     */
    public static String callUrl(String destination, boolean toSip) {
        return toSip ? "sofia/internal/" + destination + "%192.168.2.19" : "freetdm/wp1/a/" + destination;
    }

    /**
     * Handles one call: bridge it to the computed destination.
     *
     * @param handle the call's connection
     * @param toSip true for the TDM-to-SIP direction
     * @param lingerWaitMs how long to wait for late events after the linger notice
     * @return the number of events received
     */
    public static int handleCall(ESLconnection handle, boolean toSip, long lingerWaitMs) {
        // get the destination number and create the call url
        String url = callUrl(handle.getInfo().getHeader("channel-destination-number", -1), toSip);
        return OutboundCall.handle(handle, h -> {
            java.util.logging.Logger.getLogger(SipTdmGateway.class.getName()).info("Bridging call to " + url + "...");
            h.execute("bridge", url, null);
        }, lingerWaitMs);
    }

    /**
     * Entry point: serves calls until the process is stopped.
     *
     * @param args {@code --to-sip}, host and port (all optional)
     */
    public static void main(String[] args) {
        boolean toSip = args.length > 0 && args[0].equals("--to-sip");
        int first = toSip ? 1 : 0;
        String host = args.length > first ? args[first] : "localhost";
        int port = args.length > first + 1 ? Integer.parseInt(args[first + 1]) : 8084;
        ESLserver.listen(host, port, handle -> handleCall(handle, toSip, 5000));
    }
}
