//! One live Event Socket connection: a cloneable [`Connection`] handle, a writer task and a
//! reader task. Shared by inbound clients ([`crate::Client`]) and outbound sessions
//! ([`crate::Session`]).
//!
//! Replies are matched to commands in FIFO order: the reply slot is registered and the command
//! bytes handed to the [`Outbox`] under one lock, so the order of slots is the order on the wire.
//! The sending thread writes the command itself when the socket takes it at once. A caller that times
//! out leaves its slot in place; the late reply fills the orphaned slot and is discarded, so it
//! can never be handed to the next caller. Events are routed by content, never by position.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tracing::{debug, info, trace, warn, Instrument};

use crate::error::EslError;
use crate::id::new_uuid;
use crate::inbound::{establish, ClientConfig, ReconnectPolicy};
use crate::outbox::Outbox;
use crate::proto::command::{self, SendMsg};
use crate::proto::{
    ApiResponse, Disposition, Event, EventFormat, FrameLimits, FrameParser, Reply, ServerMessage,
};
use crate::queue::{EventQueue, Incoming, OverflowPolicy, Overload, QueueBounds, QueueStats};

/// Settings of a connection, inbound or outbound.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// Default deadline for a command's reply.
    pub command_timeout: Duration,
    /// Soft bound of the event queue, where [`overflow_policy`](Self::overflow_policy)
    /// applies. A decoded event of a typical call-control stream takes about 4 KiB, so the
    /// default of 16,384 is near 64 MiB.
    pub event_queue_capacity: usize,
    /// What the reader does at the soft bound while no command awaits its reply.
    pub overflow_policy: OverflowPolicy,
    /// Hard cap of the event queue in items, soft bound and spill together (items queued past
    /// the soft bound: while a command awaits its reply, or critical events that nothing
    /// droppable could make room for). Reaching it overloads the connection: pending commands
    /// fail with [`EslError::Overloaded`], an [`Incoming::Overloaded`] notice is queued and
    /// the socket is closed (then reconnected if a policy allows). Default 100,000,
    /// FreeSWITCH's own per-listener queue length.
    pub spill_max_events: usize,
    /// Hard cap of the event queue in bytes ([`Incoming::approximate_size`]), soft bound and
    /// spill together. Default 256 MiB.
    pub spill_max_bytes: usize,
    /// Close the connection when nothing arrives for this long (subscribe to `HEARTBEAT`,
    /// sent every 20 s, to keep an idle but healthy connection alive). `None` disables it.
    pub idle_timeout: Option<Duration>,
    /// Most commands (and pending `bgapi` jobs / execute completions) in flight at once.
    pub max_in_flight: usize,
    /// Frame size caps.
    pub frame_limits: FrameLimits,
    /// Caps the kernel's receive buffer of an inbound client's socket (`SO_RCVBUF`, set
    /// before connecting; the kernel may double it). `None` leaves Linux's autotuning, which
    /// grows it to `net.ipv4.tcp_rmem`'s maximum (often 6-32 MiB) under a flood. A reply waits
    /// behind every event buffered ahead of it, so with [`OverflowPolicy::Block`] a small cap
    /// bounds how long a command's reply can wait (buffered bytes / consumer speed); too small
    /// a cap limits throughput on links with a long round trip (cap / RTT).
    pub receive_buffer_size: Option<u32>,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            command_timeout: Duration::from_secs(30),
            event_queue_capacity: 16_384,
            overflow_policy: OverflowPolicy::DropOldest,
            spill_max_events: 100_000,
            spill_max_bytes: 256 * 1024 * 1024,
            idle_timeout: None,
            max_in_flight: 10_000,
            frame_limits: FrameLimits::default(),
            receive_buffer_size: None,
        }
    }
}

/// A reply to a command: `command/reply` or `api/response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `command/reply`.
    Reply(Reply),
    /// `api/response`.
    Api(ApiResponse),
}

/// What is known about the events missed during a reconnect (see [`Connection::last_gap`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// Why the connection was lost.
    pub reason: String,
    /// Connection attempts it took to get back.
    pub attempts: u32,
    /// `Event-Sequence` of the last event received before the loss. Sequences are per
    /// FreeSWITCH process, so the first event after the gap tells how many were missed
    /// (as far as the subscription would have delivered them).
    pub last_sequence: Option<u64>,
    /// `Event-Date-Timestamp` (microseconds) of the last event received before the loss.
    pub last_timestamp: Option<u64>,
}

type ReplySlot = oneshot::Sender<Result<Response, EslError>>;

/// A command waiting for its reply, and which reply fits it.
#[derive(Debug)]
struct PendingReply {
    /// `api`: an `api/response`, or a `command/reply` (`-ERR permission denied`). Every
    /// other command: a `command/reply` only.
    api: bool,
    slot: ReplySlot,
}

impl PendingReply {
    fn fits(&self, response: &Response) -> bool {
        self.api || matches!(response, Response::Reply(_))
    }
}
type EventSlot = oneshot::Sender<Result<Event, EslError>>;

#[derive(Debug)]
struct ExecutionWaiter {
    channel: Option<String>,
    slot: EventSlot,
}

/// How a successful subscription command changes the list replayed after a reconnect.
#[derive(Debug, Clone, Copy)]
enum Replay {
    Append,
    ClearEvents,
    ClearFilters,
    ClearLog,
}

const MAX_REPLAY_ENTRIES: usize = 4096;

/// How long `close()` waits for the reply to `exit` before closing anyway.
const EXIT_REPLY_WAIT: Duration = Duration::from_secs(2);

/// Bytes made room for before each socket read during a handshake (a connect reply with its
/// channel data is 3-8 KiB: the buffer grows once at most).
const HANDSHAKE_READ_CHUNK: usize = 4 * 1024;

