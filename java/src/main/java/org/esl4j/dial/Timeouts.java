package org.esl4j.dial;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The typed ring timeouts of one originate or bridge. {@link OriginateRequest} and {@link
 * BridgeRequest} turn them into the FreeSWITCH variables that work on their path:
 *
 * <table>
 *   <caption>What each setting becomes</caption>
 *   <tr><th>setting</th><th>variable</th><th>cause when it fires</th></tr>
 *   <tr><td>{@link Builder#noAnswer(Duration)}</td><td>{@code {originate_timeout=N}}</td><td>NO_ANSWER</td></tr>
 *   <tr><td>{@link Builder#perLeg(Duration)}</td><td>{@code [leg_timeout=N]} on each leg that has none</td><td>ALLOTTED_TIMEOUT</td></tr>
 *   <tr><td>{@link Builder#progress(Duration)}</td><td>{@code {progress_timeout=N}}</td><td>PROGRESS_TIMEOUT</td></tr>
 *   <tr><td>{@link EarlyMedia#IGNORE} (default)</td><td>{@code {ignore_early_media=true}}</td><td>-</td></tr>
 *   <tr><td>{@link Builder#allowEarlyMedia(Duration)}</td><td>{@code {bridge_answer_timeout=N}}</td><td>ALLOTTED_TIMEOUT</td></tr>
 *   <tr><td>{@link Builder#continueOnTimeout(boolean)}</td><td>{@code {originate_continue_on_timeout=true}}</td><td>-</td></tr>
 * </table>
 *
 * <p>{@code originate_timeout} is used rather than {@code call_timeout} because FreeSWITCH reads
 * {@code originate_timeout} from the dial string on every path, whereas {@code call_timeout} is
 * read only from a caller channel (it does nothing for an inbound {@code originate}) and a {@code
 * set originate_timeout} on the channel is ignored.
 *
 * <p><b>Whole seconds.</b> FreeSWITCH counts these timeouts in whole wall-clock seconds, so every
 * duration is rounded <em>up</em> to whole seconds (at least 1). It then fires {@code
 * originate_timeout=N} after N-1 to N seconds ({@code elapsed >= N}) and {@code leg_timeout=N}
 * after N to N+1 seconds ({@code elapsed > N}).
 *
 * <p><b>Whole attempt.</b> {@link Builder#noAnswer(Duration)} is meant for the whole attempt, but
 * FreeSWITCH restarts {@code originate_timeout} for each {@code |} failover group (and overruns it
 * with several per-leg timeouts, signalwire/freeswitch#3068). {@link #watchdogDeadline(DialString,
 * Duration)} gives the deadline after which the client should end the attempt itself.
 *
 * <pre>{@code
 * Timeouts thirtySeconds = Timeouts.builder().noAnswer(Duration.ofSeconds(30)).build();
 * }</pre>
 */
public final class Timeouts {
    /** FreeSWITCH's ring limit when nothing else is set ({@code SWITCH_DEFAULT_TIMEOUT}). */
    static final long DEFAULT_RING_SECONDS = 60;

    private final long noAnswerSeconds;
    private final long perLegSeconds;
    private final long progressSeconds;
    private final EarlyMedia earlyMedia;
    private final long earlyMediaBoundSeconds;
    private final boolean continueOnTimeout;

    private Timeouts(Builder builder) {
        this.noAnswerSeconds = builder.noAnswerSeconds;
        this.perLegSeconds = builder.perLegSeconds;
        this.progressSeconds = builder.progressSeconds;
        this.earlyMedia = builder.earlyMedia;
        this.earlyMediaBoundSeconds = builder.earlyMediaBoundSeconds;
        this.continueOnTimeout = builder.continueOnTimeout;
    }

    /**
     * Starts with nothing set and early media ignored.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Only a no-answer timeout for the whole attempt, early media ignored.
     *
     * @param timeout rounded up to whole seconds
     * @return the timeouts
     */
    public static Timeouts noAnswer(Duration timeout) {
        return builder().noAnswer(timeout).build();
    }

    /**
     * FreeSWITCH's defaults (60 s ring limit) except that early media is ignored.
     *
     * @return the timeouts
     */
    public static Timeouts defaults() {
        return builder().build();
    }

    /**
     * The whole-attempt no-answer timeout.
     *
     * @return seconds, 0 when not set
     */
    public long noAnswerSeconds() {
        return noAnswerSeconds;
    }

    /**
     * The per-leg timeout given to legs without their own.
     *
     * @return seconds, 0 when not set
     */
    public long perLegSeconds() {
        return perLegSeconds;
    }

    /**
     * The progress (no ring) timeout.
     *
     * @return seconds, 0 when not set
     */
    public long progressSeconds() {
        return progressSeconds;
    }

    /**
     * The early-media handling.
     *
     * @return the policy
     */
    public EarlyMedia earlyMedia() {
        return earlyMedia;
    }

    /**
     * The bound on early media for {@link EarlyMedia#ALLOW_BOUNDED}.
     *
     * @return seconds, 0 for the other policies
     */
    public long earlyMediaBoundSeconds() {
        return earlyMediaBoundSeconds;
    }

    /**
     * Whether {@code |} failover continues after a whole-group timeout.
     *
     * @return true when {@code originate_continue_on_timeout=true} is sent
     */
    public boolean continueOnTimeout() {
        return continueOnTimeout;
    }

    /** Adds these timeouts to a dial string: global variables, and leg timeouts where missing. */
    DialString applyTo(DialString dial) {
        DialString.Builder builder = dial.toBuilder();
        if (noAnswerSeconds > 0) {
            builder.variable("originate_timeout", Long.toString(noAnswerSeconds));
        }
        if (progressSeconds > 0) {
            builder.variable("progress_timeout", Long.toString(progressSeconds));
        }
        if (earlyMedia == EarlyMedia.IGNORE) {
            builder.variable("ignore_early_media", "true");
        } else if (earlyMedia == EarlyMedia.ALLOW_BOUNDED) {
            builder.variable("bridge_answer_timeout", Long.toString(earlyMediaBoundSeconds));
        }
        if (continueOnTimeout) {
            builder.variable("originate_continue_on_timeout", "true");
        }
        if (perLegSeconds > 0) {
            final Duration perLeg = Duration.ofSeconds(perLegSeconds);
            builder.mapLegs(leg -> dial.effectiveLegVariable(leg, "leg_timeout") != null ? leg : leg.timeout(perLeg));
        }
        return builder.build();
    }

    /**
     * How long the attempt may take before the client should consider FreeSWITCH to have overrun
     * it and end it itself: the whole-attempt timeout (rounded, plus the one second FreeSWITCH's
     * whole-second clock may add) plus {@code margin}. The whole-attempt timeout is this object's,
     * else an {@code originate_timeout} the dial string itself sets in {@code {}} or {@code <>}
     * (FreeSWITCH honours it). Without either it is the sum over the {@code |} groups of each
     * group's limit (its longest leg timeout, else 60 s).
     *
     * @param dial the dial string the attempt uses, with its own leg timeouts
     * @param margin extra time allowed for signalling and event delivery
     * @return the deadline, measured from sending the command
     */
    public Duration watchdogDeadline(DialString dial, Duration margin) {
        Objects.requireNonNull(margin, "margin");
        long seconds;
        long wholeAttempt = noAnswerSeconds > 0 ? noAnswerSeconds : dial.globalSeconds("originate_timeout");
        if (wholeAttempt > 0) {
            seconds = wholeAttempt + 1;
        } else {
            seconds = 0;
            for (List<Leg> group : dial.groups()) {
                seconds += groupLimitSeconds(dial, group);
            }
        }
        if (progressSeconds > 0 && wholeAttempt == 0 && dial.groups().size() == 1) {
            seconds = Math.max(seconds, progressSeconds + 1);
        }
        if (earlyMedia == EarlyMedia.ALLOW_BOUNDED) {
            seconds += earlyMediaBoundSeconds + 1;
        }
        return Duration.ofSeconds(seconds).plus(margin);
    }

    private long groupLimitSeconds(DialString dial, List<Leg> group) {
        long longestLeg = 0;
        for (Leg leg : group) {
            // A {leg_timeout} overrides every [leg_timeout] (esl-protocol.md §3.3).
            String legTimeout = dial.effectiveLegVariable(leg, "leg_timeout");
            long legSeconds = legTimeout != null ? Long.parseLong(legTimeout.trim()) : perLegSeconds;
            if (legSeconds == 0) {
                return DEFAULT_RING_SECONDS;
            }
            longestLeg = Math.max(longestLeg, legSeconds + 1);
        }
        return longestLeg;
    }

    @Override
    public String toString() {
        return "Timeouts{noAnswer=" + noAnswerSeconds + "s, perLeg=" + perLegSeconds + "s, progress="
                + progressSeconds + "s, earlyMedia=" + earlyMedia
                + (earlyMedia == EarlyMedia.ALLOW_BOUNDED ? " " + earlyMediaBoundSeconds + "s" : "")
                + ", continueOnTimeout=" + continueOnTimeout + "}";
    }

    /** Collects the settings of {@link Timeouts}. Not thread-safe. */
    public static final class Builder {
        private long noAnswerSeconds;
        private long perLegSeconds;
        private long progressSeconds;
        private EarlyMedia earlyMedia = EarlyMedia.IGNORE;
        private long earlyMediaBoundSeconds;
        private boolean continueOnTimeout;

        private Builder() {}

        /**
         * No-answer timeout for the whole attempt ({@code originate_timeout}, cause NO_ANSWER).
         *
         * @param timeout rounded up to whole seconds
         * @return this builder
         */
        public Builder noAnswer(Duration timeout) {
            noAnswerSeconds = WholeSeconds.roundUp(timeout, "no-answer timeout");
            return this;
        }

        /**
         * No-answer timeout for each leg that has none of its own ({@code leg_timeout}, cause
         * ALLOTTED_TIMEOUT). Failover to the next {@code |} group continues after it.
         *
         * @param timeout rounded up to whole seconds
         * @return this builder
         */
        public Builder perLeg(Duration timeout) {
            perLegSeconds = WholeSeconds.roundUp(timeout, "per-leg timeout");
            return this;
        }

        /**
         * Progress timeout: fail with PROGRESS_TIMEOUT when no leg rings or sends early media in
         * time ({@code progress_timeout}).
         *
         * @param timeout rounded up to whole seconds
         * @return this builder
         */
        public Builder progress(Duration timeout) {
            progressSeconds = WholeSeconds.roundUp(timeout, "progress timeout");
            return this;
        }

        /**
         * Ignore early media: only a real answer ends the wait (the default).
         *
         * @return this builder
         */
        public Builder ignoreEarlyMedia() {
            earlyMedia = EarlyMedia.IGNORE;
            earlyMediaBoundSeconds = 0;
            return this;
        }

        /**
         * FreeSWITCH's default behaviour: early media ends the wait successfully.
         *
         * @return this builder
         */
        public Builder acceptEarlyMedia() {
            earlyMedia = EarlyMedia.ACCEPT;
            earlyMediaBoundSeconds = 0;
            return this;
        }

        /**
         * Let early media through, but hang up a leg still unanswered {@code bound} after the
         * (early-media) bridge started ({@code bridge_answer_timeout}, cause ALLOTTED_TIMEOUT).
         * Only a bridge enforces the bound: for an inbound originate it applies to the {@code
         * &bridge(...)} of a callback, not to the first leg.
         *
         * @param bound rounded up to whole seconds
         * @return this builder
         */
        public Builder allowEarlyMedia(Duration bound) {
            earlyMediaBoundSeconds = WholeSeconds.roundUp(bound, "early media bound");
            earlyMedia = EarlyMedia.ALLOW_BOUNDED;
            return this;
        }

        /**
         * Whether {@code |} failover goes on after a group ran out of its whole-group timeout
         * (FreeSWITCH stops the chain by default).
         *
         * @param enabled true to continue
         * @return this builder
         */
        public Builder continueOnTimeout(boolean enabled) {
            continueOnTimeout = enabled;
            return this;
        }

        /**
         * Makes the timeouts.
         *
         * @return the immutable timeouts
         */
        public Timeouts build() {
            return new Timeouts(this);
        }
    }
}
