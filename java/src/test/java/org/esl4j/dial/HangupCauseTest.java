package org.esl4j.dial;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.Test;

public class HangupCauseTest {
    @Test
    public void codesAreUniqueAndRoundTrip() {
        Set<Integer> codes = new HashSet<>();
        for (HangupCause cause : HangupCause.values()) {
            assertTrue("duplicate code " + cause.code(), codes.add(cause.code()));
            assertEquals(cause, HangupCause.fromCode(cause.code()));
            assertEquals(cause, HangupCause.fromName(cause.name()));
        }
        assertEquals(83, HangupCause.values().length);
    }

    @Test
    public void wellKnownCodes() {
        assertEquals(16, HangupCause.NORMAL_CLEARING.code());
        assertEquals(17, HangupCause.USER_BUSY.code());
        assertEquals(19, HangupCause.NO_ANSWER.code());
        assertEquals(487, HangupCause.ORIGINATOR_CANCEL.code());
        assertEquals(802, HangupCause.ALLOTTED_TIMEOUT.code());
        assertEquals(807, HangupCause.PROGRESS_TIMEOUT.code());
        assertEquals(825, HangupCause.REJECT_ALL.code());
    }

    @Test
    public void parsingIsLenient() {
        assertEquals(HangupCause.NO_ANSWER, HangupCause.fromName(" no_answer\n"));
        assertEquals(HangupCause.NO_ANSWER, HangupCause.fromName("SWITCH_CAUSE_NO_ANSWER"));
        assertEquals(HangupCause.UNKNOWN, HangupCause.fromName("NOT_A_CAUSE"));
        assertEquals(HangupCause.UNKNOWN, HangupCause.fromCode(9999));
        assertNull(HangupCause.fromName(null));
    }

    @Test
    public void noAnswerGroup() {
        assertTrue(HangupCause.NO_ANSWER.isNoAnswer());
        assertTrue(HangupCause.NO_USER_RESPONSE.isNoAnswer());
        assertTrue(HangupCause.ALLOTTED_TIMEOUT.isNoAnswer());
        assertTrue(HangupCause.PROGRESS_TIMEOUT.isNoAnswer());
        assertFalse(HangupCause.USER_BUSY.isNoAnswer());
        assertFalse(HangupCause.NORMAL_CLEARING.isNoAnswer());
    }
}
