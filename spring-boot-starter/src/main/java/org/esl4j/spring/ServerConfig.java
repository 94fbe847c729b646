package org.esl4j.spring;

import java.util.List;
import org.esl4j.ClientOptions;

/**
 * One FreeSWITCH server to connect to, its settings resolved from {@code esl4j.inbound.*}.
 *
 * @param name the server's name ({@code default} for the single unnamed server)
 * @param propertyPrefix where its settings live, for error messages
 * @param options the client options
 * @param subscriptions event names to subscribe to (CUSTOM subclasses as {@code CUSTOM x::y})
 * @param filters filters as {header, value}
 * @param commandTimings the client's command observer, for the latency metric
 * @param connectInBackground whether the client is made at once and connects in the background
 */
record ServerConfig(String name, String propertyPrefix, ClientOptions options, List<String> subscriptions,
        List<Filter> filters, CommandTimings commandTimings, boolean connectInBackground) {

    /**
     * One server-side filter.
     *
     * @param header the header name
     * @param value the value to match
     */
    record Filter(String header, String value) {}
}