/// Bytes the reader first makes room for before a socket read. An idle call-control session
/// reads a few KiB at a time, and a buffer's pages stay resident once written, so buffers start
/// small: 10,000 outbound sessions with 64 KiB each would hold hundreds of MiB.
const FIRST_READ_CHUNK: usize = 4 * 1024;

/// The most the reader makes room for: a read that fills its chunk doubles the next one, so a
/// flood reaches this in a few reads; reads far below the chunk halve it again.
const READ_CHUNK: usize = 64 * 1024;

/// Command timeouts in a row, with no reply in between, after which the connection is
/// declared broken.
const BROKEN_AFTER_TIMEOUTS: u32 = 3;

/// Log an unsolicited reply the first time and then once per this many.
const UNSOLICITED_WARNING_EVERY: u64 = 1_000;

/// Why a socket's reader stopped.
#[derive(Debug)]
struct Ended {
    reason: String,
    /// The event queue reached its hard cap: pending work fails with `Overloaded`.
    overloaded: bool,
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
struct State {
    /// The socket's write side; `None` while disconnected.
    writer: Option<Arc<Outbox>>,
    pending: VecDeque<PendingReply>,
    jobs: HashMap<String, EventSlot>,
    executions: HashMap<String, ExecutionWaiter>,
    /// Subscription and filter commands, replayed in order after a reconnect.
    replay: Vec<Vec<u8>>,
    /// Why the connection ended for good.
    closed: Option<String>,
    /// The most recent reconnect.
    last_gap: Option<Gap>,
}

impl State {
    fn not_connected(&self) -> EslError {
        EslError::ConnectionClosed(
            self.closed
                .clone()
                .unwrap_or_else(|| "not connected (reconnecting)".to_owned()),
        )
    }

