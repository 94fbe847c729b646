package org.esl4j.internal;

import java.util.function.Function;

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
 * its batch, at most a few hundred KiB, reachable). {@link #take} therefore returns a new array
 * each time. {@link #takeFrames} may write into the caller's array instead: for a reader that
 * makes no event of that batch (the modern client's {@code EventView} path), so that it can reuse
 * the array for the next batch.
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

    /** Where batches come from when the caller offers an array to write them into. */
    public interface ArraySource {
        /**
         * The next batch, written from the first byte of {@code into} when it fits there.
         *
         * @param into the caller's array, not touched by the caller during the call
         * @param timeoutMs how long to wait for the first item
         * @return {@code into} holding the batch (0 items on timeout), or a new array holding
         *     exactly the batch when it is longer than {@code into}, or null once the source has
         *     ended
         * @throws RuntimeException once the source is closed, which ends the inbox too
         */
        byte[] pollInto(byte[] into, long timeoutMs);
    }

    /**
     * The longest array worth keeping for {@link #takeFrames}: a poll takes about {@link
     * NativeContract#POLL_BATCH_BYTES} of frames, and their span tables and frame fields add about
     * a quarter to a real event's bytes (more for events of many short headers).
     */
    public static final int MAX_SPARE_BYTES = 2 * NativeContract.POLL_BATCH_BYTES;

    private static final Log LOG = Log.of(EventInbox.class);

    private final Source source;
    private final ArraySource arraySource;
    private boolean ended;

    /**
     * An inbox over {@code source}.
     *
     * @param source the batches
     */
    public EventInbox(Source source) {
        this(source, null);
    }

    /**
     * An inbox over {@code source} that can also write batches into the caller's array.
     *
     * @param source the batches, in new arrays
     * @param arraySource the batches, in the caller's array when they fit; null if the source
     *     cannot do that ({@link #takeFrames} then always returns new arrays)
     */
    public EventInbox(Source source, ArraySource arraySource) {
        this.source = source;
        this.arraySource = arraySource;
    }

    /**
     * Takes the next batch, waiting up to {@code timeoutMs} for its first item.
     *
     * @param timeoutMs how long to wait; 0 returns at once
     * @return the batch (empty on timeout), or null once the source has ended, was closed or
     *     sent a batch that does not decode (and from then on)
     */
    public FrameCodec.Batch take(long timeoutMs) {
        return next(null, timeoutMs, FrameCodec::decodeBatch);
    }

    /**
     * Takes the next batch without decoding its frames into events, written into {@code spare}
     * when it fits there, waiting up to {@code timeoutMs} for its first item. The caller reads the
     * frames with {@link FrameCodec.Frames} and reports a malformed one through {@link
     * #malformed}; {@code spare} holds the batch exactly when {@code frames.batch() == spare}.
     *
     * @param spare the array to reuse, or null for a new one
     * @param timeoutMs how long to wait; 0 returns at once
     * @return the frames (none on timeout), or null once the source has ended or was closed
     *     (and from then on)
     */
    public FrameCodec.Frames takeFrames(byte[] spare, long timeoutMs) {
        return next(spare, timeoutMs, FrameCodec.Frames::new);
    }

    /** The next batch, into {@code spare} when not null, decoded by {@code decode}; null at the end. */
    private <T> T next(byte[] spare, long timeoutMs, Function<byte[], T> decode) {
        if (ended) {
            return null;
        }
        try {
            byte[] bytes = spare == null || arraySource == null ? source.poll(timeoutMs)
                    : arraySource.pollInto(spare, timeoutMs);
            if (bytes != null) {
                return decode.apply(bytes);
            }
        } catch (IllegalArgumentException bad) {
            malformed(bad);
            return null;
        } catch (RuntimeException closed) {
            // The end of this source: the owner sees it as the connection's end.
            LOG.debug("poll source closed", closed);
        }
        ended = true;
        return null;
    }

    /**
     * Ends the inbox because a frame of a batch from {@link #takeFrames} does not decode, as
     * {@link #take} ends it for a batch that does not.
     *
     * @param malformed what the decoder found (a layout or span fault)
     */
    public void malformed(RuntimeException malformed) {
        // A bug between the two sides, never the peer's doing: said loudly, then the end.
        LOG.warn("a poll batch does not decode; this connection's items end here", malformed);
        ended = true;
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
