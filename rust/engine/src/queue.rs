//! The queue between a connection's reader task and its consumers.
//!
//! It has a soft bound (`capacity`) and a hard cap (`max_events`, `max_bytes`). Below the soft
//! bound every item is queued. At the soft bound:
//!
//! * while a command awaits its reply, items go past the bound (the "spill"), so the reply,
//!   which is behind them on the socket, is always read;
//! * otherwise [`OverflowPolicy::DropOldest`] drops the oldest droppable item (ordinary events,
//!   log lines, unknown frames) and queues the new one; a critical item (a call-ending event)
//!   that finds nothing droppable goes to the spill; [`OverflowPolicy::Block`] makes the reader
//!   wait (TCP pushes back on FreeSWITCH) until a consumer makes room or a command is sent.
//!
//! An item that would take the queue past the hard cap overloads it: the item and the rest of
//! its batch are dropped and counted, an [`Incoming::Overloaded`] notice is queued, and the
//! reader ends the connection. The engine's own notices are never dropped and never wait.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tracing::warn;

use crate::error::EslError;
use crate::proto::{DisconnectNotice, Event, Frame, LogLine};

/// Log a warning on the first drop and then once per this many.
const DROP_WARNING_EVERY: u64 = 10_000;

/// What the reader hands to consumers besides command replies.
#[derive(Debug, Clone)]
pub enum Incoming {
    /// A subscribed event.
    Event(Event),
    /// A `log/data` line.
    Log(LogLine),
    /// A disconnect or linger notice.
    Disconnect(DisconnectNotice),
    /// A frame of unknown content type.
    Unknown(Frame),
    /// The connection was lost and a reconnect policy is trying to re-establish it; commands
    /// in flight were failed. Queued only when a reconnect follows.
    Disconnected {
        /// Why the connection was lost.
        reason: String,
    },
    /// The connection was lost and re-established; events in between are missing.
    /// Subscriptions and filters were replayed (and accepted) before this was queued.
    Reconnected {
        /// Connection attempts it took.
        attempts: u32,
        /// How long there was no connection: from the loss to the replayed subscriptions.
        gap: Duration,
    },
    /// The queue reached its hard cap: the connection is closed (and reconnected if a policy
    /// allows), so every event FreeSWITCH sent after the items before this one is missing.
    Overloaded(OverloadCounts),
}

/// Counters carried by [`Incoming::Overloaded`], as they stood when the queue overloaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OverloadCounts {
    /// Ordinary items dropped on this connection so far (see [`QueueStats::dropped`]).
    pub dropped: u64,
    /// Critical events dropped on this connection so far (see [`QueueStats::critical_dropped`]).
    pub critical_dropped: u64,
    /// Items queued, waiting for consumers, when it overloaded.
    pub queued: usize,
}

/// Events whose loss would leave a caller waiting forever or with a wrong call state.
const CRITICAL_EVENTS: [&[u8]; 5] = [
    b"CHANNEL_HANGUP",
    b"CHANNEL_HANGUP_COMPLETE",
    b"CHANNEL_DESTROY",
    b"BACKGROUND_JOB",
    b"CHANNEL_EXECUTE_COMPLETE",
];

impl Incoming {
    /// About how many bytes the item holds (its frame's data); batches can be bounded by it.
    pub fn approximate_size(&self) -> usize {
        match self {
            Incoming::Event(event) => event.raw_parts().0.len(),
            Incoming::Log(line) => line.body.len(),
            Incoming::Disconnect(notice) => notice.body.len(),
            Incoming::Unknown(frame) => frame.header_block().len() + frame.body().len(),
            Incoming::Disconnected { reason } => reason.len(),
            Incoming::Reconnected { .. } | Incoming::Overloaded(_) => 0,
        }
    }

    /// Whether the drop-oldest policy may discard this item: everything but critical events
    /// and the notices.
    pub fn is_droppable(&self) -> bool {
        match self {
            Incoming::Event(event) => !event
                .header_bytes("Event-Name")
                .is_some_and(|name| CRITICAL_EVENTS.contains(&name)),
            Incoming::Log(_) | Incoming::Unknown(_) => true,
            Incoming::Disconnect(_)
            | Incoming::Disconnected { .. }
            | Incoming::Reconnected { .. }
            | Incoming::Overloaded(_) => false,
        }
    }

    /// A notice about the connection itself: always queued, whatever the bounds.
    fn is_notice(&self) -> bool {
        !matches!(
            self,
            Incoming::Event(_) | Incoming::Log(_) | Incoming::Unknown(_)
        )
    }
}

