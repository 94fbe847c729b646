package org.esl4j.dial;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.esl4j.dial.FreeSwitchDialModel.ParsedDial;
import org.esl4j.dial.FreeSwitchDialModel.ParsedLeg;
import org.esl4j.dial.FreeSwitchDialModel.ParsedOriginate;
import org.junit.Test;

public class DialStringTest {
    /** Values that need escaping on some layer. */
    static final List<String> TRICKY = Arrays.asList(
            "a,b",
            "it's",
            "say \"hi\"",
            " leading blank",
            "trailing blank ",
            "x=y=z",
            "back\\slash",
            "ends with backslash\\",
            "\\,",
            "pipe|bar",
            "semi;colon",
            "你好, мир",
            "tab\tnew\nline\rcr",
            "${uuid}",
            "'",
            "a'b'c",
            "%2B+",
            "(paren",
            "^^:x",
            "\\s literal",
            "  ");

    @Test
    public void simpleDialStringLooksLikeTheDocs() {
        DialString dial = DialString.builder()
                .variable("origination_caller_id_number", "4000")
                .group(Leg.to("user/1000"), Leg.to("user/1001"))
                .group(Leg.to(Endpoint.gateway("gw1", "13800138000")))
                .build();
        assertEquals("{origination_caller_id_number=4000}user/1000,user/1001|sofia/gateway/gw1/13800138000", dial.render());
    }

    @Test
    public void plainLegBlockKeepsTheOrdinaryForm() {
        Leg leg = Leg.to("user/1000").timeout(Duration.ofMillis(14_200)).variable("x", "y z");
        assertEquals("[leg_timeout=15,x=y z]user/1000", leg.render());
    }

    @Test
    public void globalValuesSurviveTheBlockAndPairLayers() {
        for (String value : TRICKY) {
            DialString dial = DialString.builder().variable("v", value).variable("after", "ok").group(Leg.to("user/1")).build();
            ParsedDial parsed = FreeSwitchDialModel.parseDial(dial.render());
            assertEquals("value " + value + " via " + dial.render(), value, parsed.globals.get("v"));
            assertEquals("user/1", parsed.groups.get(0).get(0).endpoint);
            assertEquals("ok", parsed.globals.get("after"));
        }
    }

    @Test
    public void enterpriseValuesSurvive() {
        for (String value : TRICKY) {
            DialString dial = DialString.builder().enterpriseVariable("v", value).group(Leg.to("user/1")).build();
            assertEquals(value, FreeSwitchDialModel.parseDial(dial.render()).enterprise.get("v"));
        }
    }

    @Test
    public void legValuesSurviveThePipeLegBlockAndPairLayers() {
        for (String value : TRICKY) {
            DialString dial = DialString.builder()
                    .group(Leg.to("user/1").variable("v", value).variable("w", "2"), Leg.to("user/2").variable("v", "other"))
                    .group(Leg.to("user/3").variable("v", value))
                    .build();
            String rendered = dial.render();
            ParsedDial parsed = FreeSwitchDialModel.parseDial(rendered);
            assertEquals("groups of " + rendered, 2, parsed.groups.size());
            List<ParsedLeg> first = parsed.groups.get(0);
            assertEquals("legs of " + rendered, 2, first.size());
            assertEquals("value " + value + " via " + rendered, value, first.get(0).variables.get("v"));
            assertEquals("2", first.get(0).variables.get("w"));
            assertEquals("user/1", first.get(0).endpoint);
            assertEquals("other", first.get(1).variables.get("v"));
            assertEquals("user/2", first.get(1).endpoint);
            assertEquals(value, parsed.groups.get(1).get(0).variables.get("v"));
            assertEquals("user/3", parsed.groups.get(1).get(0).endpoint);
        }
    }

    @Test
    public void renderedTextNeverHoldsLineBreaks() {
        DialString dial = DialString.builder()
                .variable("g", "a\r\nb")
                .group(Leg.to("user/1").variable("l", "c\nd"))
                .build();
        assertFalse(dial.render().contains("\n"));
        assertFalse(dial.render().contains("\r"));
    }

    @Test
    public void originateApiLineSurvivesTheBlankSplitToo() {
        for (String value : TRICKY) {
            OriginateRequest request = OriginateRequest.to(DialString.builder()
                            .variable("g", value)
                            .group(Leg.to("user/1000").variable("l", value))
                            .build())
                    .callerId(value, "4000")
                    .build();
            String command = request.command();
            assertTrue(command.startsWith("originate "));
            ParsedOriginate api = FreeSwitchDialModel.parseOriginateArguments(command.substring("originate ".length()));
            assertEquals("park", api.applicationName);
            assertEquals("", api.applicationArgument);
            ParsedDial parsed = FreeSwitchDialModel.parseDial(api.dial);
            assertEquals("via " + command, value, parsed.globals.get("g"));
            assertEquals("via " + command, value, parsed.globals.get("origination_caller_id_name"));
            ParsedLeg leg = parsed.groups.get(0).get(0);
            assertEquals("via " + command, value, leg.variables.get("l"));
            assertEquals(request.uuid(), leg.variables.get("origination_uuid"));
            assertEquals("user/1000", leg.endpoint);
        }
    }

