package org.esl4j.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

import org.esl4j.EslConnectionClosedException;
import org.esl4j.EslEvent;
import org.junit.Test;

public class EventInboxTest {
    private static final byte[] EMPTY = new byte[4];

    /** A source that gives {@code answers} in turn (a batch, or an exception to throw), then null. */
    private static EventInbox inbox(Deque<Object> answers) {
        return new EventInbox(timeoutMs -> {
            Object next = answers.poll();
            if (next instanceof RuntimeException) {
                throw (RuntimeException) next;
            }
            return (byte[]) next;
        });
    }

    private static byte[] oneEvent() {
        return FrameCodec.encodeSingle(EslEvent.builder().header("Event-Name", "HEARTBEAT").build());
    }

    @Test
    public void batchesThenTheEndForGood() {
        EventInbox inbox = inbox(new ArrayDeque<>(Arrays.<Object>asList(EMPTY, oneEvent())));
        assertEquals(0, inbox.take(0).size());
        FrameCodec.Batch batch = inbox.take(0);
        assertEquals(FrameCodec.KIND_EVENT, batch.kind(0));
        assertEquals("HEARTBEAT", batch.item(0).eventName());
        assertFalse(inbox.ended());
        assertNull("the source ended (null)", inbox.take(0));
        assertTrue(inbox.ended());
        assertNull(inbox.take(0));
    }

    @Test
    public void aClosedSourceOrAMalformedBatchEndsTheInbox() {
        EventInbox closed = inbox(new ArrayDeque<>(Arrays.<Object>asList(
                new EslConnectionClosedException("closed"), oneEvent())));
        assertNull(closed.take(0));
        assertNull("never asks the source again", closed.take(0));
        byte[] truncated = Arrays.copyOf(oneEvent(), 10);
        EventInbox malformed = inbox(new ArrayDeque<>(Arrays.<Object>asList(truncated, oneEvent())));
        assertNull(malformed.take(0));
        assertTrue(malformed.ended());
    }
}
