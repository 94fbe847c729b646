//! One live Event Socket connection: a cloneable [`Connection`] handle, a writer task and a
//! reader task. Shared by inbound clients ([`crate::Client`]) and outbound sessions
//! ([`crate::Session`]).
//!
//! Replies are matched to commands in FIFO order: the reply slot is registered and the command
//! bytes handed to the [`Outbox`](crate::outbox::Outbox) under one lock, so the order of slots
//! is the order on the wire. The sending thread writes the command itself when the socket takes
//! it at once. A caller that times out leaves its slot in place; the late reply fills the
//! orphaned slot and is discarded, so it can never be handed to the next caller. Events are
//! routed by content, never by position.
//!
//! This file is the command API; `state.rs` holds what is awaited and routes each message,
//! `driver.rs` is the reader loop, `direct.rs` the blocking caller that reads its own reply,
//! `reconnect.rs` the connection's lifetime and reconnects.

mod direct;
mod driver;
mod reconnect;
mod state;

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tracing::Instrument;

use crate::error::EslError;
use crate::id::new_uuid;
use crate::log_limit::LogLimit;
use crate::proto::command::{self, SendMsg};
use crate::proto::{ApiResponse, Event, EventFormat, FrameLimits, FrameParser, Reply};
use crate::queue::{EventQueue, Incoming, OverflowPolicy, QueueBounds, QueueStats};
use reconnect::run;
pub(crate) use reconnect::Reconnect;
pub use reconnect::ReconnectPolicy;
pub(crate) use state::Shared;
use state::{ExecutionWaiter, Replay, State};

/// At most one warning line about undecodable events per connection and interval, plus a
/// summary with how many more there were.
const UNDECODABLE_WARNING_INTERVAL: Duration = Duration::from_secs(10);

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

/// How long `close()` waits for the reply to `exit` before closing anyway.
const EXIT_REPLY_WAIT: Duration = Duration::from_secs(2);

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
        reconnect: Option<Reconnect>,
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
            undecodable_events: LogLimit::new(UNDECODABLE_WARNING_INTERVAL),
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
        self.note_exit(&bytes);
        let receiver = self.shared.enqueue(bytes, |_| Ok(()))?;
        self.shared
            .await_reply(
                receiver,
                timeout.unwrap_or(self.shared.config.command_timeout),
            )
            .await
    }

    /// [`send_command`](Self::send_command) for a thread outside the runtime, which blocks
    /// until the reply or the deadline (the command timeout when `None`). The thread writes its
    /// command and, while the reader task is not busy, reads the socket itself (libesl's way):
    /// the reply wakes this thread and no other. Events read meanwhile go to the queue in
    /// order, before the reply is handed over; when the reader task is reading, it hands the
    /// reply over as for [`send_command`](Self::send_command). Refused on a runtime thread,
    /// which must not block.
    pub fn send_command_blocking(
        &self,
        bytes: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<Response, EslError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(EslError::Io(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "a blocking command was sent from a runtime thread",
            )));
        }
        self.note_exit(&bytes);
        let timeout = timeout.unwrap_or(self.shared.config.command_timeout);
        let receiver = self.shared.enqueue(bytes, |_| Ok(()))?;
        self.shared.wait_reply_blocking(receiver, timeout)
    }

    /// The caller ends the session with `exit` (or `...`): the close that follows must not be
    /// reconnected.
    fn note_exit(&self, bytes: &[u8]) {
        if bytes.starts_with(b"exit\n") || bytes.starts_with(b"...\n") {
            self.shared.closing.store(true, Ordering::SeqCst);
        }
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
