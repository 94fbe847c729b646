package org.esl4j.bench;

import java.io.IOException;

/** One ESL client under test, connected, subscribed to all events in plain format. */
interface FloodClient extends AutoCloseable {
    /** Runs {@code api <command>} and blocks for the reply; throws on failure or timeout. */
    void api(String command) throws Exception;

    @Override
    void close() throws IOException;

    /** The clients by name, as the benchmark's command line names them. */
    enum Kind {
        RAW_SOCKET("raw-socket"),
        RAW_API("raw-api"),
        ESL4J_ENGINE("esl4j-engine"),
        ESL4J_MODERN("esl4j-modern"),
        ESL4J_VIEW("esl4j-view"),
        ESL4J_COMPAT("esl4j-compat"),
        ESL_CLIENT("esl-client"),
        THINGSCLOUD("thingscloud");

        final String id;

        Kind(String id) {
            this.id = id;
        }

        /** Whether this is another library (the ratio base) rather than esl4j or the transport ceiling. */
        boolean isPeer() {
            return this == ESL_CLIENT || this == THINGSCLOUD;
        }

        static Kind byId(String id) {
            for (Kind kind : values()) {
                if (kind.id.equals(id)) {
                    return kind;
                }
            }
            throw new IllegalArgumentException("unknown client " + id);
        }

        /** Connects to 127.0.0.1:{@code port} and subscribes; events go to {@code counter}. */
        FloodClient connect(int port, EventCounter counter) throws Exception {
            switch (this) {
                case RAW_SOCKET:
                    return new RawSocketClient(port, counter);
                case RAW_API:
                    return new RawApiFloor(port, counter);
                case ESL4J_ENGINE:
                    return new Esl4jEngineClient(port, counter);
                case ESL4J_MODERN:
                    return new Esl4jModernClient(port, counter, false);
                case ESL4J_VIEW:
                    return new Esl4jModernClient(port, counter, true);
                case ESL4J_COMPAT:
                    return new Esl4jCompatClient(port, counter);
                case ESL_CLIENT:
                    return new EslClientPeer(port, counter);
                case THINGSCLOUD:
                    return new ThingscloudPeer(port, counter);
                default:
                    throw new AssertionError(this);
            }
        }
    }
}
