package org.esl4j.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import org.junit.Test;

/** The call map on its own: ownership, counts per node, confirmation, the cap. */
public class CallRegistryTest {
    @Test
    public void legsOfAnOriginateCountUntilSettledAndOnlyConfirmedOnesStay() {
        CallRegistry calls = new CallRegistry(100);
        calls.expect(Arrays.asList("leg1", "leg2", "leg3"), "a");
        assertEquals(3, calls.channels("a"));
        assertEquals("a", calls.ownerOf("leg2"));
        calls.created("leg2", "a");
        calls.dropUnconfirmed(Arrays.asList("leg1", "leg2", "leg3"), "a");
        assertEquals(1, calls.channels("a"));
        assertEquals("a", calls.ownerOf("leg2"));
        assertNull(calls.ownerOf("leg1"));
        calls.created("leg1", "a"); // a late CHANNEL_CREATE brings it back
        assertEquals(2, calls.channels("a"));
    }

    @Test
    public void aHangupOfAnotherNodeLeavesTheEntryAlone() {
        CallRegistry calls = new CallRegistry(100);
        calls.created("u", "a");
        calls.hungUp("u", "b");
        assertEquals("a", calls.ownerOf("u"));
        calls.hungUp("u", "a");
        assertNull(calls.ownerOf("u"));
        assertEquals(0, calls.channels("a"));
        assertEquals(0, calls.size());
    }

    @Test
    public void aUuidSeenOnAnotherNodeMovesThereWithItsCount() {
        CallRegistry calls = new CallRegistry(100);
        calls.expect(Collections.singletonList("u"), "a");
        calls.created("u", "b");
        assertEquals("b", calls.ownerOf("u"));
        assertEquals(0, calls.channels("a"));
        assertEquals(1, calls.channels("b"));
    }

    @Test
    public void beyondTheCapTheOldestEntriesGoAndTheirNodesCountsFollow() {
        CallRegistry calls = new CallRegistry(2);
        calls.created("first", "a");
        calls.created("second", "b");
        calls.created("first", "a"); // seen again: keeps its place, no double count
        calls.created("third", "b");
        assertEquals(2, calls.size());
        assertNull(calls.ownerOf("first"));
        assertEquals(0, calls.channels("a"));
        assertEquals(2, calls.channels("b"));
    }

    @Test
    public void aReconcileDropsOldCallsMissingFromTheListAndAddsListedOnes() {
        CallRegistry calls = new CallRegistry(100);
        calls.created("ended-in-gap", "a");
        calls.created("still-up", "a");
        calls.created("other-node", "b");
        calls.expect(Collections.singletonList("ringing"), "a");
        long asOf = calls.version();
        calls.created("newer-than-list", "a");
        calls.created("hung-up-after-list", "a");
        calls.hungUp("hung-up-after-list", "a");
        calls.reconcile("a", new HashSet<>(Arrays.asList("still-up", "started-in-gap", "hung-up-after-list")), asOf);
        assertNull(calls.ownerOf("ended-in-gap"));
        assertEquals("a", calls.ownerOf("still-up"));
        assertEquals("a", calls.ownerOf("started-in-gap"));
        assertEquals("a", calls.ownerOf("newer-than-list"));
        assertEquals("unconfirmed legs wait for their originate", "a", calls.ownerOf("ringing"));
        assertNull("a hang-up newer than the list wins", calls.ownerOf("hung-up-after-list"));
        assertEquals("b", calls.ownerOf("other-node"));
        assertEquals(4, calls.channels("a"));
    }
}