/// What to do when the event queue reaches its soft bound and no command awaits a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverflowPolicy {
    /// Stop reading until a consumer makes room or a command is sent.
    Block,
    /// Drop the oldest droppable item and count it.
    #[default]
    DropOldest,
}

/// Queue counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Items the reader put into the queue (including those dropped later).
    pub received: u64,
    /// Ordinary items (events, log lines, unknown frames) dropped: by
    /// [`OverflowPolicy::DropOldest`], or at an overload.
    pub dropped: u64,
    /// Critical events (hang-ups, job results, execute completions) dropped; only an overload
    /// drops them.
    pub critical_dropped: u64,
    /// Times the reader had to wait for room.
    pub reader_waits: u64,
    /// Items waiting now.
    pub queued: usize,
    /// About how many bytes the waiting items hold ([`Incoming::approximate_size`]).
    pub queued_bytes: usize,
    /// Most items ever waiting at once.
    pub high_water: usize,
    /// Items queued past the soft bound (while a reply was awaited, or critical ones).
    pub spilled: u64,
    /// Most items ever waiting past the soft bound.
    pub spill_high_water: usize,
    /// Times the queue reached its hard cap (each closed the connection).
    pub overloads: u64,
    /// Replies that arrived with no command waiting, or of the wrong type, and were dropped
    /// (filled in by the connection).
    pub unsolicited_replies: u64,
}

/// The queue's bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueueBounds {
    /// Where back-pressure or dropping starts.
    pub(crate) capacity: usize,
    /// The most items queued at once, spill included.
    pub(crate) max_events: usize,
    /// The most bytes ([`Incoming::approximate_size`]) queued at once, spill included.
    pub(crate) max_bytes: usize,
}

/// The queue reached its hard cap; the reader must end the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overload(pub(crate) OverloadCounts);

/// The queued items in two FIFOs, so that dropping the oldest ordinary item is O(1) however
/// many critical items wait before it; a sequence number restores the arrival order.
#[derive(Debug)]
struct Inner {
    /// Droppable items (ordinary events, log lines, unknown frames), oldest first.
    ordinary: VecDeque<(u64, Incoming)>,
    /// Critical events and notices, oldest first.
    kept: VecDeque<(u64, Incoming)>,
    /// Sequence number of the next item pushed.
    next_sequence: u64,
    /// Sum of the items' [`Incoming::approximate_size`].
    bytes: usize,
    /// Set once no more items will come; the reason is reported after the queue drains.
    closed: Option<String>,
    stats: QueueStats,
}

impl Inner {
    fn len(&self) -> usize {
        self.ordinary.len() + self.kept.len()
    }

    fn is_empty(&self) -> bool {
        self.ordinary.is_empty() && self.kept.is_empty()
    }

    fn push(&mut self, item: Incoming, capacity: usize) {
        self.bytes += item.approximate_size();
        let entry = (self.next_sequence, item);
        self.next_sequence += 1;
        if entry.1.is_droppable() {
            self.ordinary.push_back(entry);
        } else {
            self.kept.push_back(entry);
        }
        self.stats.received += 1;
        let len = self.len();
        self.stats.high_water = self.stats.high_water.max(len);
        if len > capacity {
            self.stats.spilled += 1;
            self.stats.spill_high_water = self.stats.spill_high_water.max(len - capacity);
        }
    }

    fn count_drop(&mut self, item: &Incoming) {
        if item.is_droppable() {
            self.stats.dropped += 1;
            if self.stats.dropped % DROP_WARNING_EVERY == 1 {
                warn!(
                    dropped = self.stats.dropped,
                    "event queue full; dropping oldest events"
                );
            }
        } else {
            self.stats.critical_dropped += 1;
        }
    }

    /// Drops the oldest droppable item; false when there is none.
    fn drop_oldest(&mut self) -> bool {
        let Some((_, item)) = self.ordinary.pop_front() else {
            return false;
        };
        self.bytes -= item.approximate_size();
        self.count_drop(&item);
        true
    }

    /// The FIFO holding the oldest item.
    fn oldest(&mut self) -> Option<&mut VecDeque<(u64, Incoming)>> {
        match (self.ordinary.front(), self.kept.front()) {
            (Some((ordinary, _)), Some((kept, _))) if kept < ordinary => Some(&mut self.kept),
            (Some(_), _) => Some(&mut self.ordinary),
            (None, Some(_)) => Some(&mut self.kept),
            (None, None) => None,
        }
    }

