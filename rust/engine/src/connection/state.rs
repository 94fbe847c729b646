//! What a connection knows between frames: replies awaited, jobs, executions, the
//! subscription record, and the routing of each server message to them.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tracing::{debug, warn};

use super::direct::ReadSide;
use super::{ConnectionConfig, Gap, Response};
use crate::error::EslError;
use crate::log_limit::LogLimit;
use crate::outbox::Outbox;
use crate::proto::{Disposition, Event, ServerMessage};
use crate::queue::{EventQueue, Incoming, OverloadCounts};

pub(super) type ReplySlot = oneshot::Sender<Result<Response, EslError>>;
pub(super) type ReplyReceiver = oneshot::Receiver<Result<Response, EslError>>;

/// A reply slot dropped without an answer: its connection ended.
pub(super) fn reply_slot_dropped() -> EslError {
    EslError::ConnectionClosed("connection ended".to_owned())
}

/// A command waiting for its reply, and which reply fits it.
#[derive(Debug)]
pub(super) struct PendingReply {
    /// `api`: an `api/response`, or a `command/reply` (`-ERR permission denied`). Every
    /// other command: a `command/reply` only.
    pub(super) api: bool,
    pub(super) slot: ReplySlot,
}

impl PendingReply {
    pub(super) fn fits(&self, response: &Response) -> bool {
        self.api || matches!(response, Response::Reply(_))
    }
}
pub(super) type EventSlot = oneshot::Sender<Result<Event, EslError>>;

#[derive(Debug)]
pub(super) struct ExecutionWaiter {
    pub(super) channel: Option<String>,
    pub(super) slot: EventSlot,
}

/// How a successful subscription command changes the list replayed after a reconnect.
#[derive(Debug, Clone, Copy)]
pub(super) enum Replay {
    Append,
    ClearEvents,
    ClearFilters,
    ClearLog,
}

const MAX_REPLAY_ENTRIES: usize = 4096;

/// Command timeouts in a row, with no reply in between, after which the connection is
/// declared broken.
const BROKEN_AFTER_TIMEOUTS: u32 = 3;

/// Log an unsolicited reply the first time and then once per this many.
const UNSOLICITED_WARNING_EVERY: u64 = 1_000;

/// Why a socket's reader stopped.
#[derive(Debug, Clone)]
pub(super) struct Ended {
    pub(super) reason: String,
    /// The event queue reached its hard cap: pending work fails with `Overloaded`.
    pub(super) overloaded: bool,
}

impl Ended {
    /// The event queue reached its hard cap.
    pub(super) fn overloaded(counts: &OverloadCounts) -> Ended {
        Ended {
            reason: format!(
                "event queue overloaded: {} items queued, {} ordinary and {} critical events \
                 dropped",
                counts.queued, counts.dropped, counts.critical_dropped
            ),
            overloaded: true,
        }
    }
}

