//! A faithful simulator of FreeSWITCH's event socket (`mod_event_socket`) with a call model,
//! for tests, demos and benchmarks.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use esl4j_sim::{Behavior, ClockMode, SimConfig, Simulator};
//! use std::time::Duration;
//! let sim = Simulator::start(SimConfig { clock: ClockMode::Virtual, ..SimConfig::default() }).await?;
//! sim.set_endpoint("user/1000", Behavior::NeverAnswer);
//! // ... connect a client to 127.0.0.1:sim.port(), `bgapi originate {originate_timeout=30}user/1000 &park`
//! sim.advance(Duration::from_secs(30)).await; // the originate fails with NO_ANSWER now
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod core;
pub mod dial;
pub mod event;
mod model;
mod perms;
mod regex;
mod server;
mod tone;
mod util;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, Notify};

use crate::core::{ApiOutput, ConnOutbox, Core, CoreConfig, Out};
pub use crate::event::{Event, Format};

/// How a registered endpoint (e.g. `user/1000`) behaves when dialed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behavior {
    /// Rings, then answers after the delay (zero: answers at once).
    AnswerAfter(Duration),
    /// Rings (180) and never answers.
    NeverAnswer,
    /// Sends early media (183) and never answers.
    EarlyMediaNeverAnswer,
    /// Sends early media, then answers after the delay.
    EarlyMediaThenAnswer(Duration),
    /// Rejects with USER_BUSY.
    Busy,
    /// Rejects with the given cause, e.g. `CALL_REJECTED`.
    Reject(String),
}

/// Which clock drives timers (ring times, timeouts, linger, heartbeats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockMode {
    /// Wall-clock time.
    #[default]
    Real,
    /// Time moves only through [`Simulator::advance`]; starts on a whole second.
    Virtual,
}

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Password for `auth`.
    pub password: String,
    /// Real or virtual time.
    pub clock: ClockMode,
    /// `FreeSWITCH-Hostname` / `hostname` output.
    pub hostname: String,
    /// HEARTBEAT interval (FreeSWITCH: 20 s); `None` disables it.
    pub heartbeat: Option<Duration>,
    /// Delay between an outbound `connect` and the park of an `async` socket session (its
    /// CHANNEL_PARK). `None`: 20 ms on the real clock, none on the virtual clock.
    pub thread_latency: Option<Duration>,
    /// `apply-inbound-acl` denies every client: each inbound connection gets
    /// `text/rude-rejection` ("Access Denied, go away."), a disconnect notice and the close,
    /// and never an `auth/request` (what a client outside the ACL sees).
    pub reject_inbound: bool,
}

/// A directory user for `userauth user@domain:password`, with the `esl-*` params of
/// FreeSWITCH's user directory. A `userauth` for a user that is not registered is accepted
/// with the simulator's password and no restrictions (a convenience; FreeSWITCH refuses it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EslUser {
    /// The user id (before the `@`).
    pub user: String,
    /// The domain (after the `@`).
    pub domain: String,
    /// `esl-password`.
    pub password: String,
    /// `esl-allowed-events`: event names separated by commas, or by blanks when there is one;
    /// `all`; subclasses after `CUSTOM`. `None`: everything.
    pub allowed_events: Option<String>,
    /// `esl-allowed-api`: API command names separated like `allowed_events`. `None`: all.
    pub allowed_api: Option<String>,
    /// `esl-allowed-log`: whether `log` is allowed (default true).
    pub allowed_log: bool,
}

impl EslUser {
    /// A user with no restrictions.
    pub fn new(user: &str, domain: &str, password: &str) -> EslUser {
        EslUser {
            user: user.into(),
            domain: domain.into(),
            password: password.into(),
            allowed_events: None,
            allowed_api: None,
            allowed_log: true,
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            port: 0,
            password: "ClueCon".into(),
            clock: ClockMode::Real,
            hostname: "esl4j-sim".into(),
            heartbeat: Some(Duration::from_secs(20)),
            thread_latency: None,
            reject_inbound: false,
        }
    }
}

