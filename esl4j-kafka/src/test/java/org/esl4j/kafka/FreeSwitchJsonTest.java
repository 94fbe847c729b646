package org.esl4j.kafka;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.esl4j.EslEvent;
import org.junit.Test;

public class FreeSwitchJsonTest {
    private static String text(EslEvent event) {
        return new String(FreeSwitchJson.write(event), StandardCharsets.UTF_8);
    }

    private static EslEvent read(String json) {
        return FreeSwitchJson.read(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    public void writesTheLayoutOfSwitchEventSerializeJson() {
        EslEvent job = EslEvent.builder().header("Event-Name", "BACKGROUND_JOB").header("Job-UUID", "j1")
                .header("Job-Command", "originate").body("+OK 7f4de4bc\n").build();
        assertEquals("{\"Event-Name\":\"BACKGROUND_JOB\",\"Job-UUID\":\"j1\",\"Job-Command\":\"originate\","
                + "\"Content-Length\":\"13\",\"_body\":\"+OK 7f4de4bc\\n\"}", text(job));
    }

    @Test
    public void aMultiValueHeaderIsAnArray() {
        EslEvent event = EslEvent.builder().header("Event-Name", "CUSTOM").header("variable_list", "a")
                .header("Other", "x").header("variable_list", "b").build();
        assertEquals("{\"Event-Name\":\"CUSTOM\",\"variable_list\":[\"a\",\"b\"],\"Other\":\"x\"}", text(event));
        assertEquals(List.of("a", "b"), read(text(event)).headerValues("variable_list"));
    }

    @Test
    public void escapesAndUnicodeSurviveTheRoundTrip() {
        String value = "quote \" backslash \\ tab \t line \n bell \u0007 caf\u00e9 \u4e2d";
        EslEvent event = EslEvent.builder().header("Event-Name", "CUSTOM").header("Text", value).build();
        assertEquals("{\"Event-Name\":\"CUSTOM\",\"Text\":\"quote \\\" backslash \\\\ tab \\t line \\n bell \\u0007 caf\u00e9 \u4e2d\"}",
                text(event));
        EslEvent back = read(text(event));
        assertEquals(value, back.header("Text"));
        assertEquals(event.headers(), back.headers());
    }

    @Test
    public void readsTheFormattedLayoutOfOlderFreeSwitch() {
        // cJSON_Print, as FreeSWITCH 1.6 wrote it: tabs, a member a line.
        EslEvent event = read("{\n\t\"Event-Name\":\t\"HEARTBEAT\",\n\t\"Core-UUID\":\t\"c1\",\n\t\"Event-Sequence\":\t\"42\",\n"
                + "\t\"Content-Length\":\t\"2\",\n\t\"_body\":\t\"ok\"\n}");
        assertEquals("HEARTBEAT", event.eventName());
        assertEquals("42", event.header("Event-Sequence"));
        assertEquals("ok", event.body());
        assertEquals("2", event.header("Content-Length"));
    }

    @Test
    public void refusesWhatIsNotAnEventObject() {
        for (String bad : new String[] {"", "[]", "{\"a\":1}", "{\"a\":\"b\"", "{\"a\":\"b\"} x", "{\"a\":\"\\q\"}", "{\"a\":[\"b\",2]}"}) {
            assertThrows(bad, IllegalArgumentException.class, () -> read(bad));
        }
    }

    @Test
    public void aCallsEventsShareTheirKey() {
        EslEvent leg = EslEvent.builder().header("Event-Name", "CHANNEL_ANSWER").header("Unique-ID", "b-leg")
                .header("Channel-Call-UUID", "a-leg").build();
        EslEvent bare = EslEvent.builder().header("Event-Name", "CHANNEL_CREATE").header("Unique-ID", "a-leg").build();
        EslEvent originated = EslEvent.builder().header("Event-Name", "BACKGROUND_JOB").header("Job-UUID", "j1")
                .header("Job-Command", "originate").body("+OK a-leg\n").build();
        EslEvent job = EslEvent.builder().header("Event-Name", "BACKGROUND_JOB").header("Job-UUID", "j2")
                .header("Job-Command", "status").body("UP 0 years").build();
        EslEvent heartbeat = EslEvent.builder().header("Event-Name", "HEARTBEAT").build();
        assertEquals("a-leg", EventRecords.keyOf("fs1", leg));
        assertEquals("a-leg", EventRecords.keyOf("fs1", bare));
        assertEquals("a-leg", EventRecords.keyOf("fs1", originated));
        assertEquals("j2", EventRecords.keyOf("fs1", job));
        assertEquals("fs1", EventRecords.keyOf("fs1", heartbeat));
    }
}
