/**
 * esl4j: FreeSWITCH's Event Socket for the JVM.
 *
 * <ul>
 *   <li>{@link org.esl4j.EslClient}: inbound client (port 8021): {@code api}/{@code bgapi} as
 *       futures or blocking with a timeout, subscriptions, listeners by event name, channel or
 *       job, typed {@code originate}, reconnect with a gap notice.
 *   <li>{@link org.esl4j.EslOutboundServer} and {@link org.esl4j.EslSession}: outbound mode, the
 *       server FreeSWITCH's {@code socket} application connects to, one handler per call.
 *   <li>{@link org.esl4j.EslEvent}: an immutable event; {@link org.esl4j.dial.HangupCause}: every
 *       FreeSWITCH cause with its Q.850 code.
 *   <li>{@link org.esl4j.dial}: dial strings, typed no-answer timeouts and typed outcomes.
 * </ul>
 *
 * <p>Events reach listeners in order per channel and in parallel across channels, through a
 * bounded queue ({@link org.esl4j.DeliveryOptions}) that never drops the events that end calls.
 *
 * <pre>{@code
 * try (EslClient client = EslClient.connect(ClientOptions.builder().host("127.0.0.1").password("ClueCon").build())) {
 *     OriginateResult result = client.originate(OriginateRequest.to(Endpoint.user("1000"))
 *             .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30))).build()).join();
 * }
 * }</pre>
 */
package org.esl4j;
