/**
 * The esl4j test kit: a FreeSWITCH simulator inside your JUnit tests ({@link
 * org.esl4j.testing.EslSimulator}), with a JUnit 4 rule ({@link org.esl4j.testing.EslSimulatorRule})
 * and a JUnit 5 extension ({@link org.esl4j.testing.EslSimulatorExtension}). JUnit is an optional
 * dependency: bring the version your tests use.
 */
package org.esl4j.testing;
