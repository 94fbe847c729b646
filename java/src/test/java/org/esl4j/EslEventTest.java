package org.esl4j;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.esl4j.dial.HangupCause;
import org.junit.Test;

public class EslEventTest {
    private static EslEvent executeComplete() {
        return EslEvent.builder()
                .header("Event-Name", "CHANNEL_EXECUTE_COMPLETE")
                .header("Unique-ID", "a-uuid")
                .header("Channel-Call-UUID", "call-uuid")
                .header("Answer-State", "answered")
                .header("Channel-State", "CS_EXECUTE")
                .header("Application", "bridge")
                .header("Application-Data", "{leg_timeout=3}loopback/noanswer/default")
                .header("Application-Response", "_none_")
                .header("Application-UUID", "app-uuid")
                .header("variable_DIALSTATUS", "NOANSWER")
                .header("variable_originate_causes", "b1;NO_ANSWER")
                .header("variable_originate_causes", "b2;USER_BUSY")
                .build();
    }

    @Test
    public void headerLookupIsCaseInsensitiveAndReturnsFirstValue() {
        EslEvent event = executeComplete();
        assertEquals("CHANNEL_EXECUTE_COMPLETE", event.header("event-name"));
        assertEquals("b1;NO_ANSWER", event.header("VARIABLE_ORIGINATE_CAUSES"));
        assertNull(event.header("Missing"));
        assertFalse(event.hasHeader("Missing"));
        assertTrue(event.hasHeader("unique-id"));
    }

    @Test
    public void repeatedHeaderIsMultiValueInOrder() {
        EslEvent event = executeComplete();
        assertEquals(Arrays.asList("b1;NO_ANSWER", "b2;USER_BUSY"), event.variableValues("originate_causes"));
        assertEquals(Collections.emptyList(), event.headerValues("nope"));
    }

    @Test
    public void headersKeepOrder() {
        EslEvent event = executeComplete();
        List<Map.Entry<String, String>> headers = event.headers();
        assertEquals(12, headers.size());
        assertEquals(12, event.headerCount());
        assertEquals("Event-Name", headers.get(0).getKey());
        assertEquals("Unique-ID", headers.get(1).getKey());
        assertEquals("b2;USER_BUSY", headers.get(11).getValue());
    }

    @Test
    public void typedAccessorsReadTheirHeaders() {
        EslEvent event = executeComplete();
        assertEquals("CHANNEL_EXECUTE_COMPLETE", event.eventName());
        assertEquals("a-uuid", event.uniqueId());
        assertEquals("call-uuid", event.channelCallUuid());
        assertEquals("answered", event.answerState());
        assertEquals("CS_EXECUTE", event.channelState());
        assertEquals("bridge", event.application());
        assertEquals("{leg_timeout=3}loopback/noanswer/default", event.applicationData());
        assertEquals("_none_", event.applicationResponse());
        assertEquals("app-uuid", event.applicationUuid());
        assertEquals("NOANSWER", event.variable("DIALSTATUS"));
        assertNull(event.jobUuid());
        assertNull(event.eventSubclass());
        assertNull(event.hangupCause());
    }

    @Test
    public void hangupCauseIsParsed() {
        EslEvent hangup = EslEvent.builder().header("Hangup-Cause", "ALLOTTED_TIMEOUT").build();
        assertEquals(HangupCause.ALLOTTED_TIMEOUT, hangup.hangupCause());
        EslEvent future = EslEvent.builder().header("Hangup-Cause", "SOMETHING_NEW").build();
        assertEquals(HangupCause.UNKNOWN, future.hangupCause());
    }

    @Test
    public void bodyIsUtf8AndBytesAreCopied() {
        byte[] raw = "+OK 你好\n".getBytes(StandardCharsets.UTF_8);
        EslEvent event = EslEvent.builder().header("Event-Name", "BACKGROUND_JOB").body(raw).build();
        raw[0] = '-';
        assertEquals("+OK 你好\n", event.body());
        byte[] copy = event.bodyBytes();
        copy[0] = '-';
        assertEquals("+OK 你好\n", event.body());
        assertTrue(event.hasBody());
        assertArrayEquals("+OK 你好\n".getBytes(StandardCharsets.UTF_8), event.bodyBytes());
    }

    @Test
    public void noBodyIsEmpty() {
        EslEvent event = EslEvent.builder().header("Event-Name", "HEARTBEAT").build();
        assertFalse(event.hasBody());
        assertEquals("", event.body());
        assertEquals(0, event.bodyBytes().length);
    }

    @Test
    public void builderIsReusableAndGrows() {
        EslEvent.Builder builder = EslEvent.builder(1);
        for (int i = 0; i < 40; i++) {
            builder.header("H" + i, "v" + i);
        }
        EslEvent first = builder.build();
        EslEvent second = builder.header("Event-Name", "X").build();
        assertEquals(40, first.headerCount());
        assertEquals("v39", first.header("h39"));
        assertEquals(1, second.headerCount());
        assertNull(second.header("H0"));
    }

    @Test
    public void equalityIsByContent() {
        assertEquals(executeComplete(), executeComplete());
        assertEquals(executeComplete().hashCode(), executeComplete().hashCode());
        EslEvent withBody = EslEvent.builder().header("Event-Name", "X").body("b").build();
        EslEvent otherBody = EslEvent.builder().header("Event-Name", "X").body("c").build();
        assertNotEquals(withBody, otherBody);
    }

    @Test(expected = NullPointerException.class)
    public void nullHeaderValueIsRejected() {
        EslEvent.builder().header("Event-Name", null);
    }
}
