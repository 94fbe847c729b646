package org.esl4j.dial;

import java.time.Duration;
import java.util.Objects;

/** FreeSWITCH reads every ring timeout as a whole number of seconds; this is how we round. */
final class WholeSeconds {
    private WholeSeconds() {}

    /**
     * Rounds up to whole seconds, so a timeout is never shorter than asked; at least 1, because
     * FreeSWITCH treats 0 as "not set".
     *
     * @throws IllegalArgumentException for zero or negative durations
     */
    static long roundUp(Duration duration, String what) {
        Objects.requireNonNull(duration, what);
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException(what + " must be positive: " + duration);
        }
        long seconds = duration.getSeconds();
        return duration.getNano() > 0 ? seconds + 1 : seconds;
    }
}
