package org.esl4j.internal;

import org.esl4j.EslEvent;

/**
 * The one poll loop primitive behind every Java reader of the engine's queued items: the modern
 * client's dispatcher, the outbound server's shared reader, the compat {@code ESLconnection} and
 * the simulator's event recorder. Takes a batch from its source, decodes it once (events keep
 * their values encoded until read), and ends for good when the source has ended or failed, so no
 * loop has its own rule for that. Each item carries its kind ({@link FrameCodec#KIND_EVENT}, ...),
 * so no loop recovers it from a content type.
 *
 * <p>Lifetime: the events of a batch share that batch's byte array, which is never written after
 * it arrived; an event handed to user code therefore stays valid however long it is kept (it keeps
 * its batch, at most a few hundred KiB, reachable). The batch array is not pooled for that reason.
 *
 * <p>One thread takes from an inbox at a time. Not API.
 */
public final class EventInbox {
    /** Where batches come from. */
    public interface Source {
        /**
         * The next batch in the layout of {@link FrameCodec}, waiting up to {@code timeoutMs}.
         *
         * @param timeoutMs how long to wait for the first item
         * @return the batch (0 items on timeout), or null once the source has ended
         * @throws RuntimeException once the source is closed, which ends the inbox too
         */
        byte[] poll(long timeoutMs);
    }

    /** Receives the items of a batch that are not events, in stream order. */
    public interface Notices {
        /**
         * One item that is not an event.
         *
         * @param kind its kind ({@link FrameCodec#KIND_LOG}, ...)
         * @param item its headers and body
         */
        void accept(int kind, EslEvent item);
    }

    private static final Log LOG = Log.of(EventInbox.class);

    private final Source source;
    private boolean ended;

    /**
     * An inbox over {@code source}.
     *
     * @param source the batches
     */
    public EventInbox(Source source) {
        this.source = source;
    }

    /**
     * Takes the next batch, waiting up to {@code timeoutMs} for its first item.
     *
     * @param timeoutMs how long to wait; 0 returns at once
     * @return the batch (empty on timeout), or null once the source has ended, was closed or
     *     sent a batch that does not decode (and from then on)
     */
    public FrameCodec.Batch take(long timeoutMs) {
        if (ended) {
            return null;
        }
        try {
            byte[] bytes = source.poll(timeoutMs);
            if (bytes != null) {
                return FrameCodec.decodeBatch(bytes);
            }
        } catch (IllegalArgumentException malformed) {
            // A bug between the two sides, never the peer's doing: said loudly, then the end.
            LOG.warn("a poll batch does not decode; this connection's items end here", malformed);
        } catch (RuntimeException closed) {
            // The end of this source: the owner sees it as the connection's end.
            LOG.debug("poll source closed", closed);
        }
        ended = true;
        return null;
    }

    /**
     * Whether {@link #take} has reported the end.
     *
     * @return true once ended
     */
    public boolean ended() {
        return ended;
    }
}
