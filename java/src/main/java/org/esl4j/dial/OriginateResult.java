package org.esl4j.dial;

import java.util.Locale;
import java.util.Objects;

/**
 * The outcome of an inbound {@code originate}, read from the {@code api} reply or the {@code
 * BACKGROUND_JOB} body of a {@code bgapi}: {@code +OK <uuid>} or {@code -ERR <CAUSE>}.
 *
 * <pre>{@code
 * OriginateResult result = OriginateResult.fromBackgroundJob(job);
 * if (result.succeeded()) {
 *     result.channelUuid();                // the originated channel, parked or running its app
 * } else if (result.cause().isNoAnswer()) {
 *     // e.g. "-ERR NO_ANSWER" after the 30 s no-answer timeout
 * }
 * }</pre>
 *
 * <p>For the callback pattern the job only covers the first leg: combine it with the second
 * leg's {@link BridgeResult} through {@link #withBridge(BridgeResult)}, after which {@link
 * #failedLeg()} says which leg failed.
 *
 * <p>Note that with early media allowed ({@link EarlyMedia#ACCEPT}) FreeSWITCH reports {@code
 * +OK} for a leg that only sent early media; with the default {@link EarlyMedia#IGNORE}, {@code
 * +OK} means answered.
 */
public final class OriginateResult {
    private final boolean succeeded;
    private final String channelUuid;
    private final HangupCause cause;
    private final String reply;
    private final CallLeg failedLeg;
    private final BridgeResult bridge;
    private final boolean watchdogExpired;

    private OriginateResult(boolean succeeded, String channelUuid, HangupCause cause, String reply,
            CallLeg failedLeg, BridgeResult bridge, boolean watchdogExpired) {
        this.succeeded = succeeded;
        this.channelUuid = channelUuid;
        this.cause = cause;
        this.reply = reply;
        this.failedLeg = failedLeg;
        this.bridge = bridge;
        this.watchdogExpired = watchdogExpired;
    }

    /**
     * Parses the {@code originate} API output: {@code +OK <uuid>}, {@code -ERR <CAUSE>}, or
     * anything else (such as {@code -USAGE: ...}), which counts as a failure with cause {@link
     * HangupCause#UNKNOWN}.
     *
     * @param body the api/response or BACKGROUND_JOB body
     * @return the outcome
     */
    public static OriginateResult fromApiResponse(String body) {
        Objects.requireNonNull(body, "body");
        String reply = body.trim();
        if (reply.startsWith("+OK")) {
            String uuid = reply.substring(3).trim();
            return new OriginateResult(true, uuid.isEmpty() ? null : uuid, null, reply, null, null, false);
        }
        HangupCause cause = HangupCause.UNKNOWN;
        if (reply.startsWith("-ERR")) {
            String rest = reply.substring(4).trim();
            int space = rest.indexOf(' ');
            String word = space < 0 ? rest : rest.substring(0, space);
            // Only an upper-case word is a cause; "-ERR no reply" is not.
            if (!word.isEmpty() && word.equals(word.toUpperCase(Locale.ROOT))) {
                cause = HangupCause.fromName(word);
            }
        }
        return new OriginateResult(false, null, cause, reply, CallLeg.A, null, false);
    }

    /**
     * Reads the outcome from a {@code BACKGROUND_JOB} event's body.
     *
     * @param job the event
     * @return the outcome
     * @throws IllegalArgumentException when the event is not a BACKGROUND_JOB
     */
    public static OriginateResult fromBackgroundJob(OutcomeEvent job) {
        Objects.requireNonNull(job, "job");
        if (!"BACKGROUND_JOB".equals(job.eventName())) {
            throw new IllegalArgumentException("not a BACKGROUND_JOB: " + job);
        }
        return fromApiResponse(job.body());
    }

    /**
     * The outcome when the client's watchdog ended an attempt FreeSWITCH overran.
     *
     * @param uuid the UUID the attempt's channel would have had
     * @return a failed result with cause {@link HangupCause#ALLOTTED_TIMEOUT}
     */
    public static OriginateResult watchdogExpired(String uuid) {
        return new OriginateResult(false, uuid, HangupCause.ALLOTTED_TIMEOUT,
                "watchdog: FreeSWITCH overran the no-answer timeout", CallLeg.A, null, true);
    }

    /**
     * Adds the second leg's outcome of a callback ({@code &bridge(...)}). When the first leg
     * succeeded but the bridge did not, the result becomes a failure of leg {@link CallLeg#B}
     * with the bridge's cause, or of leg {@link CallLeg#A} with its own hangup cause when the
     * first leg ended before the second was dialled.
     *
     * @param second the bridge outcome from the first leg's CHANNEL_EXECUTE_COMPLETE
     * @return the combined outcome
     */
    public OriginateResult withBridge(BridgeResult second) {
        Objects.requireNonNull(second, "second");
        if (!succeeded) {
            return this;
        }
        boolean bothUp = second.status() == BridgeResult.Status.ANSWERED
                || second.status() == BridgeResult.Status.EARLY_MEDIA;
        if (bothUp) {
            return new OriginateResult(true, channelUuid, null, reply, null, second, false);
        }
        boolean firstLegEndedFirst = second.status() == BridgeResult.Status.FAILED && !second.dialled();
        return new OriginateResult(false, channelUuid, second.cause(), reply, firstLegEndedFirst ? CallLeg.A : CallLeg.B,
                second, second.status() == BridgeResult.Status.WATCHDOG_EXPIRED);
    }

    /**
     * Whether FreeSWITCH reported success ({@code +OK}) and, for a callback, the second leg too.
     *
     * @return true on success
     */
    public boolean succeeded() {
        return succeeded;
    }

    /**
     * The originated channel's UUID (from {@code +OK <uuid>}, or the requested UUID after a
     * watchdog expiry or a failed second leg).
     *
     * @return the UUID, or null
     */
    public String channelUuid() {
        return channelUuid;
    }

    /**
     * Why the attempt failed.
     *
     * @return the cause, or null on success
     */
    public HangupCause cause() {
        return cause;
    }

    /**
     * Which leg failed.
     *
     * @return {@link CallLeg#A} or {@link CallLeg#B}, or null on success
     */
    public CallLeg failedLeg() {
        return failedLeg;
    }

    /**
     * The second leg's outcome of a callback.
     *
     * @return the bridge outcome, or null when none was added
     */
    public BridgeResult bridge() {
        return bridge;
    }

    /**
     * Whether the client's watchdog ended the attempt.
     *
     * @return true when FreeSWITCH overran the timeout
     */
    public boolean watchdogExpired() {
        return watchdogExpired;
    }

    /**
     * FreeSWITCH's reply line, e.g. {@code -ERR NO_ANSWER}.
     *
     * @return the reply, trimmed
     */
    public String reply() {
        return reply;
    }

    @Override
    public String toString() {
        return "OriginateResult{" + (succeeded ? "succeeded " + channelUuid : "failed " + failedLeg + " " + cause)
                + (watchdogExpired ? " (watchdog)" : "") + ", reply=" + reply + "}";
    }
}