    /// Fails every command, job and execution in flight: with `Overloaded` when the event
    /// queue overloaded, else with `ConnectionClosed`.
    fn fail_in_flight(&mut self, ended: &Ended) {
        if let Some(outbox) = self.writer.take() {
            outbox.close();
        }
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

    fn record(&mut self, bytes: Vec<u8>, replay: Replay) {
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
    state: Mutex<State>,
    queue: EventQueue,
    config: ConnectionConfig,
    /// Channel an outbound session controls: the default target of `execute`.
    default_channel: Option<String>,
    /// Set by `close()`: the end is wanted, do not reconnect.
    closing: AtomicBool,
    stop: watch::Sender<bool>,
    /// Set once the connection has ended for good.
    finished: watch::Sender<bool>,
    /// `Event-Sequence` and `Event-Date-Timestamp` of the last event queued (0 = none yet).
    last_sequence: AtomicU64,
    last_timestamp: AtomicU64,
    /// Replies dropped because no command waited for them or they did not fit it.
    unsolicited_replies: AtomicU64,
    /// Command reply timeouts since the last reply.
    consecutive_timeouts: AtomicU32,
    /// Set to a reason when the connection is presumed broken (liveness); the reader ends
    /// the socket.
    broken: watch::Sender<Option<String>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves State consistent, so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a reply slot, after `register` (which may add a job or execution waiter), and
    /// writes `bytes` (or queues them behind earlier commands). The outbox is locked before the
    /// state lock is released, so the slot order is the wire order, while the write itself
    /// happens outside the state lock the reader needs.
    fn enqueue(
        &self,
        bytes: Vec<u8>,
        register: impl FnOnce(&mut State) -> Result<(), EslError>,
    ) -> Result<oneshot::Receiver<Result<Response, EslError>>, EslError> {
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
    fn complete_reply(&self, response: Response) {
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
    async fn await_reply(
        &self,
        receiver: oneshot::Receiver<Result<Response, EslError>>,
        timeout: Duration,
    ) -> Result<Response, EslError> {
        match tokio::time::timeout(timeout, receiver).await {
            Err(_) => {
                let timeouts = self.consecutive_timeouts.fetch_add(1, Ordering::Relaxed) + 1;
                if timeouts >= BROKEN_AFTER_TIMEOUTS {
                    self.broken.send_replace(Some(format!(
                        "{timeouts} command replies in a row timed out; peer presumed broken"
                    )));
                }
                Err(EslError::Timeout {
                    what: "command reply",
                    after: timeout,
                })
            }
            Ok(Err(_)) => Err(EslError::ConnectionClosed("connection ended".to_owned())),
            Ok(Ok(outcome)) => outcome,
        }
    }

    /// Completes job and execution waiters; returns the event if it still goes to the queue.
    /// Takes the state lock only for the few event names that can complete something.
    fn route_event(&self, event: Event) -> Option<Event> {
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
    fn fail_executions_of(&self, state: &mut State, channel: &str) {
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
    fn dispatch(&self, message: ServerMessage) -> Option<Incoming> {
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

    /// Splits a fresh socket, starts its writer task and installs the writer, so commands
    /// can be queued as soon as this returns.
    fn attach(&self, stream: TcpStream) -> Attached {
        let (reader, writer) = stream.into_split();
        let outbox = Arc::new(Outbox::new(writer));
        let queued = outbox.clone();
        let writer_task = tokio::spawn(async move { queued.write_queued().await });
        self.lock().writer = Some(outbox);
        Attached {
            reader,
            writer_task,
        }
    }

    /// The recorded subscription commands to send on a fresh socket, with runs of `event`
    /// commands of one format merged into one command, as a fresh subscriber would send them.
    fn replay_commands(&self) -> Vec<Vec<u8>> {
        merge_event_commands(&self.lock().replay)
    }

    /// Reads and dispatches frames until the socket ends; returns why it ended.
    async fn drive(
        &self,
        attached: Attached,
        mut parser: FrameParser,
        stop: &mut watch::Receiver<bool>,
    ) -> Ended {
        let Attached {
            reader,
            mut writer_task,
        } = attached;
        let idle_timeout = self.config.idle_timeout;
        let mut read_chunk = FIRST_READ_CHUNK;
        let command_timeout = self.config.command_timeout;
        // A fresh socket: earlier timeouts say nothing about it.
        self.consecutive_timeouts.store(0, Ordering::Relaxed);
        self.broken.send_replace(None);
        let mut broken = self.broken.subscribe();
        // Liveness: a frame that stays incomplete while a command awaits its reply.
        let mut stuck = StuckFrame::default();
        // Frames that arrived together with the handshake.
        match self.dispatch_all(&mut parser).await {
            Ok(frames) => stuck.after_dispatch(frames, &parser, command_timeout),
            Err(ended) => return ended,
        }
        loop {
            if read_chunk == FIRST_READ_CHUNK {
                // Not flooded: hold no buffer while waiting; the next read takes a fresh one.
                parser.release_idle_buffer();
            }
            let idle = async {
                match idle_timeout {
                    Some(timeout) => tokio::time::sleep(timeout).await,
                    None => std::future::pending().await,
                }
            };
            let check_at = stuck.check_at;
            let stuck_check = async move {
                match check_at {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            let ready = tokio::select! {
                biased;
                _ = stop.wait_for(|stopped| *stopped) => return "closed by client".to_owned().into(),
                reason = broken.wait_for(Option::is_some) => {
                    let reason = reason.ok().and_then(|reason| reason.clone());
                    return reason.unwrap_or_default().into();
                }
                outcome = &mut writer_task => {
                    return match outcome {
                        Ok(Err(error)) => format!("write failed: {error}"),
                        _ => "writer stopped".to_owned(),
                    }
                    .into();
                }
                ready = reader.readable() => ready,
                () = idle => {
                    return format!("no data for {idle_timeout:?}; peer presumed dead").into();
                }
                () = stuck_check => {
                    if self.queue.reply_awaited() {
                        return format!(
                            "a frame stayed incomplete for twice the command timeout \
                             ({command_timeout:?}) while a command awaited its reply; peer \
                             presumed broken"
                        )
                        .into();
                    }
                    // Nothing awaited yet: look again soon, as a command may be sent any time.
                    stuck.check_at = Some(Instant::now() + command_timeout / 4);
                    continue;
                }
            };
            // The buffer is made room for only once bytes are there to read.
            let read = ready.and_then(|()| reader.try_read_buf(parser.read_buffer(read_chunk)));
            match read {
                Ok(0) => return "closed by peer".to_owned().into(),
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(error) => return format!("read failed: {error}").into(),
                Ok(read) if read >= read_chunk => read_chunk = (read_chunk * 2).min(READ_CHUNK),
                // The flood has passed: shrink the next reads, down to releasing the buffer.
                Ok(read) if read < read_chunk / 4 => {
                    read_chunk = (read_chunk / 2).max(FIRST_READ_CHUNK);
                }
                Ok(_) => {}
            }
            match self.dispatch_all(&mut parser).await {
                Ok(frames) => stuck.after_dispatch(frames, &parser, command_timeout),
                Err(ended) => return ended,
            }
        }
    }

    /// Remembers where the event stream was, once per batch, for the gap report.
    fn remember_last_event(&self, batch: &[Incoming]) {
        let last = batch.iter().rev().find_map(|item| match item {
            Incoming::Event(event) => Some(event),
            _ => None,
        });
        let Some(event) = last else {
            return;
        };
        let number = |name: &str| {
            event
                .header(name)
                .and_then(|value| value.parse::<u64>().ok())
        };
        if let Some(sequence) = number("Event-Sequence") {
            self.last_sequence.store(sequence, Ordering::Relaxed);
        }
        if let Some(timestamp) = number("Event-Date-Timestamp") {
            self.last_timestamp.store(timestamp, Ordering::Relaxed);
        }
    }

    /// Dispatches every complete frame; queue-bound items go to the queue as one batch.
    /// Returns how many frames were complete, or why the socket must end: a protocol error,
    /// a final disconnect notice (libesl ends the connection on it), an overloaded queue.
    async fn dispatch_all(&self, parser: &mut FrameParser) -> Result<usize, Ended> {
        let mut batch = Vec::new();
        let mut frames = 0;
        let ending = loop {
            match parser.next_frame() {
                Ok(Some(frame)) => {
                    trace!(
                        content_type = %frame.content_type().unwrap_or_default(),
                        body_bytes = frame.body().len(),
                        "received"
                    );
                    match ServerMessage::from_frame(frame) {
                        Ok(message) => {
                            frames += 1;
                            let item = self.dispatch(message);
                            let ending = match &item {
                                Some(Incoming::Disconnect(notice))
                                    if notice.disposition != Disposition::Linger =>
                                {
                                    Some(format!(
                                        "disconnect notice from the server: {}",
                                        String::from_utf8_lossy(&notice.body).trim_end()
                                    ))
                                }
                                _ => None,
                            };
                            batch.extend(item);
                            if ending.is_some() {
                                break ending;
                            }
                        }
                        Err(error) => warn!(%error, "undecodable event skipped"),
                    }
                }
                Ok(None) => break None,
                Err(error) => break Some(format!("protocol error: {error}")),
            }
        };
        let completed_waiters = frames > batch.len();
        self.remember_last_event(&batch);
        if !batch.is_empty() {
            if let Err(Overload(counts)) = self.queue.push_all(batch).await {
                return Err(Ended {
                    reason: format!(
                        "event queue overloaded: {} items queued, {} ordinary and {} critical \
                         events dropped",
                        counts.queued, counts.dropped, counts.critical_dropped
                    ),
                    overloaded: true,
                });
            }
        }
        if completed_waiters {
            // A woken caller sits in this worker's LIFO slot, which other workers cannot
            // steal; under a flood this task would keep it waiting, so let it run now.
            tokio::task::yield_now().await;
        }
        match ending {
            Some(reason) => Err(reason.into()),
            None => Ok(frames),
        }
    }

    /// Fails every command, job and execution in flight (see [`State::fail_in_flight`]).
    fn fail_in_flight(&self, ended: &Ended) {
        self.lock().fail_in_flight(ended);
        self.queue.set_reply_awaited(false);
    }
}

/// When the reader next checks for a frame stuck mid-read.
#[derive(Debug, Default)]
struct StuckFrame {
    check_at: Option<Instant>,
}

impl StuckFrame {
    /// A frame left incomplete is stuck once twice the command timeout passes without any
    /// frame completing (twice, so the command waiting for that frame times out first and
    /// says so); a frame that completed restarts the clock.
    fn after_dispatch(&mut self, frames: usize, parser: &FrameParser, timeout: Duration) {
        if parser.buffered_len() == 0 {
            self.check_at = None;
        } else if frames > 0 || self.check_at.is_none() {
            self.check_at = Some(Instant::now() + 2 * timeout);
        }
    }
}

/// Reads until one complete server message is available, before the reader task exists
/// (handshakes); `None` when the peer closed first.
pub(crate) async fn read_message(
    stream: &mut TcpStream,
    parser: &mut FrameParser,
) -> Result<Option<ServerMessage>, EslError> {
    loop {
        if let Some(frame) = parser.next_frame()? {
            return Ok(Some(ServerMessage::from_frame(frame)?));
        }
        if stream
            .read_buf(parser.read_buffer(HANDSHAKE_READ_CHUNK))
            .await?
            == 0
        {
            return Ok(None);
        }
    }
}

/// A socket whose writer task runs.
struct Attached {
    reader: OwnedReadHalf,
    writer_task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Runs a connection until it ends for good: drives the socket, fails what was in flight
/// when it drops, and reconnects when a policy allows.
async fn run(
    shared: Arc<Shared>,
    attached: Attached,
    parser: FrameParser,
    reconnect: Option<(ClientConfig, ReconnectPolicy)>,
    guard: Option<Box<dyn Send>>,
) {
    let mut stop = shared.stop.subscribe();
    let mut next = Some((attached, parser));
    let reason = loop {
        let Some((attached, parser)) = next.take() else {
            break "reconnect gave up".to_owned();
        };
        let ended = shared.drive(attached, parser, &mut stop).await;
        shared.fail_in_flight(&ended);
        let reason = ended.reason;
        let wanted_end = shared.closing.load(Ordering::SeqCst) || *stop.borrow();
        let Some((config, policy)) = reconnect.as_ref().filter(|_| !wanted_end) else {
            break reason;
        };
        warn!(%reason, "connection lost; reconnecting");
        let lost_at = Instant::now();
        shared.queue.push_notice(Incoming::Disconnected {
            reason: reason.clone(),
        });
        match reconnect_with_backoff(&shared, config, policy, &mut stop).await {
            Some(restored) => {
                info!(
                    attempts = restored.attempts,
                    "reconnected; subscriptions replayed"
                );
                let known = |value: u64| (value != 0).then_some(value);
                shared.lock().last_gap = Some(Gap {
                    reason: reason.clone(),
                    attempts: restored.attempts,
                    last_sequence: known(shared.last_sequence.load(Ordering::Relaxed)),
                    last_timestamp: known(shared.last_timestamp.load(Ordering::Relaxed)),
                });
                // Connected before the notice is seen, so a consumer reacting to it can send.
                let attached = shared.attach(restored.stream);
                shared.queue.push_notice(Incoming::Reconnected {
                    attempts: restored.attempts,
                    gap: lost_at.elapsed(),
                });
                // Events that came after a replayed subscription took effect, in order.
                let early: Vec<Incoming> = restored
                    .early_messages
                    .into_iter()
                    .filter_map(|message| shared.dispatch(message))
                    .collect();
                // At the hard cap the overload is queued and counted here; the reader of the
                // new socket then meets the same cap and ends it.
                let _ = shared.queue.push_all(early).await;
                next = Some((attached, restored.parser));
            }
            None => break format!("{reason}; reconnect gave up"),
        }
    };
    debug!(%reason, "connection ended");
    shared.fail_in_flight(&reason.clone().into());
    shared.lock().closed = Some(reason.clone());
    shared.queue.close(&reason);
    // Release the session slot before anyone waiting on `closed()` looks at the listener.
    drop(guard);
    shared.finished.send_replace(true);
}

/// A socket re-established by [`reconnect_with_backoff`], its subscriptions replayed.
struct Restored {
    stream: TcpStream,
    parser: FrameParser,
    attempts: u32,
    /// Messages other than the replay replies that arrived during the replay.
    early_messages: Vec<ServerMessage>,
}

/// Connects and replays the subscriptions until an attempt succeeds, the policy gives up
/// (`None`) or the connection is closed (`None`, at once, even mid-attempt).
async fn reconnect_with_backoff(
    shared: &Shared,
    config: &ClientConfig,
    policy: &ReconnectPolicy,
    stop: &mut watch::Receiver<bool>,
) -> Option<Restored> {
    let mut delay = policy.initial_backoff;
    let mut attempts = 0u32;
    loop {
        if policy.max_attempts.is_some_and(|max| attempts >= max) {
            return None;
        }
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return None,
            () = tokio::time::sleep(delay) => {}
        }
        attempts += 1;
        let attempt = async {
            let (mut stream, mut parser) = establish(config).await?;
            let commands = shared.replay_commands();
            let early_messages = tokio::time::timeout(
                shared.config.command_timeout,
                replay(&mut stream, &mut parser, &commands),
            )
            .await
            .map_err(|_| EslError::Timeout {
                what: "subscription replay",
                after: shared.config.command_timeout,
            })??;
            Ok::<_, EslError>(Restored {
                stream,
                parser,
                attempts,
                early_messages,
            })
        };
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return None,
            outcome = attempt => match outcome {
                Ok(restored) => return Some(restored),
                Err(error) => warn!(%error, attempts, "reconnect attempt failed"),
            },
        }
        delay = (delay * 2).min(policy.max_backoff);
    }
}

/// Sends the subscription commands on a fresh socket and waits for every reply; a refused
/// one fails the attempt, as the subscriptions would otherwise silently differ. Returns the
/// other messages that arrived meanwhile (events of subscriptions already replayed).
async fn replay(
    stream: &mut TcpStream,
    parser: &mut FrameParser,
    commands: &[Vec<u8>],
) -> Result<Vec<ServerMessage>, EslError> {
    for bytes in commands {
        stream.write_all(bytes).await?;
    }
    let mut early_messages = Vec::new();
    let mut replies = 0;
    while replies < commands.len() {
        match read_message(stream, parser).await? {
            Some(ServerMessage::CommandReply(reply)) if reply.is_ok() => replies += 1,
            Some(ServerMessage::CommandReply(reply)) => {
                return Err(EslError::CommandFailed(format!(
                    "replaying a subscription: {}",
                    reply.text().trim_end()
                )))
            }
            Some(other) => early_messages.push(other),
            None => {
                return Err(EslError::ConnectionClosed(
                    "closed by peer during the subscription replay".to_owned(),
                ))
            }
        }
    }
    Ok(early_messages)
}

/// Merges runs of `event <format> ...` commands of one format into one command. A run stops
/// after `CUSTOM`, since every word after it names a subclass.
fn merge_event_commands(commands: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let event_words = |bytes: &[u8]| -> Option<Vec<String>> {
        let line = std::str::from_utf8(bytes).ok()?.strip_suffix("\n\n")?;
        let words: Vec<String> = line.split(' ').map(str::to_owned).collect();
        (words.len() > 2 && words[0] == "event" && !line.contains('\n')).then_some(words)
    };
    let mut merged: Vec<Vec<u8>> = Vec::with_capacity(commands.len());
    let mut run: Option<Vec<String>> = None;
    let finish = |run: &mut Option<Vec<String>>, merged: &mut Vec<Vec<u8>>| {
        if let Some(words) = run.take() {
            merged.push(format!("{}\n\n", words.join(" ")).into_bytes());
        }
    };
    for bytes in commands {
        match (event_words(bytes), run.as_mut()) {
            (Some(words), Some(current))
                if current[1] == words[1] && !current.iter().any(|word| word == "CUSTOM") =>
            {
                current.extend(words.into_iter().skip(2));
            }
            (Some(words), _) => {
                finish(&mut run, &mut merged);
                run = Some(words);
            }
            (None, _) => {
                finish(&mut run, &mut merged);
                merged.push(bytes.clone());
            }
        }
    }
    finish(&mut run, &mut merged);
    merged
}

/// Closes the connection when the last handle is dropped.
struct HandleOwner {
    shared: Weak<Shared>,
}

impl Drop for HandleOwner {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.closing.store(true, Ordering::SeqCst);
            shared.stop.send_replace(true);
            shared.queue.close("closed: every handle was dropped");
        }
    }
}

/// Handle to a live connection. Cheap to clone; the connection closes when [`close`] is
/// called or the last clone is dropped.
///
/// [`close`]: Connection::close
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
    _owner: Arc<HandleOwner>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("connected", &self.is_connected())
            .finish()
    }
}

/// Options of [`Connection::execute`].
#[derive(Debug, Clone, Default)]
pub struct ExecuteOptions {
    /// Target channel; `None` on an outbound session means its own channel.
    pub uuid: Option<String>,
    /// `event-lock: true`.
    pub event_lock: bool,
    /// `async: true`.
    pub async_execute: bool,
    /// `loops: n`.
    pub loops: Option<i64>,
    /// Wait for the matching `CHANNEL_EXECUTE_COMPLETE` (requires a subscription to it, e.g.
    /// `myevents`). Fails if the channel hangs up or the connection closes first.
    pub wait_for_completion: bool,
    /// Deadline for the reply and the completion; default is the command timeout.
    pub timeout: Option<Duration>,
}

/// Result of [`Connection::execute`].
#[derive(Debug, Clone)]
pub struct Execution {
    /// The `Event-UUID` sent, echoed as `Application-UUID`.
    pub event_uuid: String,
    /// The `sendmsg` reply (`+OK` = queued, or finished on a sync outbound socket).
    pub reply: Reply,
    /// The `CHANNEL_EXECUTE_COMPLETE` event, when waited for.
    pub completion: Option<Event>,
}

/// A `bgapi` job; [`wait`](Job::wait) for its `BACKGROUND_JOB` event. The connection must be
/// subscribed to `BACKGROUND_JOB` (or `ALL`) for the result to arrive.
#[derive(Debug)]
pub struct Job {
    uuid: String,
    reply: Option<Reply>,
    result: Option<oneshot::Receiver<Result<Event, EslError>>>,
    shared: Weak<Shared>,
}

impl Job {
    /// The `Job-UUID` (chosen by the client).
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// The `+OK Job-UUID: ...` reply.
    pub fn reply(&self) -> Option<&Reply> {
        self.reply.as_ref()
    }

    /// Waits for the job's `BACKGROUND_JOB` event; its body is the API output.
    pub async fn wait(mut self, timeout: Duration) -> Result<Event, EslError> {
        let Some(result) = self.result.take() else {
            return Err(EslError::ConnectionClosed("job already awaited".to_owned()));
        };
        match tokio::time::timeout(timeout, result).await {
            Err(_) => Err(EslError::Timeout {
                what: "background job",
                after: timeout,
            }),
            Ok(Err(_)) => Err(EslError::ConnectionClosed("connection ended".to_owned())),
            Ok(Ok(outcome)) => outcome,
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.lock().jobs.remove(&self.uuid);
        }
    }
}

/// Removes an execution waiter when the caller stops waiting.
struct ExecutionGuard<'a> {
    shared: &'a Shared,
    id: &'a str,
}

impl Drop for ExecutionGuard<'_> {
    fn drop(&mut self) {
        self.shared.lock().executions.remove(self.id);
    }
}

fn expect_ok(response: Response) -> Result<Reply, EslError> {
    match response {
        Response::Reply(reply) if reply.is_ok() => Ok(reply),
        Response::Reply(reply) => Err(EslError::CommandFailed(reply.text().trim_end().to_owned())),
        Response::Api(api) => Err(EslError::CommandFailed(format!(
            "unexpected api/response: {}",
            api.text().trim_end()
        ))),
    }
}

impl Connection {
    /// Starts the reader and writer tasks on an established (authenticated) socket.
    pub(crate) fn start(
        stream: TcpStream,
        parser: FrameParser,
        config: ConnectionConfig,
        default_channel: Option<String>,
        reconnect: Option<(ClientConfig, ReconnectPolicy)>,
        guard: Option<Box<dyn Send>>,
        span: tracing::Span,
    ) -> Connection {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            queue: EventQueue::new(
                QueueBounds {
                    capacity: config.event_queue_capacity,
                    max_events: config.spill_max_events,
                    max_bytes: config.spill_max_bytes,
                },
                config.overflow_policy,
            ),
            config,
            default_channel,
            closing: AtomicBool::new(false),
            stop: watch::Sender::new(false),
            finished: watch::Sender::new(false),
            last_sequence: AtomicU64::new(0),
            last_timestamp: AtomicU64::new(0),
            unsolicited_replies: AtomicU64::new(0),
            consecutive_timeouts: AtomicU32::new(0),
            broken: watch::Sender::new(None),
        });
        let attached = shared.attach(stream);
        tokio::spawn(run(shared.clone(), attached, parser, reconnect, guard).instrument(span));
        let owner = Arc::new(HandleOwner {
            shared: Arc::downgrade(&shared),
        });
        Connection {
            shared,
            _owner: owner,
        }
    }

