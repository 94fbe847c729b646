//! The bounded queue between a connection's reader task and its consumers.
//!
//! When the queue is full the reader either waits ([`OverflowPolicy::Block`], which stops
//! reading the socket and lets TCP push back on FreeSWITCH) or drops the oldest droppable
//! item ([`OverflowPolicy::DropOldest`]). Items that end something (hang-ups, job results,
//! execute completions, disconnect and gap notices) are never dropped; if nothing droppable
//! is left the reader waits, so memory stays bounded either way.

use std::collections::VecDeque;
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
}

/// Events whose loss would leave a caller waiting forever or with a wrong call state.
const NEVER_DROPPED: [&[u8]; 4] = [
    b"CHANNEL_HANGUP",
    b"CHANNEL_HANGUP_COMPLETE",
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
            Incoming::Reconnected { .. } => 0,
        }
    }

    /// Whether the drop-oldest policy may discard this item.
    pub fn is_droppable(&self) -> bool {
        match self {
            Incoming::Event(event) => !event
                .header_bytes("Event-Name")
                .is_some_and(|name| NEVER_DROPPED.contains(&name)),
            Incoming::Log(_) | Incoming::Unknown(_) => true,
            Incoming::Disconnect(_)
            | Incoming::Disconnected { .. }
            | Incoming::Reconnected { .. } => false,
        }
    }
}

/// What to do when the event queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverflowPolicy {
    /// Stop reading until a consumer makes room (replies wait too).
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
    /// Items dropped by [`OverflowPolicy::DropOldest`].
    pub dropped: u64,
    /// Times the reader had to wait for room.
    pub reader_waits: u64,
    /// Items waiting now.
    pub queued: usize,
    /// Most items ever waiting at once.
    pub high_water: usize,
}

#[derive(Debug)]
struct Inner {
    items: VecDeque<Incoming>,
    /// Set once no more items will come; the reason is reported after the queue drains.
    closed: Option<String>,
    stats: QueueStats,
}

/// Bounded multi-consumer queue with an overflow policy.
#[derive(Debug)]
pub(crate) struct EventQueue {
    inner: Mutex<Inner>,
    capacity: usize,
    policy: OverflowPolicy,
    not_empty: Notify,
    not_full: Notify,
}

