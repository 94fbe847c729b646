package org.esl4j.dial;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A {@code bridge} from a channel you control (an outbound-socket session, or a parked channel
 * via {@code sendmsg <uuid>}) to a dial string, with typed timeouts, so that a destination that
 * does not answer ends the bridge and leaves the controlled channel up for the application to
 * decide what happens next.
 *
 * <p>The outbound no-answer timeout, 20 seconds:
 *
 * <pre>{@code
 * BridgeRequest bridge = BridgeRequest.to(Endpoint.user("2000"))
 *         .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20)))
 *         .build();
 * bridge.callerChannelVariables();  // {continue_on_fail=true}: "set" these on the controlled channel first
 * bridge.applicationArgument();     // {originate_timeout=20,ignore_early_media=true}[origination_uuid=<uuid>]user/2000
 * // CHANNEL_EXECUTE_COMPLETE of bridge after about 20 s: variable_DIALSTATUS=NOANSWER,
 * // variable_originate_disposition=NO_ANSWER, and the controlled channel is still up.
 * }</pre>
 *
 * <p>Why these variables: FreeSWITCH hangs up the calling channel after a failed bridge unless the
 * cause is NO_ANSWER, NO_USER_RESPONSE or ORIGINATOR_CANCEL, or {@code continue_on_fail} is set on
 * that channel. A per-leg timeout or {@code bridge_answer_timeout} fails with ALLOTTED_TIMEOUT, and
 * a busy destination with USER_BUSY, both of which would hang the controlled channel up; so by
 * default ({@link Builder#keepChannelOnFailure(boolean)}) the request sets {@code
 * continue_on_fail=true} on the controlled channel. The no-answer timeout travels as {@code
 * originate_timeout} in the dial string, which a bridge reads on every FreeSWITCH version.
 */
public final class BridgeRequest {
    private final DialString renderedDial;
    private final Timeouts timeouts;
    private final boolean keepChannelOnFailure;

    private BridgeRequest(Builder builder) {
        this.timeouts = builder.timeouts;
        this.keepChannelOnFailure = builder.keepChannelOnFailure;
        this.renderedDial = timeouts.applyTo(OriginateRequest.withLegUuids(builder.dial));
    }

    /**
     * Starts a bridge to one endpoint.
     *
     * @param endpoint where to call
     * @return a builder
     */
    public static Builder to(Endpoint endpoint) {
        return to(DialString.of(endpoint));
    }

    /**
     * Starts a bridge to a full dial string.
     *
     * @param dial the dial string
     * @return a builder
     */
    public static Builder to(DialString dial) {
        return new Builder(Objects.requireNonNull(dial, "dial"));
    }

    /**
     * The {@code bridge} application's argument ({@code execute-app-arg} of the {@code sendmsg}).
     *
     * @return the dial string text; never contains CR or LF
     */
    public String applicationArgument() {
        return renderedDial.render();
    }

    /**
     * Variables to {@code set} on the controlled (calling) channel before the bridge: {@code
     * continue_on_fail}, always explicit, because an earlier bridge may have left it set.
     *
     * @return an unmodifiable, ordered map
     */
    public Map<String, String> callerChannelVariables() {
        Map<String, String> variables = new LinkedHashMap<>();
        variables.put("continue_on_fail", Boolean.toString(keepChannelOnFailure));
        return Collections.unmodifiableMap(variables);
    }

    /**
     * The dial string as sent, with timeouts and UUIDs applied.
     *
     * @return the rendered dial string
     */
    public DialString dialString() {
        return renderedDial;
    }

    /**
     * The UUIDs the dialled legs will have, in dial order.
     *
     * @return an unmodifiable list
     */
    public List<String> legUuids() {
        return renderedDial.legUuids();
    }

    /**
     * The timeouts requested.
     *
     * @return the timeouts
     */
    public Timeouts timeouts() {
        return timeouts;
    }

    /**
     * Whether the controlled channel is kept up whatever the failure cause.
     *
     * @return true when {@code continue_on_fail=true} is set first
     */
    public boolean keepsChannelOnFailure() {
        return keepChannelOnFailure;
    }

    /**
     * When the client should consider the ring phase overrun, see {@link
     * Timeouts#watchdogDeadline(DialString, Duration)}. An answered bridge lasts as long as the
     * call, so apply the deadline only until the bridge is answered.
     *
     * @param margin extra time allowed for signalling and event delivery
     * @return the deadline, measured from sending the bridge
     */
    public Duration watchdogDeadline(Duration margin) {
        return timeouts.watchdogDeadline(renderedDial, margin);
    }

    @Override
    public String toString() {
        return "bridge " + applicationArgument();
    }

    /** Collects the parts of a {@link BridgeRequest}. Not thread-safe. */
    public static final class Builder {
        private final DialString dial;
        private Timeouts timeouts = Timeouts.defaults();
        private boolean keepChannelOnFailure = true;

        private Builder(DialString dial) {
            this.dial = dial;
        }

        /**
         * The ring timeouts (default: FreeSWITCH's 60 s, early media ignored).
         *
         * @param value the timeouts
         * @return this builder
         */
        public Builder timeouts(Timeouts value) {
            timeouts = Objects.requireNonNull(value, "timeouts");
            return this;
        }

        /**
         * Whether the controlled channel stays up after any failed bridge (default true, via
         * {@code continue_on_fail=true}); with false only NO_ANSWER, NO_USER_RESPONSE and
         * ORIGINATOR_CANCEL keep it up.
         *
         * @param enabled true to keep the channel
         * @return this builder
         */
        public Builder keepChannelOnFailure(boolean enabled) {
            keepChannelOnFailure = enabled;
            return this;
        }

        /**
         * Makes the request, choosing a UUID for every leg without one.
         *
         * @return the immutable request
         */
        public BridgeRequest build() {
            return new BridgeRequest(this);
        }
    }
}