impl From<String> for Ended {
    fn from(reason: String) -> Self {
        Ended {
            reason,
            overloaded: false,
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct State {
    /// The socket's write side; `None` while disconnected.
    pub(super) writer: Option<Arc<Outbox>>,
    /// The socket's read side, which a blocking caller may read itself; `None` while
    /// disconnected.
    pub(super) reader: Option<Arc<ReadSide>>,
    pub(super) pending: VecDeque<PendingReply>,
    pub(super) jobs: HashMap<String, EventSlot>,
    pub(super) executions: HashMap<String, ExecutionWaiter>,
    /// Subscription and filter commands, replayed in order after a reconnect.
    pub(super) replay: Vec<Vec<u8>>,
    /// Why the connection ended for good.
    pub(super) closed: Option<String>,
    /// The most recent reconnect.
    pub(super) last_gap: Option<Gap>,
}

impl State {
    pub(super) fn not_connected(&self) -> EslError {
        EslError::ConnectionClosed(
            self.closed
                .clone()
                .unwrap_or_else(|| "not connected (reconnecting)".to_owned()),
        )
    }

    /// Fails every command, job and execution in flight: with `Overloaded` when the event
    /// queue overloaded, else with `ConnectionClosed`.
    pub(super) fn fail_in_flight(&mut self, ended: &Ended) {
        if let Some(outbox) = self.writer.take() {
            outbox.close();
        }
        self.reader = None;
        let error = || {
            if ended.overloaded {
                EslError::Overloaded("event queue reached its hard cap; connection closed")
            } else {
                EslError::ConnectionClosed(ended.reason.clone())
            }
        };
        for pending in self.pending.drain(..) {
            let _ = pending.slot.send(Err(error()));
        }
        for (_, slot) in self.jobs.drain() {
            let _ = slot.send(Err(error()));
        }
        for (_, waiter) in self.executions.drain() {
            let _ = waiter.slot.send(Err(error()));
        }
    }

    pub(super) fn record(&mut self, bytes: Vec<u8>, replay: Replay) {
        let starts = |entry: &Vec<u8>, prefixes: &[&[u8]]| {
            prefixes.iter().any(|prefix| entry.starts_with(prefix))
        };
        if let Replay::Append = replay {
            // A repeated command moves to the end rather than piling up: a client that
            // subscribes again after every reconnect must not fill the list.
            self.replay.retain(|entry| *entry != bytes);
        }
        match replay {
            Replay::Append if self.replay.len() < MAX_REPLAY_ENTRIES => self.replay.push(bytes),
            Replay::Append => warn!("too many subscription commands recorded; not replaying more"),
            Replay::ClearEvents => self
                .replay
                .retain(|entry| !starts(entry, &[b"event ", b"nixevent ", b"myevents"])),
            Replay::ClearFilters => self.replay.retain(|entry| !starts(entry, &[b"filter "])),
            Replay::ClearLog => self.replay.retain(|entry| !starts(entry, &[b"log "])),
        }
    }
}

pub(crate) struct Shared {
    pub(super) state: Mutex<State>,
    pub(super) queue: EventQueue,
    pub(super) config: ConnectionConfig,
    /// Channel an outbound session controls: the default target of `execute`.
    pub(super) default_channel: Option<String>,
    /// Set by `close()`: the end is wanted, do not reconnect.
    pub(super) closing: AtomicBool,
    pub(super) stop: watch::Sender<bool>,
    /// Set once the connection has ended for good.
    pub(super) finished: watch::Sender<bool>,
    /// `Event-Sequence` and `Event-Date-Timestamp` of the last event queued (0 = none yet).
    pub(super) last_sequence: AtomicU64,
    pub(super) last_timestamp: AtomicU64,
    /// Replies dropped because no command waited for them or they did not fit it.
    pub(super) unsolicited_replies: AtomicU64,
    /// Command reply timeouts since the last reply.
    pub(super) consecutive_timeouts: AtomicU32,
    /// Set when the connection is presumed broken (liveness) or a blocking caller reading
    /// the socket met its end; the reader task ends the socket with it.
    pub(super) broken: watch::Sender<Option<Ended>>,
    /// Events that could not be decoded are skipped; a flood of them logs one line per interval.
    pub(super) undecodable_events: Arc<LogLimit>,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves State consistent, so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a reply slot, after `register` (which may add a job or execution waiter), and
    /// writes `bytes` (or queues them behind earlier commands). The outbox is locked before the
    /// state lock is released, so the slot order is the wire order, while the write itself
    /// happens outside the state lock the reader needs.
    pub(super) fn enqueue(
        &self,
        bytes: Vec<u8>,
        register: impl FnOnce(&mut State) -> Result<(), EslError>,
    ) -> Result<ReplyReceiver, EslError> {
        let mut state = self.lock();
        let Some(outbox) = state.writer.clone() else {
            return Err(state.not_connected());
        };
        if state.pending.len() >= self.config.max_in_flight {
            return Err(EslError::Overloaded("too many commands in flight"));
        }
        let mut backlog = outbox.lock();
        if let Some(reason) = backlog.stopped() {
            return Err(EslError::ConnectionClosed(reason));
        }
        register(&mut state)?;
        let api = bytes.starts_with(b"api ");
        let (slot, receiver) = oneshot::channel();
        state.pending.push_back(PendingReply { api, slot });
        self.queue.set_reply_awaited(true);
        drop(state);
        outbox.push(&mut backlog, bytes);
        Ok(receiver)
    }

    /// Hands a reply to the oldest pending command if it fits it; else drops it, counted.
    pub(super) fn complete_reply(&self, response: Response) {
        self.consecutive_timeouts.store(0, Ordering::Relaxed);
        let mut state = self.lock();
        if !state
            .pending
            .front()
            .is_some_and(|next| next.fits(&response))
        {
            let waiting = state.pending.len();
            drop(state);
            let count = self.unsolicited_replies.fetch_add(1, Ordering::Relaxed) + 1;
            if count % UNSOLICITED_WARNING_EVERY == 1 {
                let kind = match response {
                    Response::Reply(_) => "command/reply",
                    Response::Api(_) => "api/response",
                };
                warn!(
                    kind,
                    waiting,
                    unsolicited = count,
                    "reply that no pending command expects dropped"
                );
            }
            return;
        }
        let pending = state.pending.pop_front();
        self.queue.set_reply_awaited(!state.pending.is_empty());
        drop(state);
        if let Some(pending) = pending {
            if pending.slot.send(Ok(response)).is_err() {
                debug!("discarded the late reply of a command that timed out");
            }
        }
    }

    /// Waits for a command's reply; counts timeouts for the liveness rule.
    pub(super) async fn await_reply(
        &self,
        receiver: ReplyReceiver,
        timeout: Duration,
    ) -> Result<Response, EslError> {
        match tokio::time::timeout(timeout, receiver).await {
            Err(_) => Err(self.reply_timed_out(timeout)),
            Ok(Err(_)) => Err(reply_slot_dropped()),
            Ok(Ok(outcome)) => outcome,
        }
    }

    /// A command's reply did not come within `timeout`: counts it for the liveness rule.
    pub(super) fn reply_timed_out(&self, timeout: Duration) -> EslError {
        let timeouts = self.consecutive_timeouts.fetch_add(1, Ordering::Relaxed) + 1;
        if timeouts >= BROKEN_AFTER_TIMEOUTS {
            self.broken.send_replace(Some(Ended::from(format!(
                "{timeouts} command replies in a row timed out; peer presumed broken"
            ))));
        }
        EslError::Timeout {
            what: "command reply",
            after: timeout,
        }
    }

    /// Completes job and execution waiters; returns the event if it still goes to the queue.
    /// Takes the state lock only for the few event names that can complete something.
    pub(super) fn route_event(&self, event: Event) -> Option<Event> {
        let Some(name) = event.header_bytes("Event-Name") else {
            return Some(event);
        };
        match name {
            b"BACKGROUND_JOB" => {
                let slot = event
                    .header("Job-UUID")
                    .and_then(|job| self.lock().jobs.remove(job.as_ref()));
                if let Some(slot) = slot {
                    let _ = slot.send(Ok(event));
                    return None;
                }
            }
            b"CHANNEL_EXECUTE_COMPLETE" => {
                let waiter = event
                    .header("Application-UUID")
                    .and_then(|id| self.lock().executions.remove(id.as_ref()));
                if let Some(waiter) = waiter {
                    let _ = waiter.slot.send(Ok(event));
                    return None;
                }
            }
            b"CHANNEL_HANGUP_COMPLETE" => {
                if let Some(channel) = event.header("Unique-ID") {
                    self.fail_executions_of(&mut self.lock(), &channel);
                }
            }
            _ => {}
        }
        Some(event)
    }

    /// The channel is gone: executions on it will never complete.
    pub(super) fn fail_executions_of(&self, state: &mut State, channel: &str) {
        let default = self.default_channel.as_deref();
        let gone: Vec<String> = state
            .executions
            .iter()
            .filter(|(_, waiter)| waiter.channel.as_deref().or(default) == Some(channel))
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            if let Some(waiter) = state.executions.remove(&id) {
                let _ = waiter.slot.send(Err(EslError::CommandFailed(
                    "channel hung up before the application completed".to_owned(),
                )));
            }
        }
    }

    /// Handles one message; returns what goes to the event queue.
    pub(super) fn dispatch(&self, message: ServerMessage) -> Option<Incoming> {
        match message {
            ServerMessage::CommandReply(reply) => self.complete_reply(Response::Reply(reply)),
            ServerMessage::ApiResponse(api) => self.complete_reply(Response::Api(api)),
            ServerMessage::Event(event) => return self.route_event(event).map(Incoming::Event),
            ServerMessage::DisconnectNotice(notice) => {
                debug!(
                    disposition = ?notice.disposition,
                    linger_time = %notice.linger_time.map_or_else(|| "none".to_owned(), |t| t.to_string()),
                    "disconnect notice"
                );
                if notice.disposition == Disposition::Linger {
                    if let Some(channel) = &notice.controlled_session_uuid {
                        self.fail_executions_of(&mut self.lock(), channel);
                    }
                }
                return Some(Incoming::Disconnect(notice));
            }
            ServerMessage::Log(line) => return Some(Incoming::Log(line)),
            ServerMessage::Unknown(frame) => return Some(Incoming::Unknown(frame)),
            ServerMessage::AuthRequest => debug!("unexpected auth/request ignored"),
            ServerMessage::RudeRejection(_) => warn!("rude rejection on an established connection"),
        }
        None
    }

    /// Fails every command, job and execution in flight (see [`State::fail_in_flight`]).
    pub(super) fn fail_in_flight(&self, ended: &Ended) {
        self.lock().fail_in_flight(ended);
        self.queue.set_reply_awaited(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{command, EventFormat};

    #[test]
    pub(super) fn a_repeated_subscription_command_is_recorded_once_at_its_latest_place() {
        let mut state = State::default();
        let event_a = command::event(EventFormat::Plain, &["A"]).expect("valid");
        let nixevent_a = command::nixevent(&["A"]).expect("valid");
        for _ in 0..3 {
            state.record(event_a.clone(), Replay::Append);
        }
        state.record(nixevent_a.clone(), Replay::Append);
        state.record(event_a.clone(), Replay::Append);
        assert_eq!(state.replay, [nixevent_a, event_a]);
    }
}
