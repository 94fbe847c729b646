package org.esl4j.spring;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns an {@link EslStartupException} into Spring Boot's "APPLICATION FAILED TO START" report. */
public class EslFailureAnalyzer extends AbstractFailureAnalyzer<EslStartupException> {
    /** Made by Spring Boot from {@code META-INF/spring.factories}. */
    public EslFailureAnalyzer() {}

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, EslStartupException cause) {
        return new FailureAnalysis(cause.description(), cause.action(), cause);
    }
}
