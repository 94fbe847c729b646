package org.esl4j.dial;

/**
 * Which leg of an attempt failed. For an inbound originate, {@link #A} is the leg being
 * originated; in the callback pattern ({@code originate A &bridge(B)}) {@link #B} is the leg the
 * answered A-leg bridges to. For a bridge from a controlled channel, the dialled leg is {@link #B}.
 */
public enum CallLeg {
    /** The originated (first) leg. */
    A,
    /** The bridged (second) leg. */
    B
}
