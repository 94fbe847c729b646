package org.esl4j.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import org.esl4j.EslException;

/**
 * A future that the native side completes exactly once, from a runtime thread. Not API.
 *
 * <p>The result is decoded and the future completed on {@code executor}, so code the user chains
 * on the future never runs on (and can never block) a runtime thread.
 *
 * @param <T> the result type
 */
public final class NativeCompletion<T> {
    /** Turns the native payload into the result. */
    public interface Decoder<T> {
        /**
         * Decodes a payload.
         *
         * @param payload the bytes the native side produced (see {@link FrameCodec})
         * @return the result
         */
        T decode(byte[] payload);
    }

    private final CompletableFuture<T> future = new CompletableFuture<>();
    private final Executor executor;
    private final Decoder<T> decoder;

    /**
     * Creates a pending completion.
     *
     * @param executor where the future is completed
     * @param decoder how the payload becomes the result
     */
    public NativeCompletion(Executor executor, Decoder<T> decoder) {
        this.executor = executor;
        this.decoder = decoder;
    }

    /**
     * The future the caller waits on.
     *
     * @return the future
     */
    public CompletableFuture<T> future() {
        return future;
    }

    void succeed(final byte[] payload) {
        hop(new Runnable() {
            @Override
            public void run() {
                try {
                    future.complete(decoder.decode(payload));
                } catch (RuntimeException | Error e) {
                    future.completeExceptionally(e);
                }
            }
        });
    }

    void fail(final Throwable error) {
        hop(new Runnable() {
            @Override
            public void run() {
                future.completeExceptionally(error);
            }
        });
    }

    /**
     * Fails the future at once, on the calling thread (for example when the native call refused
     * the command before queueing it), so the caller sees the refusal as soon as it has the
     * future. Call it only before handing the future out: no dependent code can run here then.
     *
     * @param error the failure
     */
    public void failNow(Throwable error) {
        future.completeExceptionally(error);
    }

    private void hop(Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            // The user's executor is shut down; the library's own still keeps runtime threads free.
            try {
                CompletionThreads.shared().execute(task);
            } catch (RejectedExecutionException again) {
                future.completeExceptionally(new EslException(EslException.Kind.INTERNAL,
                        "no executor accepted the completion", again));
            }
        }
    }
}
