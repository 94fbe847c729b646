/**
 * The {@code esl4j} command line ({@link org.esl4j.cli.Esl4jCli}): {@code demo} runs the inbound,
 * callback and outbound patterns on the embedded simulator; the other sub-commands ({@code api},
 * {@code events}, {@code originate}, ...) do the everyday Event Socket jobs against a real
 * FreeSWITCH. Its entry point never calls {@code System.exit}, so it is tested in process.
 */
package org.esl4j.cli;
