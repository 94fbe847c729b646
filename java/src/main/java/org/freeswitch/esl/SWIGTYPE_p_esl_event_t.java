package org.freeswitch.esl;

/**
 * An opaque event handle, kept for signature compatibility with the SWIG binding
 * ({@link ESLevent#getEvent()}, {@link ESLevent#setEvent(SWIGTYPE_p_esl_event_t)}).
 */
public class SWIGTYPE_p_esl_event_t {
    private final ESLevent event;

    SWIGTYPE_p_esl_event_t(ESLevent event) {
        this.event = event;
    }

    /** An empty handle, as SWIG's protected default constructor. */
    protected SWIGTYPE_p_esl_event_t() {
        this(null);
    }

    ESLevent event() {
        return event;
    }
}
