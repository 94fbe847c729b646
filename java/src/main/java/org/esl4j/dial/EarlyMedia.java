package org.esl4j.dial;

/**
 * What a ring attempt does when the far end sends early media (SIP 183 with audio, typical of
 * carrier announcements) but does not answer.
 *
 * <p>FreeSWITCH's own default is {@link #ACCEPT}: early media ends the wait successfully and no
 * no-answer timeout applies any more, which is the usual reason "the no-answer timeout does not
 * work". esl4j's default is therefore {@link #IGNORE}.
 */
public enum EarlyMedia {
    /**
     * Keep waiting for a real answer ({@code ignore_early_media=true}); the no-answer timeout
     * applies. The default.
     */
    IGNORE,
    /**
     * FreeSWITCH's default: early media completes the attempt ({@code DIALSTATUS=EARLY}); an API
     * originate returns {@code +OK} with an unanswered channel and no timeout applies after that.
     */
    ACCEPT,
    /**
     * Let early media through (a bridge runs in early media) but hang the unanswered leg up after
     * a bound ({@code bridge_answer_timeout}, cause {@code ALLOTTED_TIMEOUT}); see {@link
     * Timeouts.Builder#allowEarlyMedia(java.time.Duration)}.
     */
    ALLOW_BOUNDED
}