/// What [`Simulator::flood`] streams.
#[derive(Debug, Clone, Default)]
pub struct FloodSpec {
    /// Stop after this many events per connection (`None`: no limit).
    pub events: Option<u64>,
    /// Stop after this long (`None`: no limit). At least one of the two must be set.
    pub duration: Option<Duration>,
    /// Events per second per connection (`None`: as fast as the connections drain).
    pub rate: Option<u32>,
}

/// State shared by the handle and the socket tasks.
pub(crate) struct Shared {
    core: Mutex<Core>,
    changed: Notify,
    commands_seen: watch::Sender<u64>,
    runtime: tokio::runtime::Handle,
    /// Real clock: when the simulator started (its time 0). `None` on the virtual clock.
    real_start: Option<Instant>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Core> {
        self.core
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the core, finishes all follow-up work, then starts requested I/O.
    pub(crate) fn with<R>(self: &Arc<Self>, f: impl FnOnce(&mut Core) -> R) -> R {
        let (result, io, earlier_timer) = {
            let mut core = self.lock();
            if let Some(start) = self.real_start {
                // catch up with the wall clock first, so new deadlines count from the true now
                core.run_until(start.elapsed().as_millis() as u64);
            }
            let before = core.next_deadline();
            let result = f(&mut core);
            core.pump();
            self.commands_seen.send_replace(core.commands_total());
            let after = core.next_deadline();
            // wake the clock task only when it must sleep less than it planned
            let earlier = after.is_some_and(|a| before.map_or(true, |b| a < b));
            (result, core.take_io(), earlier)
        };
        for action in io {
            server::perform(self, action);
        }
        if earlier_timer {
            self.changed.notify_one();
        }
        result
    }
}

/// A running simulator. Dropping it without [`shutdown`](Simulator::shutdown) stops the
/// listener too.
pub struct Simulator {
    shared: Arc<Shared>,
    port: u16,
    password: String,
    virtual_clock: bool,
    stop: watch::Sender<bool>,
}

/// The largest time the flush barrier of [`Simulator::advance`] waits for slow connections.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// An unpaced flood stops waiting for a connection that drained nothing for this long.
const FLOOD_STALL_TIMEOUT: Duration = Duration::from_secs(10);

/// One connection a flood streams to.
struct FloodTarget {
    slot: ConnOutbox,
    /// Frames dropped in a row because its queue was full.
    lost: u32,
    /// The flood stopped waiting for it (it drained nothing for [`FLOOD_STALL_TIMEOUT`]).
    given_up: bool,
}

impl Simulator {
    /// Binds 127.0.0.1:`port` and starts serving.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
        let port = listener.local_addr()?.port();
        let virtual_clock = config.clock == ClockMode::Virtual;
        let now = util::system_epoch_ms();
        let core = Core::new(CoreConfig {
            password: config.password.clone(),
            hostname: config.hostname.clone(),
            thread_latency_ms: match (config.thread_latency, virtual_clock) {
                (Some(latency), _) => latency.as_millis() as u64,
                (None, true) => 0,
                (None, false) => 20,
            },
            heartbeat_ms: config.heartbeat.map(|d| d.as_millis().max(1) as u64),
            reject_inbound: config.reject_inbound,
            epoch_base_ms: if virtual_clock {
                now / 1000 * 1000
            } else {
                now
            },
        });
        let shared = Arc::new(Shared {
            core: Mutex::new(core),
            changed: Notify::new(),
            commands_seen: watch::channel(0).0,
            real_start: (!virtual_clock).then(Instant::now),
            runtime: tokio::runtime::Handle::current(),
        });
        let (stop, stop_rx) = watch::channel(false);
        tokio::spawn(server::accept_loop(
            shared.clone(),
            listener,
            stop_rx.clone(),
        ));
        if let Some(start) = shared.real_start {
            tokio::spawn(real_clock(shared.clone(), start, stop_rx));
        }
        Ok(Simulator {
            shared,
            port,
            password: config.password,
            virtual_clock,
            stop,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The password clients must send.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// Scripts a dialable endpoint such as `user/1000`.
    pub fn set_endpoint(&self, name: &str, behavior: Behavior) {
        self.shared.with(|core| core.set_endpoint(name, behavior));
    }

    /// Switches `reject_inbound` (see [`SimConfig`]) for connections accepted from now on;
    /// open connections are not affected.
    pub fn reject_inbound(&self, reject: bool) {
        self.shared.with(|core| core.set_reject_inbound(reject));
    }

    /// Registers (or replaces) a directory user for `userauth`.
    pub fn add_user(&self, user: EslUser) {
        self.shared.with(|core| core.add_user(user));
    }

    /// `name` rings and answers after `delay`.
    pub fn answer_after(&self, name: &str, delay: Duration) {
        self.set_endpoint(name, Behavior::AnswerAfter(delay));
    }

    /// `name` rings forever.
    pub fn never_answer(&self, name: &str) {
        self.set_endpoint(name, Behavior::NeverAnswer);
    }

    /// `name` sends early media and never answers.
    pub fn early_media_never_answer(&self, name: &str) {
        self.set_endpoint(name, Behavior::EarlyMediaNeverAnswer);
    }

    /// `name` is busy.
    pub fn busy(&self, name: &str) {
        self.set_endpoint(name, Behavior::Busy);
    }

    /// `name` rejects with `cause`.
    pub fn reject(&self, name: &str, cause: &str) {
        self.set_endpoint(name, Behavior::Reject(cause.to_string()));
    }

    /// Sets the dialplan of an extension (used by `loopback/EXT/default` and by
    /// `originate <dial> EXT`): a list of `(application, argument)`.
    pub fn set_route(&self, extension: &str, apps: &[(&str, &str)]) {
        let apps = apps
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        self.shared.with(|core| core.set_route(extension, apps));
    }

    /// Routes an extension to an outbound server: `socket host:port [async] [full]`.
    pub fn route_to_socket(&self, extension: &str, target: &str) {
        self.set_route(extension, &[("socket", target)]);
    }

    /// The first line of every command received so far (the most recent 10 000).
    pub fn commands(&self) -> Vec<String> {
        self.shared.lock().command_lines()
    }

    /// Every command received so far as whole messages (the most recent 10 000, at most
    /// 64 MiB): the command line, its header lines (`sendmsg`'s `call-command` …) and, after a
    /// blank line, the body, as sent (`\r` kept, the final line ending dropped).
    pub fn command_texts(&self) -> Vec<String> {
        self.shared.lock().command_texts()
    }

    /// How many commands were received in total, including those the log no longer holds.
    pub fn commands_total(&self) -> u64 {
        self.shared.lock().commands_total()
    }

    /// Waits until at least `count` commands have been received in total; false on timeout.
    pub async fn wait_for_commands(&self, count: u64, timeout: Duration) -> bool {
        let mut seen = self.shared.commands_seen.subscribe();
        tokio::time::timeout(timeout, seen.wait_for(|n| *n >= count))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The caller on channel `uuid` presses `digits` (one DTMF event per digit); false when
    /// there is no such live channel.
    pub async fn send_dtmf(&self, uuid: &str, digits: &str) -> bool {
        let sent = self.shared.with(|core| core.dtmf(uuid, digits));
        self.flush().await;
        sent
    }

    /// Runs an API command against the simulator's state as `api <command>` on an event socket
    /// would, without a connection, and returns its output (e.g. `"+OK\n"`, or
    /// `"-ERR no reply\n"` for none). `originate` returns when it ends: on the virtual clock,
    /// advance it from another task meanwhile. The `API` event is fired as usual; the
    /// command log is not written.
    pub async fn api(&self, command: &str) -> String {
        let output = self.shared.with(|core| core.api_direct(command));
        let text = match output {
            ApiOutput::Ready(text) => text,
            ApiOutput::Pending(result) => result
                .await
                .unwrap_or_else(|_| "-ERR the simulator stopped\n".into()),
        };
        self.flush().await;
        text
    }

    /// Number of live channels.
    pub fn channel_count(&self) -> usize {
        self.shared.lock().channel_count()
    }

    /// Fires an event to subscribed connections; standard headers are added in front.
    pub async fn fire_event(&self, event: &Event) {
        self.fire_events(std::slice::from_ref(event)).await;
    }

    /// Fires events in order, as [`fire_event`](Self::fire_event) does each, and returns once
    /// all are written: one lock and one flush for the lot, for load tests.
    pub async fn fire_events(&self, events: &[Event]) {
        self.shared.with(|core| {
            for event in events {
                core.fire_custom(event);
            }
        });
        self.flush().await;
    }

    /// Virtual clock: moves time forward, firing every timer that falls due in order, and
    /// returns once the resulting frames are written to the sockets. No-op on the real clock.
    pub async fn advance(&self, by: Duration) {
        if !self.virtual_clock {
            return;
        }
        self.shared.with(|core| {
            let target = core.now_ms() + by.as_millis() as u64;
            core.run_until(target);
        });
        self.flush().await;
    }

    /// Simulated milliseconds since start (virtual clock) or wall-clock milliseconds (real).
    pub fn now_ms(&self) -> u64 {
        self.shared.with(|core| core.now_ms())
    }

    /// Waits until every frame produced so far is written to its socket.
    pub async fn flush(&self) {
        let boxes = self.shared.lock().outboxes(false);
        let mut waits = Vec::new();
        for slot in boxes {
            let (tx, rx) = oneshot::channel();
            if slot.outbox.send(Out::Flush(tx)).is_ok() {
                waits.push(rx);
            }
        }
        for wait in waits {
            let _ = tokio::time::timeout(FLUSH_TIMEOUT, wait).await;
        }
    }

    /// Load mode: streams the recorded frames of `corpus` (concatenated `text/event-plain`
    /// frames, e.g. `events-plain.bin`) round-robin to every subscribed connection while the
    /// simulator keeps answering commands. Returns the number of events sent per connection.
    ///
    /// Without a `rate` the flood goes as fast as the connections drain: when one has 4096
    /// frames unwritten it waits (woken by the writer, without polling) until it has 2048, and gives up waiting for a connection that drains nothing for 10 s. With a
    /// `rate`, or for a connection given up on, it behaves like FreeSWITCH's event queue: while
    /// 100 000 frames wait, new ones are dropped, and after 500 drops in a row the connection
    /// is killed with "killed listener because of lost events". Run one flood at a time.
    pub async fn flood(&self, corpus: &[u8], spec: FloodSpec) -> std::io::Result<u64> {
        let frames = split_frames(corpus)?;
        if frames.is_empty() || (spec.events.is_none() && spec.duration.is_none()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "empty corpus or unbounded flood",
            ));
        }
        let started = Instant::now();
        let deadline = spec.duration.map(|d| started + d);
        let per_event = spec
            .rate
            .filter(|r| *r > 0)
            .map(|r| Duration::from_secs_f64(1.0 / f64::from(r)));
        let mut sent = 0u64;
        let mut targets = self.flood_targets(Vec::new());
        let mut since_refresh = 0u32;
        'flood: loop {
            if spec.events.is_some_and(|n| sent >= n)
                || deadline.is_some_and(|d| Instant::now() >= d)
            {
                break;
            }
            since_refresh += 1;
            if since_refresh >= 256 {
                since_refresh = 0;
                targets = self.flood_targets(targets);
            }
            if per_event.is_none() {
                let behind = |t: &&mut FloodTarget| {
                    !t.given_up && t.slot.backlog.len() >= core::FLOOD_HIGH_WATER
                };
                for target in targets.iter_mut().filter(behind) {
                    // the connection keeps answering commands while the flood waits here
                    let until = deadline.map_or(Instant::now() + FLOOD_STALL_TIMEOUT, |d| {
                        d.min(Instant::now() + FLOOD_STALL_TIMEOUT)
                    });
                    let drained =
                        tokio::time::timeout_at(until.into(), target.slot.backlog.drained()).await;
                    if drained.is_err() {
                        if deadline.is_some_and(|d| Instant::now() >= d) {
                            break 'flood;
                        }
                        target.given_up = true;
                    }
                }
            }
            let frame = &frames[(sent as usize) % frames.len()];
            let mut slow = Vec::new();
            targets.retain_mut(|target| {
                let queue_semantics = per_event.is_some() || target.given_up;
                if queue_semantics && target.slot.backlog.len() >= core::MAX_QUEUED_EVENTS {
                    target.lost += 1;
                    if target.lost > core::MAX_MISSED_EVENTS {
                        slow.push(target.slot.conn);
                        return false;
                    }
                    return true;
                }
                target.lost = 0;
                target.slot.backlog.added(1);
                target.slot.outbox.send(Out::Frame(frame.clone())).is_ok()
            });
            for conn in slow {
                self.shared.with(|core| core.kill_slow_listener(conn));
            }
            sent += 1;
            if let Some(gap) = per_event {
                let due = started + gap * (sent as u32);
                tokio::time::sleep_until(due.into()).await;
            }
        }
        self.flush().await;
        Ok(sent)
    }

