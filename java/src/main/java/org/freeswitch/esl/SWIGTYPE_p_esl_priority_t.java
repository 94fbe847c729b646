package org.freeswitch.esl;

/**
 * An event priority for {@link ESLevent#setPriority(SWIGTYPE_p_esl_priority_t)}. The SWIG binding
 * offered no way to create one; the constants below make the method usable.
 */
public class SWIGTYPE_p_esl_priority_t {
    /** {@code priority: NORMAL}. */
    public static final SWIGTYPE_p_esl_priority_t NORMAL = new SWIGTYPE_p_esl_priority_t("NORMAL");
    /** {@code priority: LOW}. */
    public static final SWIGTYPE_p_esl_priority_t LOW = new SWIGTYPE_p_esl_priority_t("LOW");
    /** {@code priority: HIGH}. */
    public static final SWIGTYPE_p_esl_priority_t HIGH = new SWIGTYPE_p_esl_priority_t("HIGH");

    private final String name;

    private SWIGTYPE_p_esl_priority_t(String name) {
        this.name = name;
    }

    /** A NORMAL priority, as SWIG's protected default constructor. */
    protected SWIGTYPE_p_esl_priority_t() {
        this("NORMAL");
    }

    String name() {
        return name;
    }
}
