/**
 * Drop-in replacement for FreeSWITCH's SWIG-generated Java binding of libesl: the same classes
 * ({@link org.freeswitch.esl.ESLconnection}, {@link org.freeswitch.esl.ESLevent},
 * {@link org.freeswitch.esl.esl}) with the same public signatures and return conventions
 * ({@code null}, {@code 0}/{@code 1}, {@code -ERR} replies), backed by the esl4j engine.
 *
 * <p>Migrating: remove the {@code System.load("libesljni.so")} call and the {@code esl.jar};
 * nothing else changes. What is better than libesl: every class is thread-safe and can never
 * crash the JVM (calls after {@code disconnect()} just fail); {@code recvEvent} no longer blocks
 * {@code api} in other threads, and no reply is ever taken by {@code recvEventTimed}; arguments
 * are not truncated; text is real UTF-8; {@code sendEvent} returns the server's reply;
 * {@link org.freeswitch.esl.ESLconnection#getLastError()} says why a call failed.
 *
 * <p>Outbound calls: libesl's {@code esl_listen} has no Java equivalent in the SWIG binding; use
 * {@link org.freeswitch.esl.ESLserver}, which hands every call over as an {@code ESLconnection}
 * whose {@code getInfo()} is the channel data:
 *
 * <pre>{@code
 * ESLserver.listen("127.0.0.1", 8084, con -> {
 *     con.filter("unique-id", con.getInfo().getHeader("caller-unique-id", -1));
 *     con.events("plain", "CHANNEL_ANSWER CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP");
 *     con.sendRecv("linger");
 *     con.execute("answer", null, null);
 *     con.execute("conference", "3000@default", null);
 *     while (con.connected() == 1) {
 *         ESLevent e = con.recvEventTimed(1000);
 *         // ... until the text/disconnect-notice
 *     }
 * });
 * }</pre>
 *
 * <p>New code should prefer the {@code org.esl4j} API (futures, typed events, timeouts).
 */
package org.freeswitch.esl;
