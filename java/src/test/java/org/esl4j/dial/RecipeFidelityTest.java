package org.esl4j.dial;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Duration;
import java.util.Arrays;

import org.junit.Test;

/**
 * The recipes of esl-protocol.md §3.6, compared byte for byte with what the dial builders
 * produce, and the §3.3/§3.7 precedence rules the builders must respect. The full wire bytes
 * (with {@code bgapi}, {@code Job-UUID} and {@code sendmsg}) are checked by the engine's encoder
 * tests on these same lines.
 */
public class RecipeFidelityTest {
    private static final String A_UUID = "5d7d2c1e-0b7a-4f55-9d5e-1f0a4c7e8b11";

    @Test
    public void recipeA_inboundOriginateWith30Seconds() {
        DialString dial = DialString.builder()
                .variable("originate_timeout", "30")
                .variable("ignore_early_media", "true")
                .variable("origination_uuid", A_UUID)
                .variable("origination_caller_id_number", "4000")
                .group(Leg.to(Endpoint.gateway("gw1", "13800138000")))
                .build();
        OriginateRequest request = OriginateRequest.to(dial).build();
        assertEquals("originate {originate_timeout=30,ignore_early_media=true,origination_uuid=" + A_UUID
                + ",origination_caller_id_number=4000}sofia/gateway/gw1/13800138000 &park()", request.command());
        // The channel UUID the library follows is the one FreeSWITCH will use.
        assertEquals(A_UUID, request.uuid());
        // The watchdog follows the originate_timeout written into the dial string.
        assertEquals(Duration.ofSeconds(31), request.watchdogDeadline(Duration.ZERO));
    }

    @Test
    public void rawOriginateTimeoutLongerThanTheDefaultIsNotCutByTheWatchdog() {
        // FreeSWITCH rings 120 s; a 60 s default watchdog would kill the call half way.
        DialString dial = DialString.builder()
                .variable("originate_timeout", "120")
                .group(Leg.to("user/1"))
                .build();
        assertEquals(Duration.ofSeconds(121), Timeouts.defaults().watchdogDeadline(dial, Duration.ZERO));
        assertEquals(Duration.ofSeconds(121), OriginateRequest.to(dial).build().watchdogDeadline(Duration.ZERO));
    }

    @Test
    public void recipeB_bridgeArgumentWith20Seconds() {
        String recipe = "{originate_timeout=20,ignore_early_media=true}user/2000";
        DialString dial = DialString.builder()
                .variable("originate_timeout", "20")
                .variable("ignore_early_media", "true")
                .group(Leg.to(Endpoint.user("2000")))
                .build();
        assertEquals(recipe, dial.render());
        // The typed request adds only the leg's own UUID, so its events can be followed.
        BridgeRequest bridge = BridgeRequest.to(Endpoint.user("2000"))
                .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20)))
                .build();
        String uuid = bridge.legUuids().get(0);
        assertEquals("{originate_timeout=20,ignore_early_media=true}[origination_uuid=" + uuid + "]user/2000",
                bridge.applicationArgument());
        assertEquals("true", bridge.callerChannelVariables().get("continue_on_fail"));
    }

    @Test
    public void recipeC_callbackWithATimeoutPerLeg() {
        BridgeRequest second = BridgeRequest.to(DialString.builder()
                .variable("originate_timeout", "20")
                .variable("ignore_early_media", "true")
                .variable("origination_uuid", "B-uuid")
                .group(Leg.to(Endpoint.user("2000")))
                .build()).build();
        OriginateRequest request = OriginateRequest.to(DialString.builder()
                .variable("originate_timeout", "30")
                .variable("ignore_early_media", "true")
                .variable("origination_uuid", "A-uuid")
                .group(Leg.to(Endpoint.user("1000")))
                .build())
                .application(Application.bridge(second))
                .build();
        assertEquals("originate {originate_timeout=30,ignore_early_media=true,origination_uuid=A-uuid}user/1000"
                + " &bridge({originate_timeout=20,ignore_early_media=true,origination_uuid=B-uuid}user/2000)",
                request.command());
        assertEquals(Arrays.asList("A-uuid"), request.legUuids());
        assertEquals(Arrays.asList("B-uuid"), second.legUuids());
    }

    @Test
    public void globalOriginationUuidOverridesTheLegsOwn() {
        // {} is installed on each leg after [], so the global UUID is the channel's UUID.
        DialString dial = DialString.builder()
                .variable("origination_uuid", "global-uuid")
                .group(Leg.to("user/1").uuid("leg-uuid"))
                .build();
        assertEquals(Arrays.asList("global-uuid"), OriginateRequest.to(dial).build().legUuids());
        DialString clobbered = DialString.builder()
                .variable("local_var_clobber", "true")
                .variable("origination_uuid", "global-uuid")
                .group(Leg.to("user/1").uuid("leg-uuid"))
                .build();
        assertEquals(Arrays.asList("leg-uuid"), OriginateRequest.to(clobbered).build().legUuids());
    }

    @Test
    public void globalOriginationUuidOnSeveralLegsIsRefused() {
        DialString dial = DialString.builder()
                .variable("origination_uuid", "same-for-all")
                .group(Leg.to("user/1"), Leg.to("user/2"))
                .build();
        try {
            OriginateRequest.to(dial).build();
            fail("two channels cannot share one UUID");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("origination_uuid"));
        }
    }

    @Test
    public void wholeOriginateVariablesAreRefusedInALegBlock() {
        // §3.7 item 3: [originate_timeout=20] is silently ignored by FreeSWITCH.
        for (String name : Arrays.asList("originate_timeout", "progress_timeout", "ignore_early_media",
                "originate_continue_on_timeout")) {
            try {
                Leg.to("user/1").variable(name, "20");
                fail(name + " in [] must be refused");
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage(), expected.getMessage().contains(name));
            }
        }
        assertEquals("[leg_timeout=20]user/1", Leg.to("user/1").variable("leg_timeout", "20").render());
    }

    @Test
    public void globalLegTimeoutOverridesPerLegTimeouts() {
        // §3.3 / §3.7 item 4: {leg_timeout=5} beats [leg_timeout=30] unless local_var_clobber=true.
        DialString dial = DialString.builder()
                .variable("leg_timeout", "5")
                .group(Leg.to("user/1").timeout(Duration.ofSeconds(30)))
                .build();
        assertEquals(Duration.ofSeconds(6), Timeouts.defaults().watchdogDeadline(dial, Duration.ZERO));
        DialString clobbered = dial.toBuilder().variable("local_var_clobber", "true").build();
        assertEquals(Duration.ofSeconds(31), Timeouts.defaults().watchdogDeadline(clobbered, Duration.ZERO));
        // A per-leg default is not added where the global one already decides.
        DialString bare = DialString.builder()
                .variable("leg_timeout", "5")
                .group(Leg.to("user/1"))
                .build();
        Timeouts perLeg = Timeouts.builder().perLeg(Duration.ofSeconds(10)).build();
        assertEquals("{leg_timeout=5,ignore_early_media=true}user/1", perLeg.applyTo(bare).render());
    }
}
