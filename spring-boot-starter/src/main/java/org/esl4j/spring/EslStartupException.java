package org.esl4j.spring;

/**
 * esl4j could not start: bad {@code esl4j.*} settings, or a FreeSWITCH that cannot be reached.
 * Spring Boot prints {@link #description()} and {@link #action()} through {@link
 * EslFailureAnalyzer}.
 */
public class EslStartupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What is wrong. */
    private final String description;
    /** What to do about it. */
    private final String action;

    /**
     * Makes the exception.
     *
     * @param description what is wrong
     * @param action what to do about it
     * @param cause the underlying failure, or null
     */
    public EslStartupException(String description, String action, Throwable cause) {
        super(description, cause);
        this.description = description;
        this.action = action;
    }

    /**
     * What is wrong.
     *
     * @return the description
     */
    public String description() {
        return description;
    }

    /**
     * What to do about it.
     *
     * @return the action
     */
    public String action() {
        return action;
    }
}
