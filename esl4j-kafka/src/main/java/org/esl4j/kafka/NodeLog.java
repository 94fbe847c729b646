package org.esl4j.kafka;

import java.util.concurrent.TimeUnit;
import org.esl4j.EslEvent;

/**
 * The recent events of one FreeSWITCH node, in the order this instance received them: a ring of
 * a fixed number of events that every instance keeps for every node, relaying or not, so that
 * the instance that takes a node over can publish what the previous relay had not. Positions
 * count every event ever appended; the ring holds the last {@code capacity} of them.
 */
final class NodeLog {
    /** One received event with the two headers the hand-over reads. */
    static final class Entry {
        final EslEvent event;
        /** Core-UUID, or "" when the event has none. */
        final String core;
        /** Event-Sequence, or -1 when the event has none (or an unreadable one). */
        final long sequence;

        Entry(EslEvent event) {
            this.event = event;
            String coreUuid = event.header(EventRecords.CORE_UUID_HEADER);
            this.core = coreUuid == null ? "" : coreUuid;
            this.sequence = parseSequence(event.header(EventRecords.SEQUENCE_HEADER));
        }

        boolean follows(String otherCore, long otherSequence) {
            return core.equals(otherCore) && sequence > otherSequence;
        }
    }

    /** Where a new relay starts and how many events may be missing before it. */
    static final class Resume {
        final long position;
        /** Event-Sequence numbers between the last published event and the oldest held one. */
        final long possiblyMissed;

        Resume(long position, long possiblyMissed) {
            this.position = position;
            this.possiblyMissed = possiblyMissed;
        }
    }

    private final Entry[] ring;
    /** Position of the next event appended. */
    private long next;

    NodeLog(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        }
        this.ring = new Entry[capacity];
    }

    static long parseSequence(String text) {
        if (text == null) {
            return -1;
        }
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException unreadable) {
            return -1;
        }
    }

    synchronized void append(EslEvent event) {
        ring[(int) (next % ring.length)] = new Entry(event);
        next++;
        notifyAll();
    }

    /** The oldest position still held. */
    synchronized long oldest() {
        return Math.max(0, next - ring.length);
    }

    /** The event at a position, or null when it was overwritten (or not yet appended). */
    synchronized Entry at(long position) {
        if (position < oldest() || position >= next) {
            return null;
        }
        return ring[(int) (position % ring.length)];
    }

    /**
     * Waits until an event past {@code position} is appended.
     *
     * @return the position of the next event to be appended (greater than {@code position} when one came)
     */
    synchronized long awaitBeyond(long position, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (next <= position) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return next;
    }

    /**
     * Where a relay taking the node over starts, given the last event the previous relay
     * recorded as published: at the first held event after it, less {@code margin} events,
     * because this instance received the events of different channels in a slightly different
     * order than the previous relay did (the duplicates this republishes are removed by the
     * consumers). Without a record (the first relay ever), or when this FreeSWITCH has restarted
     * since (another Core-UUID), every held event is published.
     */
    synchronized Resume resume(String core, long sequence, int margin) {
        long oldest = oldest();
        if (core == null) {
            return new Resume(oldest, 0);
        }
        long firstAfter = -1;
        long afterLastCovered = -1;
        long lowestOfCore = Long.MAX_VALUE;
        for (long position = oldest; position < next; position++) {
            Entry entry = ring[(int) (position % ring.length)];
            if (!entry.core.equals(core) || entry.sequence < 0) {
                continue;
            }
            lowestOfCore = Math.min(lowestOfCore, entry.sequence);
            if (entry.sequence > sequence) {
                if (firstAfter < 0) {
                    firstAfter = position;
                }
            } else {
                afterLastCovered = position + 1;
            }
        }
        if (firstAfter < 0 && afterLastCovered < 0) {
            // Nothing of that FreeSWITCH run is held: it restarted, or no event came yet.
            return new Resume(oldest, 0);
        }
        long start = firstAfter >= 0 ? firstAfter : afterLastCovered;
        long missed = afterLastCovered < 0 ? Math.max(0, lowestOfCore - sequence - 1) : 0;
        return new Resume(Math.max(oldest, start - margin), missed);
    }
}
