package org.esl4j.examples;

import java.util.logging.Logger;

import org.freeswitch.esl.ESLconnection;
import org.freeswitch.esl.ESLevent;

/**
 * The part {@code testserver.c} and the gateway example share: filter on the call's unique id,
 * subscribe, {@code linger}, run the call's applications, then receive events until the
 * disconnect notice plus a grace period for late events.
 */
final class OutboundCall {
    private static final Logger LOG = Logger.getLogger(OutboundCall.class.getName());
    /** The events testserver.c subscribes to. */
    static final String EVENTS = "SESSION_HEARTBEAT CHANNEL_ANSWER CHANNEL_ORIGINATE CHANNEL_PROGRESS CHANNEL_HANGUP "
            + "CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_OUTGOING CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE DTMF "
            + "CUSTOM conference::maintenance";

    private OutboundCall() {
    }

    /** The applications a call runs after the common setup. */
    interface Script {
        void run(ESLconnection handle);
    }

    /**
     * Runs one call the way testserver.c's {@code mycallback} does.
     *
     * @param handle the call's connection
     * @param script what to execute on the call
     * @param lingerWaitMs how long to keep receiving after the linger notice (testserver.c: 5 s)
     * @return the number of events received
     */
    static int handle(ESLconnection handle, Script script, long lingerWaitMs) {
        int received = 0;
        LOG.info("Connected! " + handle.socketDescriptor());
        // filter just the events from our channel, ignore the rest
        handle.filter("unique-id", handle.getInfo().getHeader("caller-unique-id", -1));
        // subscribe to these events
        handle.events("plain", EVENTS);
        // instruct FreeSWITCH to wait for the last channel event before closing the TCP connection
        handle.sendRecv("linger");
        script.run(handle);
        // poll the socket until the last event is received, or an error occurs
        boolean done = false;
        long exp = 0;
        while (handle.connected() == 1) {
            ESLevent event = handle.recvEventTimed(1000);
            if (done) {
                if (System.currentTimeMillis() >= exp) {
                    break;
                }
            } else if (event != null) {
                received++;
                String type = event.getHeader("content-type", -1);
                if ("text/disconnect-notice".equalsIgnoreCase(type)) {
                    String dispo = event.getHeader("content-disposition", -1);
                    LOG.info("Got a disconnection notice dispostion: [" + (dispo == null ? "" : dispo) + "]");
                    if ("linger".equals(dispo)) {
                        done = true;
                        LOG.info("Waiting " + lingerWaitMs + " ms for any remaining events.");
                        exp = System.currentTimeMillis() + lingerWaitMs;
                    }
                }
            }
        }
        LOG.info("Disconnected! " + handle.socketDescriptor());
        handle.disconnect();
        return received;
    }
}
