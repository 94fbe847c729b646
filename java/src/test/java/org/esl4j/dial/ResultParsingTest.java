package org.esl4j.dial;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.esl4j.EslEvent;
import org.esl4j.testsupport.Transcript;
import org.junit.Before;
import org.junit.Test;

/** Parses outcomes from frames a real FreeSWITCH sent (see /work/shared/transcripts/README.md). */
public class ResultParsingTest {
    @Before
    public void needTranscripts() {
        assumeTrue("recorded transcripts not found", Transcript.available("03_originate_inbound.txt",
                "04_outbound_async_bridge_leg_timeout.txt", "05_outbound_async_bridge_call_timeout.txt",
                "06_outbound_async_bridge_continue_on_fail.txt", "07_outbound_sync_bridge_leg_timeout.txt"));
    }

    private static EslEvent bridgeExecuteComplete(String file) throws IOException {
        EslEvent found = null;
        for (EslEvent event : Transcript.events(file, "out")) {
            if ("CHANNEL_EXECUTE_COMPLETE".equals(event.eventName()) && "bridge".equals(event.application())) {
                found = event;
            }
        }
        assertNotNull("no bridge CHANNEL_EXECUTE_COMPLETE in " + file, found);
        return found;
    }

    @Test
    public void inboundOriginateApiReplies() throws IOException {
        List<String> bodies = Transcript.apiResponses("03_originate_inbound.txt", "in");
        List<OriginateResult> originates = new ArrayList<>();
        for (String body : bodies) {
            if (body.startsWith("+OK ") || body.startsWith("-ERR ")) {
                originates.add(OriginateResult.fromApiResponse(body));
            }
        }
        // noanswer (NO_ANSWER), earlymedia (+OK), earlymedia with ignore_early_media (NO_ANSWER),
        // busy (USER_BUSY), answer (+OK), late_answer (+OK); uuid_kill replies are "+OK" alone.
        OriginateResult noAnswer = originates.get(0);
        assertFalse(noAnswer.succeeded());
        assertEquals(HangupCause.NO_ANSWER, noAnswer.cause());
        assertTrue(noAnswer.cause().isNoAnswer());
        assertEquals(CallLeg.A, noAnswer.failedLeg());
        assertEquals("-ERR NO_ANSWER", noAnswer.reply());

        OriginateResult earlyMedia = originates.get(1);
        assertTrue(earlyMedia.succeeded());
        assertEquals(36, earlyMedia.channelUuid().length());
        assertNull(earlyMedia.cause());

        assertEquals(HangupCause.NO_ANSWER, originates.get(2).cause());
        assertEquals(HangupCause.USER_BUSY, originates.get(3).cause());
        assertFalse(originates.get(3).cause().isNoAnswer());
        assertTrue(originates.get(4).succeeded());
    }

    @Test
    public void backgroundJobBody() throws IOException {
        EslEvent job = null;
        for (EslEvent event : Transcript.events("03_originate_inbound.txt", "in")) {
            if ("BACKGROUND_JOB".equals(event.eventName())) {
                job = event;
            }
        }
        assertNotNull(job);
        assertEquals("originate", job.header("Job-Command"));
        assertEquals("{originate_timeout=3}loopback/noanswer/default &park", job.header("Job-Command-Arg"));
        OriginateResult result = OriginateResult.fromBackgroundJob(job);
        assertFalse(result.succeeded());
        assertEquals(HangupCause.NO_ANSWER, result.cause());
    }

    @Test
    public void otherApiErrorsAreUnknownFailures() {
        assertEquals(HangupCause.UNKNOWN, OriginateResult.fromApiResponse("-ERR no reply\n").cause());
        assertEquals(HangupCause.UNKNOWN, OriginateResult.fromApiResponse("-USAGE: <call url> <exten>\n").cause());
        assertEquals(HangupCause.ALLOTTED_TIMEOUT, OriginateResult.fromApiResponse("-ERR ALLOTTED_TIMEOUT\n").cause());
        assertEquals(HangupCause.UNKNOWN, OriginateResult.fromApiResponse("-ERR SOME_FUTURE_CAUSE\n").cause());
    }

    @Test
    public void outboundLegTimeoutHangsUpTheControlledChannel() throws IOException {
        BridgeResult result = BridgeResult.fromExecuteComplete(bridgeExecuteComplete("04_outbound_async_bridge_leg_timeout.txt"));
        assertEquals(BridgeResult.Status.FAILED, result.status());
        assertEquals(HangupCause.ALLOTTED_TIMEOUT, result.cause());
        assertEquals("ALLOTTED_TIMEOUT", result.dialStatus());
        assertEquals("ALLOTTED_TIMEOUT", result.disposition());
        assertFalse("leg_timeout without continue_on_fail hangs the channel up", result.callerChannelUp());
        Map<String, HangupCause> legs = result.legCauses();
        assertEquals(1, legs.size());
        assertEquals(HangupCause.ALLOTTED_TIMEOUT, legs.values().iterator().next());
        assertEquals(36, legs.keySet().iterator().next().length());
    }

    @Test
    public void outboundCallTimeoutIsNoAnswerAndKeepsTheChannel() throws IOException {
        BridgeResult result = BridgeResult.fromExecuteComplete(bridgeExecuteComplete("05_outbound_async_bridge_call_timeout.txt"));
        assertEquals(HangupCause.NO_ANSWER, result.cause());
        assertEquals("NOANSWER", result.dialStatus());
        assertTrue(result.callerChannelUp());
        assertFalse(result.isAnswered());
        assertNull(result.peerHangupCause());
    }

