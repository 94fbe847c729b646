package org.esl4j.testing;

import java.time.Duration;
import java.util.Objects;
import org.esl4j.dial.HangupCause;
import org.esl4j.testing.internal.NativeSimulator;

/**
 * How a simulated endpoint such as {@code user/2000} reacts when it is dialed.
 *
 * <pre>{@code
 * sim.endpoint("user/2000", EndpointBehavior.neverAnswer());                      // rings forever
 * sim.endpoint("user/3000", EndpointBehavior.answerAfter(Duration.ofSeconds(5)));  // rings 5 s, answers
 * sim.endpoint("sofia/gateway/gw1/123", EndpointBehavior.reject(HangupCause.CALL_REJECTED));
 * }</pre>
 *
 * <p>Immutable.
 */
public final class EndpointBehavior {
    final NativeSimulator.Behavior kind;
    final Duration delay;
    final HangupCause cause;

    private EndpointBehavior(NativeSimulator.Behavior kind, Duration delay, HangupCause cause) {
        this.kind = kind;
        this.delay = delay;
        this.cause = cause;
    }

    /**
     * Answers at once (what {@link EslSimulator#registerUser(String)} uses).
     *
     * @return the behaviour
     */
    public static EndpointBehavior answer() {
        return answerAfter(Duration.ZERO);
    }

    /**
     * Rings (180), then answers after {@code delay}.
     *
     * @param delay ring time
     * @return the behaviour
     */
    public static EndpointBehavior answerAfter(Duration delay) {
        return new EndpointBehavior(NativeSimulator.Behavior.ANSWER_AFTER, nonNegative(delay), null);
    }

    /**
     * Rings (180) and never answers: the caller's no-answer timeout decides.
     *
     * @return the behaviour
     */
    public static EndpointBehavior neverAnswer() {
        return new EndpointBehavior(NativeSimulator.Behavior.NEVER_ANSWER, Duration.ZERO, null);
    }

    /**
     * Sends early media (183) and never answers.
     *
     * @return the behaviour
     */
    public static EndpointBehavior earlyMediaNeverAnswer() {
        return new EndpointBehavior(NativeSimulator.Behavior.EARLY_MEDIA_NEVER_ANSWER, Duration.ZERO, null);
    }

    /**
     * Sends early media (183), then answers after {@code delay}.
     *
     * @param delay time from early media to answer
     * @return the behaviour
     */
    public static EndpointBehavior earlyMediaThenAnswer(Duration delay) {
        return new EndpointBehavior(NativeSimulator.Behavior.EARLY_MEDIA_THEN_ANSWER, nonNegative(delay), null);
    }

    /**
     * Rejects with {@code USER_BUSY}.
     *
     * @return the behaviour
     */
    public static EndpointBehavior busy() {
        return new EndpointBehavior(NativeSimulator.Behavior.BUSY, Duration.ZERO, null);
    }

    /**
     * Rejects with a cause, e.g. {@link HangupCause#CALL_REJECTED}.
     *
     * @param cause the cause the caller sees
     * @return the behaviour
     */
    public static EndpointBehavior reject(HangupCause cause) {
        Objects.requireNonNull(cause, "cause");
        if (cause == HangupCause.UNKNOWN) {
            throw new IllegalArgumentException("reject needs a real cause, not UNKNOWN");
        }
        return new EndpointBehavior(NativeSimulator.Behavior.REJECT, Duration.ZERO, cause);
    }

    private static Duration nonNegative(Duration delay) {
        Objects.requireNonNull(delay, "delay");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("negative delay: " + delay);
        }
        return delay;
    }

    @Override
    public String toString() {
        return kind + (delay.isZero() ? "" : " after " + delay) + (cause == null ? "" : " " + cause);
    }
}