    /// Takes up to `max` items (at least one if any), in arrival order, and no more once they
    /// hold `max_bytes` ([`Incoming::approximate_size`]).
    fn take(&mut self, max: usize, max_bytes: usize) -> Vec<Incoming> {
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        while batch.len() < max.max(1) {
            let Some(queue) = self.oldest() else {
                break;
            };
            let size = queue.front().map_or(0, |(_, item)| item.approximate_size());
            if !batch.is_empty() && bytes.saturating_add(size) > max_bytes {
                break;
            }
            let Some((_, item)) = queue.pop_front() else {
                break;
            };
            bytes = bytes.saturating_add(size.max(1));
            self.bytes -= size;
            batch.push(item);
        }
        batch
    }

    fn snapshot(&self) -> QueueStats {
        QueueStats {
            queued: self.len(),
            queued_bytes: self.bytes,
            ..self.stats
        }
    }
}

/// What the reader does with the next item.
enum Placement {
    Queue,
    Drop,
    Wait,
    Overload,
}

/// Bounded multi-consumer queue with an overflow policy and a spill.
#[derive(Debug)]
pub(crate) struct EventQueue {
    inner: Mutex<Inner>,
    bounds: QueueBounds,
    policy: OverflowPolicy,
    /// A command awaits its reply: the reader must keep reading.
    reply_awaited: AtomicBool,
    not_empty: Notify,
    not_full: Notify,
}

