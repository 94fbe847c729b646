package org.esl4j.dial;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The outcome of a {@code bridge}, read from the controlled channel's {@code
 * CHANNEL_EXECUTE_COMPLETE} for that {@code bridge} (its {@code Application-Response} is always
 * {@code _none_}, so the outcome is in the channel variables it carries):
 * {@code variable_DIALSTATUS}, {@code variable_originate_disposition}, {@code
 * variable_originate_failed_cause}, {@code variable_originate_causes} and, after a bridge that
 * really happened, {@code variable_last_bridge_hangup_cause}.
 *
 * <p>After a bridge with a 20 s no-answer timeout:
 *
 * <pre>{@code
 * BridgeResult result = BridgeResult.fromExecuteComplete(event);
 * if (!result.isAnswered()) {
 *     result.cause();            // NO_ANSWER (originate_timeout) or ALLOTTED_TIMEOUT (leg_timeout)
 *     result.dialStatus();       // "NOANSWER" or "ALLOTTED_TIMEOUT"
 *     result.callerChannelUp();  // true with BridgeRequest's default continue_on_fail=true
 * }
 * }</pre>
 */
public final class BridgeResult {
    /** How the bridge attempt ended. */
    public enum Status {
        /** The far end answered and the bridge ran (the event comes when it has ended). */
        ANSWERED,
        /** The bridge ran in early media without an answer ({@code DIALSTATUS=EARLY}). */
        EARLY_MEDIA,
        /** No leg answered: see {@link BridgeResult#cause()}. */
        FAILED,
        /** The client's watchdog gave up because FreeSWITCH overran the timeout. */
        WATCHDOG_EXPIRED
    }

    private final Status status;
    private final HangupCause cause;
    private final String dialStatus;
    private final String disposition;
    private final Map<String, HangupCause> legCauses;
    private final HangupCause peerHangupCause;
    private final String peerUuid;
    private final boolean callerChannelUp;
    /** False when the channel ended before FreeSWITCH dialled anything (no outcome variables). */
    private final boolean dialled;

    private BridgeResult(Status status, HangupCause cause, String dialStatus, String disposition,
            Map<String, HangupCause> legCauses, HangupCause peerHangupCause, String peerUuid, boolean callerChannelUp) {
        this(status, cause, dialStatus, disposition, legCauses, peerHangupCause, peerUuid, callerChannelUp, true);
    }

    private BridgeResult(Status status, HangupCause cause, String dialStatus, String disposition,
            Map<String, HangupCause> legCauses, HangupCause peerHangupCause, String peerUuid, boolean callerChannelUp,
            boolean dialled) {
        this.status = status;
        this.cause = cause;
        this.dialStatus = dialStatus;
        this.disposition = disposition;
        this.legCauses = legCauses;
        this.peerHangupCause = peerHangupCause;
        this.peerUuid = peerUuid;
        this.callerChannelUp = callerChannelUp;
        this.dialled = dialled;
    }

    /**
     * Reads the outcome from the {@code CHANNEL_EXECUTE_COMPLETE} of {@code bridge} (or from the
     * controlled channel's {@code CHANNEL_HANGUP_COMPLETE}, which carries the same variables).
     *
     * <p>Such an event without any outcome variable means nothing was dialled: the channel
     * ended first (e.g. the caller hung up before the bridge ran) or the bridge had nothing to
     * dial; the result is then {@link Status#FAILED} with the channel's own hangup cause.
     *
     * @param event the event
     * @return the outcome
     * @throws IllegalArgumentException when the event is neither of those two and carries no
     *     bridge outcome
     */
    public static BridgeResult fromExecuteComplete(OutcomeEvent event) {
        Objects.requireNonNull(event, "event");
        String dialStatus = event.variable("DIALSTATUS");
        String disposition = event.variable("originate_disposition");
        String failedCause = event.variable("originate_failed_cause");
        if (dialStatus == null && disposition == null && failedCause == null) {
            String name = event.eventName();
            if (!"CHANNEL_EXECUTE_COMPLETE".equals(name) && !"CHANNEL_HANGUP_COMPLETE".equals(name)) {
                throw new IllegalArgumentException("event carries no bridge outcome: " + event);
            }
            HangupCause own = event.hangupCause();
            return new BridgeResult(Status.FAILED, own == null ? HangupCause.UNKNOWN : own, null, null,
                    Collections.<String, HangupCause>emptyMap(), null, null,
                    own == null && !"hangup".equalsIgnoreCase(event.answerState()), false);
        }
        Map<String, HangupCause> legCauses = legCauses(event.variableValues("originate_causes"));
        HangupCause peerCause = HangupCause.fromName(event.variable("bridge_hangup_cause"));
        String peerUuid = event.variable("last_bridge_to");
        boolean channelUp = !"hangup".equalsIgnoreCase(event.answerState()) && event.hangupCause() == null;
        String upperStatus = dialStatus == null ? "" : dialStatus.toUpperCase(Locale.ROOT);
        if (upperStatus.equals("ANSWER")) {
            if (peerCause == null) {
                peerCause = HangupCause.fromName(event.variable("last_bridge_hangup_cause"));
            }
            return new BridgeResult(Status.ANSWERED, null, dialStatus, disposition, legCauses, peerCause, peerUuid, channelUp);
        }
        if (upperStatus.equals("EARLY")) {
            return new BridgeResult(Status.EARLY_MEDIA, null, dialStatus, disposition, legCauses, peerCause, peerUuid, channelUp);
        }
        HangupCause cause = firstKnown(failedCause, disposition, causeOfDialStatus(upperStatus),
                event.variable("last_bridge_hangup_cause"));
        return new BridgeResult(Status.FAILED, cause, dialStatus, disposition, legCauses, null, null, channelUp);
    }