    /// The subscribed connections a flood streams to, keeping what it knew of those in
    /// `previous`.
    fn flood_targets(&self, previous: Vec<FloodTarget>) -> Vec<FloodTarget> {
        self.shared
            .lock()
            .outboxes(true)
            .into_iter()
            .map(|slot| {
                let known = previous.iter().find(|t| t.slot.conn == slot.conn);
                FloodTarget {
                    lost: known.map_or(0, |t| t.lost),
                    given_up: known.is_some_and(|t| t.given_up),
                    slot,
                }
            })
            .collect()
    }

    /// Stops accepting, closes every connection and the clock task.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let boxes = self.shared.lock().outboxes(false);
        for slot in boxes {
            let _ = slot.outbox.send(Out::Close);
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Splits concatenated server frames (header block, blank line, Content-Length body), such as a
/// flood corpus, into the exact bytes of each frame.
pub fn split_frames(corpus: &[u8]) -> std::io::Result<Vec<Arc<[u8]>>> {
    let mut parser = esl4j_engine::proto::FrameParser::default();
    parser.feed(corpus);
    let mut frames = Vec::new();
    let mut offset = 0usize;
    let invalid = |e: esl4j_engine::ProtocolError| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
    };
    while let Some(frame) = parser.next_frame().map_err(invalid)? {
        // keep the exact original bytes: header block + blank line + body
        let len = frame.header_block().len() + 1 + frame.body().len();
        let end = (offset + len).min(corpus.len());
        frames.push(Arc::from(&corpus[offset..end]));
        offset = end;
    }
    Ok(frames)
}

async fn real_clock(shared: Arc<Shared>, start: Instant, mut stop: watch::Receiver<bool>) {
    loop {
        // `with` fires everything due up to now
        let next = shared.with(|core| core.next_deadline());
        let sleep_for = next.map(|due| {
            Duration::from_millis(due.saturating_sub(start.elapsed().as_millis() as u64))
        });
        tokio::select! {
            _ = stop.changed() => return,
            _ = shared.changed.notified() => {}
            _ = async {
                match sleep_for {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    }
}
