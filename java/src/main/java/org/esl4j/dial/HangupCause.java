package org.esl4j.dial;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Every call hangup cause FreeSWITCH knows ({@code switch_call_cause_t} in switch_types.h), with its
 * numeric code: the Q.850 cause for values below 128, FreeSWITCH's own numbers above that (for
 * example {@link #ALLOTTED_TIMEOUT} = 802).
 *
 * <p>The constant names are exactly the strings FreeSWITCH writes in {@code Hangup-Cause}, in
 * {@code -ERR CAUSE} replies and in {@code originate_disposition}. Parse them with {@link
 * #fromName(String)}, which maps a name this library does not know to {@link #UNKNOWN} instead of
 * failing, so a newer FreeSWITCH never breaks a running application.
 *
 * <p>Which cause a no-answer timeout produces depends on the timer that fired: {@code
 * originate_timeout} and {@code call_timeout} give {@link #NO_ANSWER}, {@code leg_timeout} and
 * {@code bridge_answer_timeout} give {@link #ALLOTTED_TIMEOUT}, {@code progress_timeout} gives
 * {@link #PROGRESS_TIMEOUT}. {@link #isNoAnswer()} groups them:
 *
 * <pre>{@code
 * OriginateResult result = client.originate(request).get(45, TimeUnit.SECONDS);
 * if (!result.isAnswered() && result.cause().isNoAnswer()) {
 *     // nobody picked up within the no-answer timeout
 * }
 * }</pre>
 */
public enum HangupCause {
    /** FreeSWITCH cause NONE, code 0. */
    NONE(0),
    /** FreeSWITCH cause UNALLOCATED_NUMBER, code 1. */
    UNALLOCATED_NUMBER(1),
    /** FreeSWITCH cause NO_ROUTE_TRANSIT_NET, code 2. */
    NO_ROUTE_TRANSIT_NET(2),
    /** FreeSWITCH cause NO_ROUTE_DESTINATION, code 3. */
    NO_ROUTE_DESTINATION(3),
    /** FreeSWITCH cause CHANNEL_UNACCEPTABLE, code 6. */
    CHANNEL_UNACCEPTABLE(6),
    /** FreeSWITCH cause CALL_AWARDED_DELIVERED, code 7. */
    CALL_AWARDED_DELIVERED(7),
    /** FreeSWITCH cause NORMAL_CLEARING, code 16. */
    NORMAL_CLEARING(16),
    /** FreeSWITCH cause USER_BUSY, code 17. */
    USER_BUSY(17),
    /** FreeSWITCH cause NO_USER_RESPONSE, code 18. */
    NO_USER_RESPONSE(18),
    /** FreeSWITCH cause NO_ANSWER, code 19. */
    NO_ANSWER(19),
    /** FreeSWITCH cause SUBSCRIBER_ABSENT, code 20. */
    SUBSCRIBER_ABSENT(20),
    /** FreeSWITCH cause CALL_REJECTED, code 21. */
    CALL_REJECTED(21),
    /** FreeSWITCH cause NUMBER_CHANGED, code 22. */
    NUMBER_CHANGED(22),
    /** FreeSWITCH cause REDIRECTION_TO_NEW_DESTINATION, code 23. */
    REDIRECTION_TO_NEW_DESTINATION(23),
    /** FreeSWITCH cause EXCHANGE_ROUTING_ERROR, code 25. */
    EXCHANGE_ROUTING_ERROR(25),
    /** FreeSWITCH cause DESTINATION_OUT_OF_ORDER, code 27. */
    DESTINATION_OUT_OF_ORDER(27),
    /** FreeSWITCH cause INVALID_NUMBER_FORMAT, code 28. */
    INVALID_NUMBER_FORMAT(28),
    /** FreeSWITCH cause FACILITY_REJECTED, code 29. */
    FACILITY_REJECTED(29),
    /** FreeSWITCH cause RESPONSE_TO_STATUS_ENQUIRY, code 30. */
    RESPONSE_TO_STATUS_ENQUIRY(30),
    /** FreeSWITCH cause NORMAL_UNSPECIFIED, code 31. */
    NORMAL_UNSPECIFIED(31),
    /** FreeSWITCH cause NORMAL_CIRCUIT_CONGESTION, code 34. */
    NORMAL_CIRCUIT_CONGESTION(34),
    /** FreeSWITCH cause NETWORK_OUT_OF_ORDER, code 38. */
    NETWORK_OUT_OF_ORDER(38),
    /** FreeSWITCH cause NORMAL_TEMPORARY_FAILURE, code 41. */
    NORMAL_TEMPORARY_FAILURE(41),
    /** FreeSWITCH cause SWITCH_CONGESTION, code 42. */
    SWITCH_CONGESTION(42),
    /** FreeSWITCH cause ACCESS_INFO_DISCARDED, code 43. */
    ACCESS_INFO_DISCARDED(43),
    /** FreeSWITCH cause REQUESTED_CHAN_UNAVAIL, code 44. */
    REQUESTED_CHAN_UNAVAIL(44),
    /** FreeSWITCH cause PRE_EMPTED, code 45. */
    PRE_EMPTED(45),
    /** FreeSWITCH cause FACILITY_NOT_SUBSCRIBED, code 50. */
    FACILITY_NOT_SUBSCRIBED(50),
    /** FreeSWITCH cause OUTGOING_CALL_BARRED, code 52. */
    OUTGOING_CALL_BARRED(52),
    /** FreeSWITCH cause INCOMING_CALL_BARRED, code 54. */
    INCOMING_CALL_BARRED(54),
    /** FreeSWITCH cause BEARERCAPABILITY_NOTAUTH, code 57. */
    BEARERCAPABILITY_NOTAUTH(57),
    /** FreeSWITCH cause BEARERCAPABILITY_NOTAVAIL, code 58. */
    BEARERCAPABILITY_NOTAVAIL(58),
    /** FreeSWITCH cause SERVICE_UNAVAILABLE, code 63. */
    SERVICE_UNAVAILABLE(63),
    /** FreeSWITCH cause BEARERCAPABILITY_NOTIMPL, code 65. */
    BEARERCAPABILITY_NOTIMPL(65),
    /** FreeSWITCH cause CHAN_NOT_IMPLEMENTED, code 66. */
    CHAN_NOT_IMPLEMENTED(66),
    /** FreeSWITCH cause FACILITY_NOT_IMPLEMENTED, code 69. */
    FACILITY_NOT_IMPLEMENTED(69),
    /** FreeSWITCH cause SERVICE_NOT_IMPLEMENTED, code 79. */
    SERVICE_NOT_IMPLEMENTED(79),
    /** FreeSWITCH cause INVALID_CALL_REFERENCE, code 81. */
    INVALID_CALL_REFERENCE(81),
    /** FreeSWITCH cause INCOMPATIBLE_DESTINATION, code 88. */
    INCOMPATIBLE_DESTINATION(88),
    /** FreeSWITCH cause INVALID_MSG_UNSPECIFIED, code 95. */
    INVALID_MSG_UNSPECIFIED(95),
    /** FreeSWITCH cause MANDATORY_IE_MISSING, code 96. */
    MANDATORY_IE_MISSING(96),
    /** FreeSWITCH cause MESSAGE_TYPE_NONEXIST, code 97. */
    MESSAGE_TYPE_NONEXIST(97),
    /** FreeSWITCH cause WRONG_MESSAGE, code 98. */
    WRONG_MESSAGE(98),
    /** FreeSWITCH cause IE_NONEXIST, code 99. */
    IE_NONEXIST(99),
    /** FreeSWITCH cause INVALID_IE_CONTENTS, code 100. */
    INVALID_IE_CONTENTS(100),
    /** FreeSWITCH cause WRONG_CALL_STATE, code 101. */
    WRONG_CALL_STATE(101),
    /** FreeSWITCH cause RECOVERY_ON_TIMER_EXPIRE, code 102. */
    RECOVERY_ON_TIMER_EXPIRE(102),
    /** FreeSWITCH cause MANDATORY_IE_LENGTH_ERROR, code 103. */
    MANDATORY_IE_LENGTH_ERROR(103),
    /** FreeSWITCH cause PROTOCOL_ERROR, code 111. */
    PROTOCOL_ERROR(111),
    /** FreeSWITCH cause INTERWORKING, code 127. */
    INTERWORKING(127),
    /** FreeSWITCH cause SUCCESS, code 142. */
    SUCCESS(142),
    /** FreeSWITCH cause ORIGINATOR_CANCEL, code 487. */
    ORIGINATOR_CANCEL(487),
    /** FreeSWITCH cause CRASH, code 700. */
    CRASH(700),
    /** FreeSWITCH cause SYSTEM_SHUTDOWN, code 701. */
    SYSTEM_SHUTDOWN(701),
    /** FreeSWITCH cause LOSE_RACE, code 702. */
    LOSE_RACE(702),
    /** FreeSWITCH cause MANAGER_REQUEST, code 703. */
    MANAGER_REQUEST(703),
    /** FreeSWITCH cause BLIND_TRANSFER, code 800. */
    BLIND_TRANSFER(800),
    /** FreeSWITCH cause ATTENDED_TRANSFER, code 801. */
    ATTENDED_TRANSFER(801),
    /** FreeSWITCH cause ALLOTTED_TIMEOUT, code 802. */
    ALLOTTED_TIMEOUT(802),
    /** FreeSWITCH cause USER_CHALLENGE, code 803. */
    USER_CHALLENGE(803),
    /** FreeSWITCH cause MEDIA_TIMEOUT, code 804. */
    MEDIA_TIMEOUT(804),
    /** FreeSWITCH cause PICKED_OFF, code 805. */
    PICKED_OFF(805),
    /** FreeSWITCH cause USER_NOT_REGISTERED, code 806. */
    USER_NOT_REGISTERED(806),
    /** FreeSWITCH cause PROGRESS_TIMEOUT, code 807. */
    PROGRESS_TIMEOUT(807),
    /** FreeSWITCH cause INVALID_GATEWAY, code 808. */
    INVALID_GATEWAY(808),
    /** FreeSWITCH cause GATEWAY_DOWN, code 809. */
    GATEWAY_DOWN(809),
    /** FreeSWITCH cause INVALID_URL, code 810. */
    INVALID_URL(810),
    /** FreeSWITCH cause INVALID_PROFILE, code 811. */
    INVALID_PROFILE(811),
    /** FreeSWITCH cause NO_PICKUP, code 812. */
    NO_PICKUP(812),
    /** FreeSWITCH cause SRTP_READ_ERROR, code 813. */
    SRTP_READ_ERROR(813),
    /** FreeSWITCH cause BOWOUT, code 814. */
    BOWOUT(814),
    /** FreeSWITCH cause BUSY_EVERYWHERE, code 815. */
    BUSY_EVERYWHERE(815),
    /** FreeSWITCH cause DECLINE, code 816. */
    DECLINE(816),
    /** FreeSWITCH cause DOES_NOT_EXIST_ANYWHERE, code 817. */
    DOES_NOT_EXIST_ANYWHERE(817),
    /** FreeSWITCH cause NOT_ACCEPTABLE, code 818. */
    NOT_ACCEPTABLE(818),
    /** FreeSWITCH cause UNWANTED, code 819. */
    UNWANTED(819),
    /** FreeSWITCH cause NO_IDENTITY, code 820. */
    NO_IDENTITY(820),
    /** FreeSWITCH cause BAD_IDENTITY_INFO, code 821. */
    BAD_IDENTITY_INFO(821),
    /** FreeSWITCH cause UNSUPPORTED_CERTIFICATE, code 822. */
    UNSUPPORTED_CERTIFICATE(822),
    /** FreeSWITCH cause INVALID_IDENTITY, code 823. */
    INVALID_IDENTITY(823),
    /** FreeSWITCH cause STALE_DATE, code 824. */
    STALE_DATE(824),
    /** FreeSWITCH cause REJECT_ALL, code 825. */
    REJECT_ALL(825),
    /** Not a FreeSWITCH cause: a cause name this library does not know (code -1). */
    UNKNOWN(-1);

    private static final Map<String, HangupCause> BY_NAME = new HashMap<>();

    static {
        for (HangupCause cause : values()) {
            BY_NAME.put(cause.name(), cause);
        }
    }

    private final int code;

    HangupCause(int code) {
        this.code = code;
    }

    /**
     * The numeric cause: the Q.850 value for codes below 128, FreeSWITCH's own value otherwise.
     *
     * @return the code, or -1 for {@link #UNKNOWN}
     */
    public int code() {
        return code;
    }

    /**
     * Whether this cause means "the destination did not answer in time": {@link #NO_ANSWER},
     * {@link #NO_USER_RESPONSE}, {@link #ALLOTTED_TIMEOUT} or {@link #PROGRESS_TIMEOUT}.
     *
     * @return true for the four no-answer causes
     */
    public boolean isNoAnswer() {
        return this == NO_ANSWER
                || this == NO_USER_RESPONSE
                || this == ALLOTTED_TIMEOUT
                || this == PROGRESS_TIMEOUT;
    }

    /**
     * Parses a cause as FreeSWITCH writes it. Surrounding blanks are ignored, case is not
     * significant, and a {@code SWITCH_CAUSE_} prefix is accepted.
     *
     * @param name the cause name, e.g. {@code "NO_ANSWER"}
     * @return the cause; {@link #UNKNOWN} for a name this library does not know; null for null
     */
    public static HangupCause fromName(String name) {
        if (name == null) {
            return null;
        }
        String key = name.trim().toUpperCase(Locale.ROOT);
        if (key.startsWith("SWITCH_CAUSE_")) {
            key = key.substring("SWITCH_CAUSE_".length());
        }
        HangupCause cause = BY_NAME.get(key);
        return cause == null ? UNKNOWN : cause;
    }

    /**
     * Finds a cause by its numeric code.
     *
     * @param code a Q.850 or FreeSWITCH cause number
     * @return the cause, or {@link #UNKNOWN} when no cause has that code
     */
    public static HangupCause fromCode(int code) {
        for (HangupCause cause : values()) {
            if (cause.code == code) {
                return cause;
            }
        }
        return UNKNOWN;
    }
}
