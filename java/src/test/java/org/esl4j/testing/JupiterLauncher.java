package org.esl4j.testing;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.platform.engine.discovery.ClassSelector;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/** Runs JUnit 5 test classes from a JUnit 4 test: Debian's Gradle 4.4 cannot run them itself. */
final class JupiterLauncher {
    private JupiterLauncher() {
    }

    static TestExecutionSummary run(Class<?> testClass) {
        return run(selectClass(testClass));
    }

    /** By name, for package-private test classes as JUnit 5 users write them. */
    static TestExecutionSummary run(String className) {
        return run(selectClass(className));
    }

    private static TestExecutionSummary run(ClassSelector selector) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selector)
                .build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        launcher.execute(request, summary);
        return summary.getSummary();
    }

    /** The failures with their stack traces, for an assertion message. */
    static String failures(TestExecutionSummary summary) {
        StringWriter text = new StringWriter();
        summary.printFailuresTo(new PrintWriter(text), 20);
        return text.toString();
    }
}
