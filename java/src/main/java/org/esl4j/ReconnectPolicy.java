package org.esl4j;

import java.time.Duration;
import java.util.Objects;

/**
 * Whether and how an {@link EslClient} reconnects after the connection drops unexpectedly. After
 * a reconnect the client sends its subscriptions and filters again and tells {@link
 * ConnectionListener}s about the gap, during which events were lost.
 *
 * <pre>{@code
 * ReconnectPolicy.backoff(Duration.ofMillis(500), Duration.ofSeconds(30), 0); // forever, 0.5 s doubling to 30 s
 * }</pre>
 */
public final class ReconnectPolicy {
    private static final ReconnectPolicy NONE = new ReconnectPolicy(Duration.ZERO, Duration.ZERO, -1);

    private final Duration initialDelay;
    private final Duration maxDelay;
    private final int maxAttempts;

    private ReconnectPolicy(Duration initialDelay, Duration maxDelay, int maxAttempts) {
        this.initialDelay = initialDelay;
        this.maxDelay = maxDelay;
        this.maxAttempts = maxAttempts;
    }

    /**
     * Never reconnect: a lost connection closes the client (the default).
     *
     * @return the policy
     */
    public static ReconnectPolicy none() {
        return NONE;
    }

    /**
     * Reconnect with exponential backoff: the first attempt after {@code initialDelay}, each
     * further one after twice the previous wait, never more than {@code maxDelay} (the engine
     * runs the attempts).
     *
     * @param initialDelay the wait before the first attempt
     * @param maxDelay the longest wait between attempts
     * @param maxAttempts attempts before giving up; 0 for no limit
     * @return the policy
     */
    public static ReconnectPolicy backoff(Duration initialDelay, Duration maxDelay, int maxAttempts) {
        Objects.requireNonNull(initialDelay, "initialDelay");
        Objects.requireNonNull(maxDelay, "maxDelay");
        if (initialDelay.isNegative() || maxDelay.compareTo(initialDelay) < 0 || maxAttempts < 0) {
            throw new IllegalArgumentException("need 0 <= initialDelay <= maxDelay and maxAttempts >= 0");
        }
        return new ReconnectPolicy(initialDelay, maxDelay, maxAttempts);
    }

    /** The wait before the first attempt. */
    Duration initialDelay() {
        return initialDelay;
    }

    /** The longest wait between attempts. */
    Duration maxDelay() {
        return maxDelay;
    }

    /** Attempts before giving up: 0 for no limit, negative for {@link #none()}. */
    int maxAttempts() {
        return maxAttempts;
    }

    /**
     * Whether this policy reconnects at all.
     *
     * @return false for {@link #none()}
     */
    public boolean enabled() {
        return maxAttempts >= 0;
    }
}