impl EventQueue {
    pub(crate) fn new(capacity: usize, policy: OverflowPolicy) -> EventQueue {
        EventQueue {
            inner: Mutex::new(Inner {
                items: VecDeque::new(),
                closed: None,
                stats: QueueStats::default(),
            }),
            capacity: capacity.max(1),
            policy,
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

    /// Offers an item, waiting for room when the policy requires it. Items offered after
    /// [`close`](Self::close) are discarded.
    #[cfg(test)]
    pub(crate) async fn push(&self, item: Incoming) {
        self.push_all(vec![item]).await;
    }

    /// Offers items in order under one lock and one wake-up, waiting for room when the
    /// policy requires it. Items offered after [`close`](Self::close) are discarded.
    pub(crate) async fn push_all(&self, items: Vec<Incoming>) {
        let mut items = items.into_iter().peekable();
        loop {
            {
                let mut inner = self.lock();
                if inner.closed.is_some() {
                    return;
                }
                while items.peek().is_some() {
                    if inner.items.len() >= self.capacity {
                        let droppable = (self.policy == OverflowPolicy::DropOldest)
                            .then(|| inner.items.iter().position(Incoming::is_droppable))
                            .flatten();
                        let Some(oldest) = droppable else {
                            break;
                        };
                        inner.items.remove(oldest);
                        inner.stats.dropped += 1;
                        if inner.stats.dropped % DROP_WARNING_EVERY == 1 {
                            warn!(
                                dropped = inner.stats.dropped,
                                "event queue full; dropping oldest events"
                            );
                        }
                    }
                    if let Some(item) = items.next() {
                        inner.items.push_back(item);
                        inner.stats.received += 1;
                    }
                }
                inner.stats.queued = inner.items.len();
                inner.stats.high_water = inner.stats.high_water.max(inner.items.len());
                if items.peek().is_some() {
                    inner.stats.reader_waits += 1;
                }
            }
            self.not_empty.notify_one();
            if items.peek().is_none() {
                return;
            }
            self.not_full.notified().await;
        }
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
                if !inner.items.is_empty() {
                    let mut bytes = 0usize;
                    let take = inner
                        .items
                        .iter()
                        .take(max.max(1))
                        .take_while(|item| {
                            let fits = bytes == 0 || bytes + item.approximate_size() <= max_bytes;
                            bytes = bytes.saturating_add(item.approximate_size().max(1));
                            fits
                        })
                        .count();
                    let batch: Vec<Incoming> = inner.items.drain(..take).collect();
                    inner.stats.queued = inner.items.len();
                    let more = !inner.items.is_empty();
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
        match inner.items.pop_front() {
            Some(item) => {
                inner.stats.queued = inner.items.len();
                drop(inner);
                self.not_full.notify_one();
                Ok(Some(item))
            }
            None => match &inner.closed {
                Some(reason) => Err(EslError::ConnectionClosed(reason.clone())),
                None => Ok(None),
            },
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
        self.lock().stats
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

    fn names(batch: &[Incoming]) -> Vec<String> {
        batch
            .iter()
            .map(|item| match item {
                Incoming::Event(event) => event.name().unwrap_or_default().into_owned(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[tokio::test]
    async fn drop_oldest_keeps_events_that_end_something() {
        let queue = EventQueue::new(2, OverflowPolicy::DropOldest);
        queue.push(event("CHANNEL_HANGUP")).await;
        queue.push(event("HEARTBEAT")).await;
        queue.push(event("CHANNEL_STATE")).await;
        let batch = queue.recv_batch(10, usize::MAX, None).await.expect("open");
        assert_eq!(names(&batch), vec!["CHANNEL_HANGUP", "CHANNEL_STATE"]);
        let stats = queue.stats();
        assert_eq!((stats.received, stats.dropped, stats.queued), (3, 1, 0));
    }

    #[tokio::test]
    async fn block_policy_waits_for_room() {
        let queue = std::sync::Arc::new(EventQueue::new(1, OverflowPolicy::Block));
        queue.push(event("A")).await;
        let producer = {
            let queue = queue.clone();
            tokio::spawn(async move { queue.push(event("B")).await })
        };
        let first = queue.recv_batch(1, usize::MAX, None).await.expect("open");
        assert_eq!(names(&first), vec!["A"]);
        tokio::time::timeout(Duration::from_secs(5), producer)
            .await
            .expect("producer unblocked")
            .expect("no panic");
        let second = queue.recv_batch(1, usize::MAX, None).await.expect("open");
        assert_eq!(names(&second), vec!["B"]);
        assert_eq!(queue.stats().dropped, 0);
    }

    #[tokio::test]
    async fn close_drains_then_reports_reason() {
        let queue = EventQueue::new(4, OverflowPolicy::Block);
        queue.push(event("A")).await;
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
        let queue = EventQueue::new(8, OverflowPolicy::Block);
        for name in ["A", "B", "C"] {
            queue.push(event(name)).await;
        }
        let one = match &event("A") {
            Incoming::Event(e) => e.raw_parts().0.len(),
            _ => unreachable!("an event"),
        };
        let first = queue.recv_batch(10, 2 * one, None).await.expect("open");
        assert_eq!(names(&first), vec!["A", "B"]);
        let second = queue.recv_batch(10, 1, None).await.expect("open");
        assert_eq!(names(&second), vec!["C"]);
    }

    #[tokio::test]
    async fn recv_times_out_empty() {
        let queue = EventQueue::new(4, OverflowPolicy::Block);
        let batch = queue
            .recv_batch(1, usize::MAX, Some(Duration::from_millis(10)))
            .await
            .expect("open");
        assert!(batch.is_empty());
    }
}
