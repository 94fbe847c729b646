/**
 * Test support for applications using the esl4j starter: {@link
 * org.esl4j.spring.test.EslSimulatorProperties} points the starter at the esl4j-test simulator
 * (needs {@code org.esl4j:esl4j-test} and {@code spring-test} on the test class path).
 */
package org.esl4j.spring.test;
