package org.esl4j.kafka;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import org.esl4j.EslEvent;
import org.junit.Test;

/** Where a relay taking a node over starts in the events this instance held. */
public class NodeLogTest {
    private static EslEvent event(String core, long sequence) {
        return EslEvent.builder().header("Event-Name", "CUSTOM").header("Core-UUID", core)
                .header("Event-Sequence", Long.toString(sequence)).build();
    }

    private static NodeLog holding(int capacity, String core, long from, long to) {
        NodeLog log = new NodeLog(capacity);
        for (long sequence = from; sequence <= to; sequence++) {
            log.append(event(core, sequence));
        }
        return log;
    }

    @Test
    public void theFirstRelayPublishesEverythingHeld() {
        NodeLog log = holding(100, "c1", 1, 10);
        assertEquals(0, log.resume(null, -1, 3).position);
    }

    @Test
    public void aNewRelayStartsAfterTheLastRecordLessTheMargin() {
        NodeLog log = holding(100, "c1", 1, 10);
        NodeLog.Resume resume = log.resume("c1", 6, 2);
        assertEquals("#7 is at position 6, less 2", 4, resume.position);
        assertEquals(0, resume.possiblyMissed);
        assertEquals("caught up: from after the last held event, less the margin", 8, log.resume("c1", 10, 2).position);
    }

    @Test
    public void eventsOlderThanTheRingAreReportedAsPossiblyMissed() {
        NodeLog log = holding(5, "c1", 1, 20); // holds #16..#20
        assertEquals(15, log.oldest());
        assertNull("overwritten", log.at(14));
        NodeLog.Resume resume = log.resume("c1", 10, 2);
        assertEquals(15, resume.position);
        assertEquals("#11..#15 were never held here", 5, resume.possiblyMissed);
    }

    @Test
    public void aRestartedFreeSwitchIsPublishedFromTheOldestHeldEvent() {
        NodeLog log = holding(100, "c2", 1, 5);
        NodeLog.Resume resume = log.resume("c1", 900, 0);
        assertEquals(0, resume.position);
        assertEquals(0, resume.possiblyMissed);
    }

    @Test
    public void eventsReceivedOutOfSequenceOrderAreCoveredByTheMargin() {
        NodeLog log = new NodeLog(100);
        for (long sequence : new long[] {1, 2, 4, 3, 5, 6}) {
            log.append(event("c1", sequence));
        }
        // The old relay recorded #3; #4 arrived here before #3: it starts at #4's position.
        assertEquals(2, log.resume("c1", 3, 0).position);
    }
}