    /// `true` while a socket is up (false while reconnecting and after the end).
    pub fn is_connected(&self) -> bool {
        self.shared.lock().writer.is_some()
    }

    /// The default command timeout.
    pub fn command_timeout(&self) -> Duration {
        self.shared.config.command_timeout
    }

    /// Sends pre-encoded command bytes (see [`command`]) and waits for the reply.
    pub async fn send_command(
        &self,
        bytes: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<Response, EslError> {
        if bytes.starts_with(b"exit\n") || bytes.starts_with(b"...\n") {
            // The caller ends the session: the close that follows must not be reconnected.
            self.shared.closing.store(true, Ordering::SeqCst);
        }
        let receiver = self.shared.enqueue(bytes, |_| Ok(()))?;
        self.shared
            .await_reply(
                receiver,
                timeout.unwrap_or(self.shared.config.command_timeout),
            )
            .await
    }

    /// Sends a raw command (libesl `sendRecv`): a line plus optional `Name: value` lines.
    pub async fn send_recv(&self, command: &str) -> Result<Response, EslError> {
        self.send_command(command::raw(command)?, None).await
    }

    async fn checked(&self, bytes: Vec<u8>) -> Result<Reply, EslError> {
        expect_ok(self.send_command(bytes, None).await?)
    }

    async fn subscription(&self, bytes: Vec<u8>, replay: Replay) -> Result<Reply, EslError> {
        let reply = self.checked(bytes.clone()).await?;
        self.shared.lock().record(bytes, replay);
        Ok(reply)
    }

    /// `api <command>`: the output, which may itself start with `-ERR`. A `command/reply`
    /// instead (`-ERR permission denied`) is an error.
    pub async fn api(&self, command: &str) -> Result<ApiResponse, EslError> {
        match self.send_command(command::api(command)?, None).await? {
            Response::Api(api) => Ok(api),
            Response::Reply(reply) => Err(EslError::CommandFailed(reply.text().to_owned())),
        }
    }

    /// `bgapi <command>` with a client-generated `Job-UUID`, registered before the command is
    /// written so even an instant `BACKGROUND_JOB` finds its waiter.
    pub async fn bgapi(&self, command: &str) -> Result<Job, EslError> {
        let uuid = new_uuid();
        let bytes = command::bgapi(command, Some(&uuid))?;
        let (slot, result) = oneshot::channel();
        let max = self.shared.config.max_in_flight;
        let mut job = Job {
            uuid: uuid.clone(),
            reply: None,
            result: Some(result),
            shared: Arc::downgrade(&self.shared),
        };
        let receiver = self.shared.enqueue(bytes, |state| {
            if state.jobs.len() >= max {
                return Err(EslError::Overloaded("too many background jobs pending"));
            }
            state.jobs.insert(uuid, slot);
            Ok(())
        })?;
        let response = self
            .shared
            .await_reply(receiver, self.shared.config.command_timeout)
            .await?;
        job.reply = Some(expect_ok(response)?);
        Ok(job)
    }

    /// Runs `command` as `bgapi` and waits up to `timeout` for its output, so a long command
    /// (`originate`) never blocks the socket the way `api` does. Needs a subscription to
    /// `BACKGROUND_JOB` (or `ALL`).
    pub async fn api_in_background(
        &self,
        command: &str,
        timeout: Duration,
    ) -> Result<ApiResponse, EslError> {
        let result = self.bgapi(command).await?.wait(timeout).await?;
        Ok(ApiResponse::new(result.body().unwrap_or_default().to_vec()))
    }

    /// `sendmsg`: sends the message and returns its `+OK` reply.
    pub async fn sendmsg(
        &self,
        message: &SendMsg,
        timeout: Option<Duration>,
    ) -> Result<Reply, EslError> {
        expect_ok(self.send_command(message.encode()?, timeout).await?)
    }

    /// Executes a dialplan application with its own `Event-UUID`, and optionally waits for
    /// the matching `CHANNEL_EXECUTE_COMPLETE`.
    pub async fn execute(
        &self,
        app: &str,
        arg: Option<&str>,
        options: &ExecuteOptions,
    ) -> Result<Execution, EslError> {
        let event_uuid = new_uuid();
        let mut message = SendMsg::execute(app, arg)
            .event_uuid(&event_uuid)
            .event_lock(options.event_lock)
            .async_execute(options.async_execute);
        if let Some(uuid) = &options.uuid {
            message = message.uuid(uuid);
        }
        if let Some(loops) = options.loops {
            message = message.loops(loops);
        }
        let bytes = message.encode()?;
        let timeout = options
            .timeout
            .unwrap_or(self.shared.config.command_timeout);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut completion = None;
        let max = self.shared.config.max_in_flight;
        let receiver = self.shared.enqueue(bytes, |state| {
            if !options.wait_for_completion {
                return Ok(());
            }
            if state.executions.len() >= max {
                return Err(EslError::Overloaded("too many executions awaited"));
            }
            let (slot, receiver) = oneshot::channel();
            completion = Some(receiver);
            state.executions.insert(
                event_uuid.clone(),
                ExecutionWaiter {
                    channel: options.uuid.clone(),
                    slot,
                },
            );
            Ok(())
        })?;
        let _guard = completion.is_some().then_some(ExecutionGuard {
            shared: &self.shared,
            id: &event_uuid,
        });
        let reply = expect_ok(self.shared.await_reply(receiver, timeout).await?)?;
        let completion = match completion {
            None => None,
            Some(receiver) => match tokio::time::timeout_at(deadline, receiver).await {
                Err(_) => {
                    return Err(EslError::Timeout {
                        what: "application completion",
                        after: timeout,
                    })
                }
                Ok(Err(_)) => return Err(EslError::ConnectionClosed("connection ended".into())),
                Ok(Ok(outcome)) => Some(outcome?),
            },
        };
        Ok(Execution {
            event_uuid: event_uuid.clone(),
            reply,
            completion,
        })
    }

    /// `event <format> <names...>` (put `CUSTOM sub1 sub2` last). Replayed after a reconnect.
    pub async fn subscribe(&self, format: EventFormat, names: &[&str]) -> Result<Reply, EslError> {
        self.subscription(command::event(format, names)?, Replay::Append)
            .await
    }

    /// `nixevent <names...>`.
    pub async fn unsubscribe(&self, names: &[&str]) -> Result<Reply, EslError> {
        self.subscription(command::nixevent(names)?, Replay::Append)
            .await
    }

    /// `noevents`.
    pub async fn noevents(&self) -> Result<Reply, EslError> {
        self.subscription(command::noevents(), Replay::ClearEvents)
            .await
    }

    /// `myevents [<uuid>] <format>`: the events of one channel (outbound: its own).
    pub async fn myevents(
        &self,
        uuid: Option<&str>,
        format: EventFormat,
    ) -> Result<Reply, EslError> {
        self.subscription(command::myevents(uuid, format)?, Replay::Append)
            .await
    }

    /// `filter <header> <value>`. Replayed after a reconnect.
    pub async fn filter(&self, header: &str, value: &str) -> Result<Reply, EslError> {
        self.subscription(command::filter(header, value)?, Replay::Append)
            .await
    }

    /// `filter delete <header> [<value>]`.
    pub async fn filter_delete(
        &self,
        header: &str,
        value: Option<&str>,
    ) -> Result<Reply, EslError> {
        self.subscription(command::filter_delete(header, value)?, Replay::Append)
            .await
    }

    /// `filter delete all`.
    pub async fn filter_delete_all(&self) -> Result<Reply, EslError> {
        self.subscription(command::filter_delete_all(), Replay::ClearFilters)
            .await
    }

    /// `divert_events on|off`.
    pub async fn divert_events(&self, on: bool) -> Result<Reply, EslError> {
        self.subscription(command::divert_events(on), Replay::Append)
            .await
    }

    /// `log <level>`.
    pub async fn log(&self, level: &str) -> Result<Reply, EslError> {
        self.subscription(command::log(level)?, Replay::Append)
            .await
    }

    /// `nolog`.
    pub async fn nolog(&self) -> Result<Reply, EslError> {
        self.subscription(command::nolog(), Replay::ClearLog).await
    }

    /// `linger [seconds]` (outbound with `full`, or inbound after `myevents <uuid>`).
    pub async fn linger(&self, seconds: Option<u32>) -> Result<Reply, EslError> {
        self.checked(command::linger(seconds)).await
    }

    /// `nolinger`.
    pub async fn nolinger(&self) -> Result<Reply, EslError> {
        self.checked(command::nolinger()).await
    }

    /// `resume`.
    pub async fn resume(&self) -> Result<Reply, EslError> {
        self.checked(command::resume()).await
    }

    /// `getvar <name>`: the raw value, or `None` when unset or empty (the server answers
    /// `-ERR command not found` then).
    pub async fn getvar(&self, name: &str) -> Result<Option<String>, EslError> {
        match self.send_command(command::getvar(name)?, None).await? {
            Response::Reply(reply) if reply.text().starts_with("-ERR") => Ok(None),
            Response::Reply(reply) => Ok(Some(reply.text().to_owned())),
            Response::Api(api) => Ok(Some(api.text().into_owned())),
        }
    }

    /// `sendevent <name>` with raw headers and an optional body.
    pub async fn sendevent(
        &self,
        name: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, EslError> {
        self.checked(command::sendevent(name, headers, body)?).await
    }

    /// Waits up to `timeout` (forever if `None`) for the next queued item; `Ok(None)` on
    /// timeout, `Err(ConnectionClosed)` once the connection ended and the queue is drained.
    pub async fn recv(&self, timeout: Option<Duration>) -> Result<Option<Incoming>, EslError> {
        Ok(self
            .shared
            .queue
            .recv_batch(1, usize::MAX, timeout)
            .await?
            .pop())
    }

    /// Like [`recv`](Self::recv) but takes up to `max` items at once (empty on timeout).
    pub async fn recv_batch(
        &self,
        max: usize,
        timeout: Option<Duration>,
    ) -> Result<Vec<Incoming>, EslError> {
        self.shared.queue.recv_batch(max, usize::MAX, timeout).await
    }

    /// Like [`recv_batch`](Self::recv_batch) but stops before the items hold more than
    /// `max_bytes` ([`Incoming::approximate_size`]; at least one item is taken), so a consumer
    /// that copies the batch works on a cache-sized block.
    pub async fn recv_batch_bytes(
        &self,
        max: usize,
        max_bytes: usize,
        timeout: Option<Duration>,
    ) -> Result<Vec<Incoming>, EslError> {
        self.shared.queue.recv_batch(max, max_bytes, timeout).await
    }

    /// Takes one queued item without waiting.
    pub fn try_recv(&self) -> Result<Option<Incoming>, EslError> {
        self.shared.queue.try_recv()
    }

    /// The most recent reconnect, reported when [`Incoming::Reconnected`] is queued: why the
    /// connection dropped and where the event stream stood.
    pub fn last_gap(&self) -> Option<Gap> {
        self.shared.lock().last_gap.clone()
    }

    /// Event queue counters, with the connection's count of unsolicited replies.
    pub fn queue_stats(&self) -> QueueStats {
        QueueStats {
            unsolicited_replies: self.shared.unsolicited_replies.load(Ordering::Relaxed),
            ..self.shared.queue.stats()
        }
    }

    /// Sends `exit` (waiting briefly for `+OK bye`), then closes the socket. Items already
    /// queued can still be received; later ones are discarded, so a reader blocked on a full
    /// queue cannot hold up the `exit` reply. Pending commands fail with "connection closed";
    /// no reconnect follows.
    pub async fn close(&self) {
        self.shared.closing.store(true, Ordering::SeqCst);
        self.shared.queue.close("closed by client");
        if self.is_connected() {
            let _ = self
                .send_command(command::exit(), Some(EXIT_REPLY_WAIT))
                .await;
        }
        self.shared.stop.send_replace(true);
    }

    /// Waits until the connection has ended for good (closed and not reconnecting).
    pub async fn closed(&self) {
        let mut finished = self.shared.finished.subscribe();
        // The sender lives in `shared`, which we hold, so this cannot fail.
        let _ = finished.wait_for(|finished| *finished).await;
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Shared {
    /// Ends the connection now, without `exit` (server shutdown after its drain deadline).
    pub(crate) fn force_close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.stop.send_replace(true);
        self.queue.close("closed by server shutdown");
    }

    pub(crate) fn is_finished(&self) -> bool {
        *self.finished.borrow()
    }

    /// [`Connection::recv_batch_bytes`] for a consumer that must not keep the connection
    /// open, as a [`Connection`] clone would (the outbound server's shared event route).
    pub(crate) async fn recv_batch_bytes(
        &self,
        max: usize,
        max_bytes: usize,
        timeout: Option<Duration>,
    ) -> Result<Vec<Incoming>, EslError> {
        self.queue.recv_batch(max, max_bytes, timeout).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(commands: &[Vec<u8>]) -> Vec<String> {
        commands
            .iter()
            .map(|bytes| String::from_utf8_lossy(bytes).trim_end().to_owned())
            .collect()
    }

    #[test]
    fn a_repeated_subscription_command_is_recorded_once_at_its_latest_place() {
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

    #[test]
    fn replay_merges_event_runs_of_one_format_and_stops_after_custom() {
        let recorded = [
            command::event(EventFormat::Plain, &["BACKGROUND_JOB"]),
            command::event(EventFormat::Plain, &["CHANNEL_ANSWER"]),
            command::filter("Event-Name", "CHANNEL_ANSWER"),
            command::event(EventFormat::Plain, &["HEARTBEAT"]),
            command::event(EventFormat::Json, &["CHANNEL_HANGUP"]),
            command::event(EventFormat::Json, &["CUSTOM", "sofia::register"]),
            command::event(EventFormat::Json, &["DTMF"]),
            command::nixevent(&["DTMF"]),
        ]
        .map(|command| command.expect("valid command"));
        assert_eq!(
            lines(&merge_event_commands(&recorded)),
            [
                "event plain BACKGROUND_JOB CHANNEL_ANSWER",
                "filter Event-Name CHANNEL_ANSWER",
                "event plain HEARTBEAT",
                "event json CHANNEL_HANGUP CUSTOM sofia::register",
                "event json DTMF",
                "nixevent DTMF",
            ]
        );
        for merged in merge_event_commands(&recorded) {
            assert!(merged.ends_with(b"\n\n") && !merged[..merged.len() - 2].contains(&b'\n'));
        }
    }
}
