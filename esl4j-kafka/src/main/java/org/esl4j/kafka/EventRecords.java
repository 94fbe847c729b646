package org.esl4j.kafka;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.esl4j.EslEvent;

/**
 * How an event is laid out in a record of the events topic: the key, the record headers and the
 * value (FreeSWITCH's JSON, {@link FreeSwitchJson}).
 */
public final class EventRecords {
    /** Record header: the node's name in the relaying {@link org.esl4j.cluster.EslCluster}. */
    public static final String NODE_HEADER = "node";
    /** Record header: the FreeSWITCH instance's {@code Core-UUID} (new at every restart). */
    public static final String CORE_UUID_HEADER = "Core-UUID";
    /** Record header: the event's {@code Event-Sequence}, counted by FreeSWITCH per Core-UUID. */
    public static final String SEQUENCE_HEADER = "Event-Sequence";

    private EventRecords() {
    }

    /**
     * The record key, which keeps a call's events in one partition and so in order: the call's
     * {@code Channel-Call-UUID}, else the channel's {@code Unique-ID}; a {@code BACKGROUND_JOB}
     * by the channel its {@code originate} created ({@code +OK <uuid>}), else by its {@code
     * Job-UUID}; any other event (HEARTBEAT, API, ...) by its node.
     *
     * @param node the node the event came from
     * @param event the event
     * @return the key
     */
    public static String keyOf(String node, EslEvent event) {
        String call = event.channelCallUuid();
        if (call == null || call.isEmpty()) {
            call = event.uniqueId();
        }
        if (call != null && !call.isEmpty()) {
            return call;
        }
        String job = event.jobUuid();
        if (job != null && "BACKGROUND_JOB".equals(event.eventName())) {
            String created = originated(event);
            return created != null ? created : job;
        }
        return node;
    }

    /** The UUID in the {@code +OK <uuid>} body of an originate's job, or null. */
    private static String originated(EslEvent event) {
        String command = event.header("Job-Command");
        if (command == null || !command.trim().equals("originate")) {
            return null;
        }
        String body = event.body().trim();
        if (!body.startsWith("+OK ")) {
            return null;
        }
        String uuid = body.substring(4).trim();
        return uuid.isEmpty() || uuid.indexOf(' ') >= 0 ? null : uuid;
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A record header's text.
     *
     * @param headers the record's headers
     * @param name the header's name
     * @return its last value as UTF-8 text, or null when absent
     */
    public static String header(Headers headers, String name) {
        Header header = headers.lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
