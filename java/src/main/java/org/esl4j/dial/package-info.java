/**
 * Dial strings, typed ring timeouts, originate and bridge requests, and their typed outcomes.
 *
 * <p>The question this package answers: <em>how do I set the no-answer timeout?</em> Build the
 * request with {@link org.esl4j.dial.Timeouts}; the request picks the FreeSWITCH variables that
 * work on its path, and the outcome says what happened with a {@link HangupCause}.
 *
 * <p><b>Inbound originate, 30 s.</b> {@code originate_timeout} in the dial string, early media
 * ignored, a client-chosen channel UUID:
 *
 * <pre>{@code
 * OriginateRequest request = OriginateRequest.to(Endpoint.gateway("gw1", "13800138000"))
 *         .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
 *         .build();
 * OriginateResult result = client.originate(request).join();   // -ERR NO_ANSWER -> cause() == NO_ANSWER
 * }</pre>
 *
 * <p><b>Outbound: answer, then bridge with 20 s.</b> The controlled channel stays up when nobody
 * answers ({@code continue_on_fail=true} is set first), so the application decides what happens:
 *
 * <pre>{@code
 * session.answer(Duration.ofSeconds(5));
 * BridgeResult result = session.bridge(BridgeRequest.to(Endpoint.user("2000"))
 *         .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build(), Duration.ofHours(2));
 * if (!result.isAnswered()) {
 *     session.hangup(HangupCause.NO_ANSWER);
 * }
 * }</pre>
 *
 * <p><b>Callback, 30 s for A and 20 s for B.</b> The second leg's outcome comes from the first
 * leg's {@code CHANNEL_EXECUTE_COMPLETE}, and {@link org.esl4j.dial.OriginateResult#failedLeg()}
 * says which leg failed:
 *
 * <pre>{@code
 * OriginateRequest callback = OriginateRequest.to(Endpoint.user("1000"))
 *         .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
 *         .application(Application.bridge(BridgeRequest.to(Endpoint.user("2000"))
 *                 .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build()))
 *         .build();
 * }</pre>
 *
 * <p>FreeSWITCH counts these timeouts in whole seconds: durations are rounded up, and {@code
 * originate_timeout=N} fires after N-1 to N s, {@code leg_timeout=N} after N to N+1 s. Values in
 * dial strings are escaped for every layer FreeSWITCH splits them with (the {@code originate}
 * API's blank split, {@code |}, the leg {@code ,}, the block delimiter and the {@code =} of each
 * pair), so they may hold commas, quotes, blanks, {@code =}, {@code |}, backslashes, line breaks
 * and any Unicode text.
 *
 * <p>This package is the call vocabulary the client package {@code org.esl4j} builds on: it names
 * no type of any other esl4j package. Results are read from any {@link OutcomeEvent} (every
 * {@code org.esl4j.EslEvent} is one), and {@link HangupCause} lives here because outcomes carry it.
 */
package org.esl4j.dial;