    @Test
    public void callbackBridgeArgumentSurvivesTheApiAndTheBridge() {
        for (String value : TRICKY) {
            if (value.contains(")")) {
                continue;
            }
            BridgeRequest second = BridgeRequest.to(DialString.builder()
                            .variable("g", value)
                            .group(Leg.to("user/2000").variable("l", value))
                            .build())
                    .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20)))
                    .build();
            OriginateRequest request = OriginateRequest.to(Endpoint.user("1000"))
                    .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
                    .application(Application.bridge(second))
                    .build();
            String command = request.command();
            ParsedOriginate api = FreeSwitchDialModel.parseOriginateArguments(command.substring("originate ".length()));
            assertEquals("bridge", api.applicationName);
            ParsedDial first = FreeSwitchDialModel.parseDial(api.dial);
            assertEquals("30", first.globals.get("originate_timeout"));
            assertEquals("true", first.globals.get("ignore_early_media"));
            ParsedDial bridged = FreeSwitchDialModel.parseDial(api.applicationArgument);
            assertEquals("via " + command, value, bridged.globals.get("g"));
            assertEquals("20", bridged.globals.get("originate_timeout"));
            assertEquals("via " + command, value, bridged.groups.get(0).get(0).variables.get("l"));
            assertEquals(second.legUuids().get(0), bridged.groups.get(0).get(0).variables.get("origination_uuid"));
        }
    }

    @Test
    public void sendmsgBridgeArgumentSurvivesTheBridge() {
        for (String value : TRICKY) {
            BridgeRequest bridge = BridgeRequest.to(DialString.builder()
                            .group(Leg.to("user/2000").variable("l", value))
                            .build())
                    .build();
            ParsedDial parsed = FreeSwitchDialModel.parseDial(bridge.applicationArgument());
            assertEquals(value, parsed.groups.get(0).get(0).variables.get("l"));
        }
    }

    @Test
    public void parenthesisInCallbackArgumentIsRejected() {
        BridgeRequest second = BridgeRequest.to(DialString.builder()
                        .group(Leg.to("user/2000").variable("l", "a)b"))
                        .build())
                .build();
        try {
            Application.bridge(second);
            fail("FreeSWITCH would cut the argument at ')'");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage().contains(")"));
        }
    }

    @Test
    public void unusableValuesAndNamesAreRejected() {
        assertRejected(() -> DialString.builder().variable("v", "a}b"));
        assertRejected(() -> DialString.builder().variable("v", ""));
        assertRejected(() -> DialString.builder().variable("v", "nul\u0000"));
        assertRejected(() -> DialString.builder().variable("bad name", "x"));
        assertRejected(() -> DialString.builder().variable("a=b", "x"));
        assertRejected(() -> Leg.to("user/1").variable("v", "a]b"));
        assertRejected(() -> Endpoint.of("user/1,user/2"));
        assertRejected(() -> Endpoint.of("user/1|user/2"));
        assertRejected(() -> Endpoint.of("user/1 &park"));
        assertRejected(() -> Endpoint.of("user/1\n"));
        assertRejected(() -> Endpoint.of("a:_:b/c"));
        assertRejected(() -> Endpoint.of("nodelimiter"));
        assertRejected(() -> Application.run("playback", "a)b"));
    }

    @Test
    public void modelSplitsNaiveTextTheWayFreeSwitchDoes() {
        // Guards the round-trip tests above: unescaped text really is cut by the model.
        assertEquals("a", FreeSwitchDialModel.parseDial("{v=a,b}user/1").globals.get("v"));
        assertEquals("a b", FreeSwitchDialModel.parseDial("{v='a b'}user/1").globals.get("v"));
        // The | split strips the quotes before the [] comma scan sees them.
        assertEquals("a", FreeSwitchDialModel.parseDial("[x='a,b']user/1").groups.get(0).get(0).variables.get("x"));
        assertEquals("a,b", FreeSwitchDialModel.parseDial("[^^;x=a,b;y=c]user/1").groups.get(0).get(0).variables.get("x"));
        assertEquals(2, FreeSwitchDialModel.parseDial("user/1,user/2").groups.get(0).size());
        ParsedOriginate api = FreeSwitchDialModel.parseOriginateArguments("{x=a b}user/1 &park()");
        assertEquals("{x=a", api.dial);
    }

    @Test
    public void legBlockNeedingEscapesUsesTheCaretForm() {
        assertTrue(Leg.to("user/1").variable("v", "a,b").render().startsWith("[^^;v=a\\,b]"));
    }

    @Test
    public void balancedBracesAreAllowed() {
        DialString dial = DialString.builder().variable("v", "${caller_id_number}").group(Leg.to("user/1")).build();
        assertEquals("${caller_id_number}", FreeSwitchDialModel.parseDial(dial.render()).globals.get("v"));
    }

    private static void assertRejected(Runnable action) {
        try {
            action.run();
            fail("expected IllegalArgumentException");
        } catch (IllegalArgumentException expected) {
            assertFalse(expected.getMessage().isEmpty());
        }
    }
}