    @Test
    public void continueOnFailKeepsTheChannelAfterLegTimeout() throws IOException {
        BridgeResult result = BridgeResult.fromExecuteComplete(bridgeExecuteComplete("06_outbound_async_bridge_continue_on_fail.txt"));
        assertEquals(HangupCause.ALLOTTED_TIMEOUT, result.cause());
        assertTrue(result.callerChannelUp());
    }

    @Test
    public void syncModeLegTimeout() throws IOException {
        BridgeResult result = BridgeResult.fromExecuteComplete(bridgeExecuteComplete("07_outbound_sync_bridge_leg_timeout.txt"));
        assertEquals(HangupCause.ALLOTTED_TIMEOUT, result.cause());
        assertFalse(result.callerChannelUp());
    }

    @Test
    public void answeredBridgeReportsThePeer() {
        EslEvent event = EslEvent.builder()
                .header("Event-Name", "CHANNEL_EXECUTE_COMPLETE")
                .header("Application", "bridge")
                .header("Answer-State", "answered")
                .header("variable_DIALSTATUS", "ANSWER")
                .header("variable_originate_disposition", "SUCCESS")
                .header("variable_last_bridge_to", "b-uuid")
                .header("variable_last_bridge_hangup_cause", "NORMAL_CLEARING")
                .build();
        BridgeResult result = BridgeResult.fromExecuteComplete(event);
        assertTrue(result.isAnswered());
        assertNull(result.cause());
        assertEquals("b-uuid", result.peerUuid());
        assertEquals(HangupCause.NORMAL_CLEARING, result.peerHangupCause());
    }

    @Test
    public void busyDialStatusMapsToUserBusy() {
        EslEvent event = EslEvent.builder().header("variable_DIALSTATUS", "BUSY").build();
        assertEquals(HangupCause.USER_BUSY, BridgeResult.fromExecuteComplete(event).cause());
    }

    @Test
    public void arrayEncodedLegCausesAreSplit() {
        EslEvent event = EslEvent.builder()
                .header("variable_DIALSTATUS", "NOANSWER")
                .header("variable_originate_causes", "ARRAY::u1;NO_ANSWER|:u2;USER_BUSY")
                .build();
        Map<String, HangupCause> causes = BridgeResult.fromExecuteComplete(event).legCauses();
        assertEquals(HangupCause.NO_ANSWER, causes.get("u1"));
        assertEquals(HangupCause.USER_BUSY, causes.get("u2"));
    }

    @Test
    public void callbackWhoseFirstLegHangsUpBeforeTheBridgeIsAFailureOfLegA() {
        // The first leg's CHANNEL_HANGUP_COMPLETE without DIALSTATUS & co: nothing was dialled.
        EslEvent hangup = EslEvent.builder()
                .header("Event-Name", "CHANNEL_HANGUP_COMPLETE")
                .header("Unique-ID", "a-uuid")
                .header("Answer-State", "hangup")
                .header("Hangup-Cause", "NORMAL_CLEARING")
                .build();
        BridgeResult second = BridgeResult.fromExecuteComplete(hangup);
        assertEquals(BridgeResult.Status.FAILED, second.status());
        assertEquals(HangupCause.NORMAL_CLEARING, second.cause());
        assertFalse(second.dialled());
        assertFalse(second.callerChannelUp());
        OriginateResult combined = OriginateResult.fromApiResponse("+OK a-uuid\n").withBridge(second);
        assertFalse(combined.succeeded());
        assertEquals(CallLeg.A, combined.failedLeg());
        assertEquals(HangupCause.NORMAL_CLEARING, combined.cause());
    }

    @Test(expected = IllegalArgumentException.class)
    public void eventWithoutOutcomeIsRejected() {
        BridgeResult.fromExecuteComplete(EslEvent.builder().header("Event-Name", "CHANNEL_ANSWER").build());
    }

    @Test
    public void callbackSecondLegFailureIsReportedAsLegB() throws IOException {
        OriginateResult first = OriginateResult.fromApiResponse("+OK 0d9e2f4a-1111-2222-3333-444455556666\n");
        BridgeResult second = BridgeResult.fromExecuteComplete(bridgeExecuteComplete("05_outbound_async_bridge_call_timeout.txt"));
        OriginateResult combined = first.withBridge(second);
        assertFalse(combined.succeeded());
        assertEquals(CallLeg.B, combined.failedLeg());
        assertEquals(HangupCause.NO_ANSWER, combined.cause());
        assertEquals("0d9e2f4a-1111-2222-3333-444455556666", combined.channelUuid());
        assertEquals(second, combined.bridge());

        OriginateResult firstFailed = OriginateResult.fromApiResponse("-ERR USER_BUSY").withBridge(second);
        assertEquals(CallLeg.A, firstFailed.failedLeg());
        assertEquals(HangupCause.USER_BUSY, firstFailed.cause());
    }

    @Test
    public void watchdogOutcome() {
        OriginateResult result = OriginateResult.watchdogExpired("u");
        assertTrue(result.watchdogExpired());
        assertEquals(HangupCause.ALLOTTED_TIMEOUT, result.cause());
        assertEquals("u", result.channelUuid());
        OriginateResult viaBridge = OriginateResult.fromApiResponse("+OK u").withBridge(BridgeResult.watchdogExpired());
        assertTrue(viaBridge.watchdogExpired());
        assertEquals(CallLeg.B, viaBridge.failedLeg());
    }
}
