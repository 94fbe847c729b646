package consumer;

import java.time.Duration;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.OriginateRequest;
import org.esl4j.dial.Timeouts;
import org.freeswitch.esl.ESLconnection;
import org.freeswitch.esl.ESLevent;

/**
 * What a user's code does with the published esl4j jar: the compat (SWIG) API and a typed
 * originate. Compiled by a plain Maven build and a plain Gradle build against the published POMs.
 */
public final class CallDesk {
    private CallDesk() {
    }

    /**
     * {@code api status} through the compat API.
     *
     * @param host FreeSWITCH's host
     * @param port its event socket port
     * @param password its event socket password
     * @return the reply body, or null when not connected
     */
    public static String status(String host, int port, String password) {
        ESLconnection connection = new ESLconnection(host, port, password);
        try {
            if (connection.connected() != 1) {
                return null;
            }
            ESLevent reply = connection.api("status", "");
            return reply == null ? null : reply.getBody();
        } finally {
            connection.disconnect();
        }
    }

    /**
     * The request for a call that gives up when nobody answers within the timeout.
     *
     * @param endpoint e.g. {@code user/1000}
     * @param noAnswer the no-answer timeout
     * @return the typed originate
     */
    public static OriginateRequest call(String endpoint, Duration noAnswer) {
        return OriginateRequest.to(Endpoint.of(endpoint)).timeouts(Timeouts.noAnswer(noAnswer)).build();
    }
}
