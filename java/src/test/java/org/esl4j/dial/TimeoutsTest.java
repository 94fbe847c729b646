package org.esl4j.dial;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import org.esl4j.dial.FreeSwitchDialModel.ParsedDial;
import org.esl4j.dial.FreeSwitchDialModel.ParsedLeg;
import org.junit.Test;

public class TimeoutsTest {
    private static ParsedDial parseApi(OriginateRequest request) {
        String arguments = request.command().substring("originate ".length());
        return FreeSwitchDialModel.parseDial(FreeSwitchDialModel.parseOriginateArguments(arguments).dial);
    }

    @Test
    public void inboundNoAnswerUsesOriginateTimeoutAndIgnoresEarlyMedia() {
        OriginateRequest request = OriginateRequest.to(Endpoint.gateway("gw1", "13800138000"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
                .callerId("Support", "4000")
                .build();
        ParsedDial parsed = parseApi(request);
        assertEquals("30", parsed.globals.get("originate_timeout"));
        assertEquals("true", parsed.globals.get("ignore_early_media"));
        assertEquals("Support", parsed.globals.get("origination_caller_id_name"));
        assertEquals("4000", parsed.globals.get("origination_caller_id_number"));
        assertNull("call_timeout does nothing without a caller channel", parsed.globals.get("call_timeout"));
        ParsedLeg leg = parsed.groups.get(0).get(0);
        assertEquals(request.uuid(), leg.variables.get("origination_uuid"));
        assertEquals("sofia/gateway/gw1/13800138000", leg.endpoint);
        assertTrue(request.command().endsWith(" &park()"));
    }

    @Test
    public void acceptingEarlyMediaSendsNoIgnoreFlag() {
        OriginateRequest request = OriginateRequest.to(Endpoint.user("1000"))
                .timeouts(Timeouts.builder().noAnswer(Duration.ofSeconds(30)).acceptEarlyMedia().build())
                .build();
        assertNull(parseApi(request).globals.get("ignore_early_media"));
    }

    @Test
    public void boundedEarlyMediaUsesBridgeAnswerTimeout() {
        BridgeRequest bridge = BridgeRequest.to(Endpoint.user("2000"))
                .timeouts(Timeouts.builder().noAnswer(Duration.ofSeconds(20)).allowEarlyMedia(Duration.ofSeconds(40)).build())
                .build();
        Map<String, String> globals = FreeSwitchDialModel.parseDial(bridge.applicationArgument()).globals;
        assertEquals("40", globals.get("bridge_answer_timeout"));
        assertNull(globals.get("ignore_early_media"));
        assertEquals("20", globals.get("originate_timeout"));
    }

    @Test
    public void outboundBridgeKeepsTheControlledChannel() {
        BridgeRequest bridge = BridgeRequest.to(Endpoint.user("2000"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20)))
                .build();
        assertEquals(Collections.singletonMap("continue_on_fail", "true"), bridge.callerChannelVariables());
        ParsedDial parsed = FreeSwitchDialModel.parseDial(bridge.applicationArgument());
        assertEquals("20", parsed.globals.get("originate_timeout"));
        assertEquals("true", parsed.globals.get("ignore_early_media"));
        assertEquals(bridge.legUuids().get(0), parsed.groups.get(0).get(0).variables.get("origination_uuid"));

        BridgeRequest plain = BridgeRequest.to(Endpoint.user("2000")).keepChannelOnFailure(false).build();
        assertEquals(Collections.singletonMap("continue_on_fail", "false"), plain.callerChannelVariables());
        assertFalse(plain.keepsChannelOnFailure());
    }

    @Test
    public void perLegTimeoutGoesToLegsWithoutTheirOwn() {
        DialString dial = DialString.builder()
                .group(Leg.to("user/1").timeout(Duration.ofSeconds(5)), Leg.to("user/2"))
                .build();
        BridgeRequest bridge = BridgeRequest.to(dial)
                .timeouts(Timeouts.builder().perLeg(Duration.ofSeconds(9)).progress(Duration.ofSeconds(4)).build())
                .build();
        ParsedDial parsed = FreeSwitchDialModel.parseDial(bridge.applicationArgument());
        assertEquals("5", parsed.groups.get(0).get(0).variables.get("leg_timeout"));
        assertEquals("9", parsed.groups.get(0).get(1).variables.get("leg_timeout"));
        assertEquals("4", parsed.globals.get("progress_timeout"));
        assertNull("a {leg_timeout} would override every [leg_timeout]", parsed.globals.get("leg_timeout"));
    }

    @Test
    public void durationsRoundUpToWholeSeconds() {
        assertEquals(30, Timeouts.noAnswer(Duration.ofMillis(29_001)).noAnswerSeconds());
        assertEquals(30, Timeouts.noAnswer(Duration.ofSeconds(30)).noAnswerSeconds());
        assertEquals(1, Timeouts.noAnswer(Duration.ofMillis(1)).noAnswerSeconds());
    }

    @Test(expected = IllegalArgumentException.class)
    public void zeroTimeoutIsRejected() {
        Timeouts.noAnswer(Duration.ZERO);
    }

    @Test
    public void callbackHasSeparateTimeoutsPerLeg() {
        BridgeRequest second = BridgeRequest.to(Endpoint.user("2000"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20)))
                .build();
        OriginateRequest request = OriginateRequest.to(Endpoint.user("1000"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
                .application(Application.bridge(second))
                .build();
        String arguments = request.command().substring("originate ".length());
        FreeSwitchDialModel.ParsedOriginate api = FreeSwitchDialModel.parseOriginateArguments(arguments);
        assertEquals("30", FreeSwitchDialModel.parseDial(api.dial).globals.get("originate_timeout"));
        assertEquals("20", FreeSwitchDialModel.parseDial(api.applicationArgument).globals.get("originate_timeout"));
        assertEquals(second, request.application().bridgeRequest());
    }

    @Test
    public void watchdogDeadlines() {
        DialString one = DialString.of(Endpoint.user("1"));
        Duration margin = Duration.ofSeconds(5);
        // Whole attempt: N + 1 (whole-second clock) + margin, whatever the number of groups.
        assertEquals(Duration.ofSeconds(36), Timeouts.noAnswer(Duration.ofSeconds(30)).watchdogDeadline(one, margin));
        DialString three = DialString.builder()
                .group(Leg.to("user/a").timeout(Duration.ofSeconds(9)))
                .group(Leg.to("user/b").timeout(Duration.ofSeconds(9)))
                .group(Leg.to("user/c").timeout(Duration.ofSeconds(9)))
                .build();
        // signalwire/freeswitch#3068: {originate_timeout=11} with three 9 s legs took 29 s; the watchdog ends it at 17.
        assertEquals(Duration.ofSeconds(17), Timeouts.noAnswer(Duration.ofSeconds(11)).watchdogDeadline(three, margin));
        // Without a whole-attempt timeout: each group's longest leg (+1), summed.
        assertEquals(Duration.ofSeconds(35), Timeouts.defaults().watchdogDeadline(three, margin));
        // No timeout at all: FreeSWITCH's 60 s default.
        assertEquals(Duration.ofSeconds(65), Timeouts.defaults().watchdogDeadline(one, margin));
    }

    @Test
    public void callbackWatchdogCoversBothLegs() {
        OriginateRequest request = OriginateRequest.to(Endpoint.user("1000"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
                .application(Application.bridge(BridgeRequest.to(Endpoint.user("2000"))
                        .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build()))
                .build();
        assertEquals(Duration.ofSeconds(31 + 21 + 2), request.watchdogDeadline(Duration.ofSeconds(2)));
    }

    @Test
    public void everyLegGetsItsOwnUuidAndKeepsAGivenOne() {
        DialString dial = DialString.builder()
                .group(Leg.to("user/1"), Leg.to("user/2").uuid("fixed-uuid"))
                .build();
        OriginateRequest request = OriginateRequest.to(dial).build();
        assertEquals(2, request.legUuids().size());
        assertEquals("fixed-uuid", request.legUuids().get(1));
        assertEquals(36, request.uuid().length());
        assertFalse(request.legUuids().get(0).equals(OriginateRequest.to(dial).build().uuid()));
    }
}
