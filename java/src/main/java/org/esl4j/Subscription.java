package org.esl4j;

/**
 * A registered listener. {@link #close()} removes it; closing twice is harmless.
 *
 * <pre>{@code
 * try (Subscription hangups = client.onEvent("CHANNEL_HANGUP_COMPLETE", event -> cdr.write(event))) {
 *     ...
 * }
 * }</pre>
 */
public interface Subscription extends AutoCloseable {
    /** Stops delivering events to the listener. */
    @Override
    void close();
}