    /**
     * The outcome when the client's watchdog ended an attempt FreeSWITCH overran.
     *
     * @return a result with status {@link Status#WATCHDOG_EXPIRED} and cause {@link
     *     HangupCause#ALLOTTED_TIMEOUT}
     */
    public static BridgeResult watchdogExpired() {
        return new BridgeResult(Status.WATCHDOG_EXPIRED, HangupCause.ALLOTTED_TIMEOUT, null, null,
                Collections.<String, HangupCause>emptyMap(), null, null, true);
    }

    /** {@code DIALSTATUS} words that are not cause names. */
    private static String causeOfDialStatus(String dialStatus) {
        switch (dialStatus) {
            case "NOANSWER":
                return "NO_ANSWER";
            case "BUSY":
                return "USER_BUSY";
            case "CANCEL":
                return "ORIGINATOR_CANCEL";
            case "INVALIDARGS":
                return "INVALID_NUMBER_FORMAT";
            case "DONTCALL":
                return "CALL_REJECTED";
            case "":
                return null;
            default:
                return dialStatus;
        }
    }

    private static HangupCause firstKnown(String... names) {
        for (String name : names) {
            HangupCause cause = HangupCause.fromName(name);
            if (cause != null && cause != HangupCause.UNKNOWN && cause != HangupCause.NONE
                    && cause != HangupCause.SUCCESS) {
                return cause;
            }
        }
        return HangupCause.UNKNOWN;
    }

    /** Parses {@code originate_causes} entries, {@code <leg-uuid>;<CAUSE>}. */
    static Map<String, HangupCause> legCauses(List<String> entries) {
        Map<String, HangupCause> causes = new LinkedHashMap<>();
        for (String entry : entries) {
            String[] items = entry.startsWith("ARRAY::") ? entry.substring(7).split("\\|:") : new String[] {entry};
            for (String item : items) {
                int semicolon = item.indexOf(';');
                if (semicolon > 0) {
                    causes.put(item.substring(0, semicolon), HangupCause.fromName(item.substring(semicolon + 1)));
                }
            }
        }
        return Collections.unmodifiableMap(causes);
    }

    /**
     * How the attempt ended.
     *
     * @return the status
     */
    public Status status() {
        return status;
    }

    /**
     * Whether the far end answered.
     *
     * @return true for {@link Status#ANSWERED}
     */
    public boolean isAnswered() {
        return status == Status.ANSWERED;
    }

    /**
     * Why no leg answered.
     *
     * @return the cause ({@link HangupCause#UNKNOWN} when FreeSWITCH named none we know), or null
     *     when the bridge was answered or ran in early media
     */
    public HangupCause cause() {
        return cause;
    }

    /**
     * {@code DIALSTATUS} as FreeSWITCH set it: {@code ANSWER}, {@code EARLY}, {@code NOANSWER},
     * {@code BUSY}, {@code CANCEL}, ... or a cause name such as {@code ALLOTTED_TIMEOUT}.
     *
     * @return the dial status, or null
     */
    public String dialStatus() {
        return dialStatus;
    }

    /**
     * {@code originate_disposition} as FreeSWITCH set it (a cause name on failure).
     *
     * @return the disposition, or null
     */
    public String disposition() {
        return disposition;
    }

    /**
     * The cause of each dialled leg ({@code originate_causes}), by leg UUID.
     *
     * @return an unmodifiable, ordered map
     */
    public Map<String, HangupCause> legCauses() {
        return legCauses;
    }

    /**
     * After an answered bridge, how the other leg hung up ({@code bridge_hangup_cause}, else
     * {@code last_bridge_hangup_cause}).
     *
     * @return the cause, or null
     */
    public HangupCause peerHangupCause() {
        return peerHangupCause;
    }

    /**
     * After an answered bridge, the UUID of the leg it was bridged to ({@code last_bridge_to}).
     *
     * @return the UUID, or null
     */
    public String peerUuid() {
        return peerUuid;
    }

    /**
     * Whether the controlled channel was still up when the bridge returned, so the application
     * can go on (play a message, hang up with its own cause).
     *
     * @return false when the event shows the channel hung up
     */
    public boolean callerChannelUp() {
        return callerChannelUp;
    }

    /**
     * Whether FreeSWITCH dialled at all; false when the controlled channel ended (or the bridge
     * had nothing to dial) before any leg was tried.
     *
     * @return true when the outcome variables were there
     */
    public boolean dialled() {
        return dialled;
    }

    @Override
    public String toString() {
        return "BridgeResult{" + status + (cause == null ? "" : " " + cause) + ", DIALSTATUS=" + dialStatus
                + ", disposition=" + disposition + ", callerChannelUp=" + callerChannelUp + "}";
    }
}