impl EventQueue {
    pub(crate) fn new(bounds: QueueBounds, policy: OverflowPolicy) -> EventQueue {
        let max_events = bounds.max_events.max(1);
        EventQueue {
            inner: Mutex::new(Inner {
                ordinary: VecDeque::new(),
                kept: VecDeque::new(),
                next_sequence: 0,
                bytes: 0,
                closed: None,
                stats: QueueStats::default(),
            }),
            bounds: QueueBounds {
                capacity: bounds.capacity.clamp(1, max_events),
                max_events,
                max_bytes: bounds.max_bytes,
            },
            policy,
            reply_awaited: AtomicBool::new(false),
            not_empty: Notify::new(),
            not_full: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the queue inconsistent (every
        // critical section is a single VecDeque operation plus counters), so ignore poisoning.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tells the queue whether a command awaits its reply. While one does, the reader never
    /// waits for room: it spills, up to the hard cap. Setting it wakes a waiting reader.
    pub(crate) fn set_reply_awaited(&self, awaited: bool) {
        self.reply_awaited.store(awaited, Ordering::SeqCst);
        if awaited {
            self.not_full.notify_one();
        }
    }

    /// Whether a command awaits its reply.
    pub(crate) fn reply_awaited(&self) -> bool {
        self.reply_awaited.load(Ordering::SeqCst)
    }

    /// Queues one of the engine's own notices, which never waits and never overloads.
    /// Discarded after [`close`](Self::close).
    pub(crate) fn push_notice(&self, notice: Incoming) {
        debug_assert!(notice.is_notice());
        let mut inner = self.lock();
        if inner.closed.is_some() {
            return;
        }
        inner.push(notice, self.bounds.capacity);
        drop(inner);
        self.not_empty.notify_one();
    }

    /// Offers an item, waiting for room when the policy requires it. Items offered after
    /// [`close`](Self::close) are discarded.
    #[cfg(test)]
    pub(crate) async fn push(&self, item: Incoming) -> Result<(), Overload> {
        self.push_all(vec![item]).await
    }

    /// Where `item` goes; may drop the oldest droppable item to make room for it.
    fn place(&self, inner: &mut Inner, item: &Incoming) -> Placement {
        if item.is_notice() {
            return Placement::Queue;
        }
        if inner.len() >= self.bounds.capacity {
            match self.policy {
                OverflowPolicy::DropOldest => {
                    if !inner.drop_oldest() && item.is_droppable() {
                        return Placement::Drop;
                    }
                }
                OverflowPolicy::Block => {
                    if !self.reply_awaited.load(Ordering::SeqCst) {
                        return Placement::Wait;
                    }
                }
            }
        }
        if inner.len() >= self.bounds.max_events
            || inner.bytes + item.approximate_size() > self.bounds.max_bytes
        {
            return Placement::Overload;
        }
        Placement::Queue
    }

    /// Offers items in order under one lock and one wake-up, waiting for room when the
    /// policy requires it. Items offered after [`close`](Self::close) are discarded. At the
    /// hard cap, the rest of the items are dropped, an [`Incoming::Overloaded`] notice is
    /// queued and `Err` tells the reader to end the connection.
    pub(crate) async fn push_all(&self, items: Vec<Incoming>) -> Result<(), Overload> {
        let capacity = self.bounds.capacity;
        let mut items = items.into_iter().peekable();
        loop {
            let mut overload = None;
            {
                let mut inner = self.lock();
                if inner.closed.is_some() {
                    return Ok(());
                }
                while let Some(item) = items.peek() {
                    match self.place(&mut inner, item) {
                        Placement::Queue => {
                            if let Some(item) = items.next() {
                                inner.push(item, capacity);
                            }
                        }
                        Placement::Drop => {
                            if let Some(item) = items.next() {
                                inner.count_drop(&item);
                            }
                        }
                        Placement::Wait => {
                            inner.stats.reader_waits += 1;
                            break;
                        }
                        Placement::Overload => {
                            overload = Some(self.overload(&mut inner, items.by_ref()));
                            break;
                        }
                    }
                }
            }
            self.not_empty.notify_one();
            if let Some(overload) = overload {
                return Err(overload);
            }
            if items.peek().is_none() {
                return Ok(());
            }
            self.not_full.notified().await;
        }
    }

    /// Drops `rest`, counted (notices among them are still queued), and queues the overload
    /// notice.
    fn overload(&self, inner: &mut Inner, rest: impl Iterator<Item = Incoming>) -> Overload {
        let capacity = self.bounds.capacity;
        for item in rest {
            if item.is_notice() {
                inner.push(item, capacity);
            } else {
                inner.count_drop(&item);
            }
        }
        inner.stats.overloads += 1;
        let counts = OverloadCounts {
            dropped: inner.stats.dropped,
            critical_dropped: inner.stats.critical_dropped,
            queued: inner.len(),
        };
        warn!(
            queued = counts.queued,
            queued_bytes = inner.bytes,
            dropped = counts.dropped,
            critical_dropped = counts.critical_dropped,
            "event queue at its hard cap; the connection is overloaded and will be closed"
        );
        inner.push(Incoming::Overloaded(counts), capacity);
        Overload(counts)
    }

    /// Takes up to `max` items, and no more once they hold `max_bytes` (by
    /// [`Incoming::approximate_size`]; the first item is always taken), waiting up to
    /// `timeout` (forever if `None`) for the first. Returns an empty vector on timeout, and the
    /// close reason once closed and drained.
    pub(crate) async fn recv_batch(
        &self,
        max: usize,
        max_bytes: usize,
        timeout: Option<Duration>,
    ) -> Result<Vec<Incoming>, EslError> {
        let deadline = timeout.map(|timeout| tokio::time::Instant::now() + timeout);
        loop {
            // Registered before checking, so a push between the check and the wait wakes us.
            let notified = self.not_empty.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inner = self.lock();
                if !inner.is_empty() {
                    let batch = inner.take(max, max_bytes);
                    let more = !inner.is_empty();
                    drop(inner);
                    self.not_full.notify_one();
                    if more {
                        // Pass the wake-up on to another consumer.
                        self.not_empty.notify_one();
                    }
                    return Ok(batch);
                }
                if let Some(reason) = &inner.closed {
                    return Err(EslError::ConnectionClosed(reason.clone()));
                }
            }
            match deadline {
                Some(deadline) => {
                    if tokio::time::timeout_at(deadline, notified).await.is_err() {
                        return Ok(Vec::new());
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Takes one item without waiting.
    pub(crate) fn try_recv(&self) -> Result<Option<Incoming>, EslError> {
        let mut inner = self.lock();
        if let Some(item) = inner.take(1, usize::MAX).pop() {
            drop(inner);
            self.not_full.notify_one();
            return Ok(Some(item));
        }
        match &inner.closed {
            Some(reason) => Err(EslError::ConnectionClosed(reason.clone())),
            None => Ok(None),
        }
    }

    /// No more items will come; consumers drain what is left, then get `reason`.
    pub(crate) fn close(&self, reason: &str) {
        let mut inner = self.lock();
        if inner.closed.is_none() {
            inner.closed = Some(reason.to_owned());
        }
        drop(inner);
        self.not_empty.notify_waiters();
        self.not_empty.notify_one();
        self.not_full.notify_waiters();
        self.not_full.notify_one();
    }

    pub(crate) fn stats(&self) -> QueueStats {
        self.lock().snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str) -> Incoming {
        Incoming::Event(Event::from_pairs(
            [("Event-Name", name)],
            None,
            crate::proto::EventFormat::Plain,
        ))
    }

    fn bounds(capacity: usize, max_events: usize) -> QueueBounds {
        QueueBounds {
            capacity,
            max_events,
            max_bytes: usize::MAX,
        }
    }

    fn names(batch: &[Incoming]) -> Vec<String> {
        batch
            .iter()
            .map(|item| match item {
                Incoming::Event(event) => event.name().unwrap_or_default().into_owned(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    async fn push(queue: &EventQueue, names: &[&str]) {
        queue
            .push_all(names.iter().map(|name| event(name)).collect())
            .await
            .expect("below the hard cap");
    }

    #[tokio::test]
    async fn drop_oldest_keeps_events_that_end_something() {
        let queue = EventQueue::new(bounds(2, 100), OverflowPolicy::DropOldest);
        push(&queue, &["CHANNEL_HANGUP", "HEARTBEAT", "CHANNEL_STATE"]).await;
        let batch = queue.recv_batch(10, usize::MAX, None).await.expect("open");
        assert_eq!(names(&batch), vec!["CHANNEL_HANGUP", "CHANNEL_STATE"]);
        let stats = queue.stats();
        assert_eq!((stats.received, stats.dropped, stats.queued), (3, 1, 0));
    }

    #[tokio::test]
    async fn critical_events_spill_past_the_soft_bound_and_ordinary_ones_are_dropped() {
        let queue = EventQueue::new(bounds(2, 100), OverflowPolicy::DropOldest);
        push(
            &queue,
            &[
                "CHANNEL_HANGUP",
                "CHANNEL_DESTROY",
                "HEARTBEAT",
                "BACKGROUND_JOB",
                "CHANNEL_EXECUTE_COMPLETE",
                "CHANNEL_STATE",
            ],
        )
        .await;
        let batch = queue.recv_batch(10, usize::MAX, None).await.expect("open");
        assert_eq!(
            names(&batch),
            vec![
                "CHANNEL_HANGUP",
                "CHANNEL_DESTROY",
                "BACKGROUND_JOB",
                "CHANNEL_EXECUTE_COMPLETE"
            ]
        );
        let stats = queue.stats();
        assert_eq!((stats.dropped, stats.critical_dropped), (2, 0));
        assert_eq!((stats.spilled, stats.spill_high_water), (2, 2));
    }

    #[tokio::test]
    async fn ordinary_and_kept_items_come_out_in_arrival_order() {
        let queue = EventQueue::new(bounds(100, 100), OverflowPolicy::DropOldest);
        queue
            .push_all(vec![
                event("A"),
                event("CHANNEL_HANGUP"),
                event("B"),
                Incoming::Disconnected {
                    reason: "lost".into(),
                },
                event("C"),
            ])
            .await
            .expect("below the cap");
        let first = queue.recv_batch(2, usize::MAX, None).await.expect("open");
        let rest = queue.recv_batch(10, usize::MAX, None).await.expect("open");
        assert_eq!(names(&first), vec!["A", "CHANNEL_HANGUP"]);
        assert_eq!(names(&rest)[0], "B");
        assert!(matches!(rest[1], Incoming::Disconnected { .. }));
        assert_eq!(names(&rest[2..]), vec!["C"]);
    }

    #[tokio::test]
    async fn block_policy_waits_for_room() {
        let queue = std::sync::Arc::new(EventQueue::new(bounds(1, 100), OverflowPolicy::Block));
        push(&queue, &["A"]).await;
        let producer = {
            let queue = queue.clone();
            tokio::spawn(async move { queue.push(event("B")).await })
        };
        let first = queue.recv_batch(1, usize::MAX, None).await.expect("open");
        assert_eq!(names(&first), vec!["A"]);
        tokio::time::timeout(Duration::from_secs(5), producer)
            .await
            .expect("producer unblocked")
            .expect("no panic")
            .expect("below the cap");
        let second = queue.recv_batch(1, usize::MAX, None).await.expect("open");
        assert_eq!(names(&second), vec!["B"]);
        assert_eq!(queue.stats().dropped, 0);
    }

    #[tokio::test]
    async fn an_awaited_reply_lets_a_blocked_reader_spill() {
        let queue = std::sync::Arc::new(EventQueue::new(bounds(1, 100), OverflowPolicy::Block));
        push(&queue, &["A"]).await;
        let producer = {
            let queue = queue.clone();
            tokio::spawn(async move { queue.push_all(vec![event("B"), event("C")]).await })
        };
        // Nobody consumes: only the awaited reply can release the reader.
        queue.set_reply_awaited(true);
        tokio::time::timeout(Duration::from_secs(5), producer)
            .await
            .expect("reader released by the awaited reply")
            .expect("no panic")
            .expect("below the cap");
        let stats = queue.stats();
        assert_eq!((stats.queued, stats.spilled, stats.dropped), (3, 2, 0));
    }

    #[tokio::test]
    async fn the_hard_cap_overloads_with_counts_and_a_notice() {
        let queue = EventQueue::new(bounds(1, 3), OverflowPolicy::DropOldest);
        let outcome = queue
            .push_all(
                [
                    "CHANNEL_HANGUP",
                    "CHANNEL_HANGUP",
                    "CHANNEL_HANGUP",
                    "CHANNEL_HANGUP",
                    "HEARTBEAT",
                ]
                .iter()
                .map(|name| event(name))
                .chain([Incoming::Disconnected {
                    reason: "lost".into(),
                }])
                .collect(),
            )
            .await;
        let counts = OverloadCounts {
            dropped: 1,
            critical_dropped: 1,
            queued: 4,
        };
        assert_eq!(outcome, Err(Overload(counts)));
        let batch = queue.recv_batch(10, usize::MAX, None).await.expect("open");
        assert_eq!(batch.len(), 5);
        assert!(matches!(batch[3], Incoming::Disconnected { .. }));
        assert!(matches!(batch[4], Incoming::Overloaded(c) if c == counts));
        let stats = queue.stats();
        assert_eq!((stats.overloads, stats.critical_dropped), (1, 1));
    }

    #[tokio::test]
    async fn the_byte_cap_counts_too() {
        let one = event("CHANNEL_HANGUP").approximate_size();
        let queue = EventQueue::new(
            QueueBounds {
                capacity: 1,
                max_events: 100,
                max_bytes: 2 * one,
            },
            OverflowPolicy::DropOldest,
        );
        push(&queue, &["CHANNEL_HANGUP", "CHANNEL_HANGUP"]).await;
        assert!(queue.push(event("CHANNEL_HANGUP")).await.is_err());
        assert_eq!(queue.stats().queued_bytes, 2 * one);
    }

    #[tokio::test]
    async fn notices_never_wait() {
        let queue = EventQueue::new(bounds(1, 1), OverflowPolicy::Block);
        push(&queue, &["A"]).await;
        let notice = Incoming::Disconnected {
            reason: "lost".into(),
        };
        tokio::time::timeout(Duration::from_secs(5), queue.push(notice))
            .await
            .expect("a notice never waits")
            .expect("a notice never overloads");
        assert_eq!(queue.stats().queued, 2);
    }

    #[tokio::test]
    async fn close_drains_then_reports_reason() {
        let queue = EventQueue::new(bounds(4, 100), OverflowPolicy::Block);
        push(&queue, &["A"]).await;
        queue.close("bye");
        assert_eq!(
            queue.try_recv().expect("item").map(|i| names(&[i])),
            Some(vec!["A".to_owned()])
        );
        let error = queue
            .recv_batch(1, usize::MAX, None)
            .await
            .expect_err("closed");
        assert!(error.to_string().contains("bye"));
        assert!(queue
            .recv_batch(1, usize::MAX, Some(Duration::from_millis(1)))
            .await
            .is_err());
    }

    #[tokio::test]
    async fn batches_stop_at_the_byte_limit_but_take_at_least_one() {
        let queue = EventQueue::new(bounds(8, 100), OverflowPolicy::Block);
        push(&queue, &["A", "B", "C"]).await;
        let one = event("A").approximate_size();
        let first = queue.recv_batch(10, 2 * one, None).await.expect("open");
        assert_eq!(names(&first), vec!["A", "B"]);
        let second = queue.recv_batch(10, 1, None).await.expect("open");
        assert_eq!(names(&second), vec!["C"]);
        assert_eq!(queue.stats().queued_bytes, 0);
    }

    #[tokio::test]
    async fn recv_times_out_empty() {
        let queue = EventQueue::new(bounds(4, 100), OverflowPolicy::Block);
        let batch = queue
            .recv_batch(1, usize::MAX, Some(Duration::from_millis(10)))
            .await
            .expect("open");
        assert!(batch.is_empty());
    }
}
