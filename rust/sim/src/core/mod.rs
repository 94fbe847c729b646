//! The simulated switch: channels, applications, originate/bridge, listeners and timers.
//! Everything runs under one lock in deterministic order; I/O happens outside it.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Notify};

use crate::dial::{is_true, DialString};
use crate::event::{Event, Format};
use crate::model::{
    call_state_number, cause_number, dial_status, is_extended, Channel, ChannelState, Signal,
};
use crate::perms::{AllowedApi, AllowedEvents};
use crate::util::{event_dates, new_uuid, whole_second_deadline};
use crate::{Behavior, EslUser};

mod api;
mod apps;
mod commands;
mod originate;

pub(crate) type ConnId = u64;

/// What a connection's writer task receives.
pub(crate) enum Out {
    Frame(Arc<[u8]>),
    /// A command's reply or api response: written before frames still queued, because
    /// mod_event_socket writes it right after running the command, while its events wait in
    /// the listener's queue (they are written only while no command is pending, MES:1375).
    Reply(Arc<[u8]>),
    Flush(oneshot::Sender<()>),
    Close,
}

/// The frames handed to one connection's writer and not yet written to its socket, with a
/// wake-up for a flood waiting for the writer to catch up (so the flood never polls).
#[derive(Default)]
pub(crate) struct Backlog {
    frames: AtomicUsize,
    writer_gone: AtomicBool,
    drained: Notify,
    kill_flag: AtomicBool,
    kill: Notify,
    /// The frame a killed connection still writes (its disconnect notice).
    last_words: std::sync::Mutex<Option<Vec<u8>>>,
}

impl Backlog {
    /// Frames waiting for the writer.
    pub fn len(&self) -> usize {
        self.frames.load(Ordering::Relaxed)
    }

    pub fn added(&self, count: usize) {
        self.frames.fetch_add(count, Ordering::Relaxed);
    }

    /// The writer wrote one frame; wakes a waiting flood when the backlog falls below its
    /// low-water mark.
    pub fn written(&self) {
        if self.frames.fetch_sub(1, Ordering::Relaxed) == FLOOD_LOW_WATER {
            self.drained.notify_one();
        }
    }

    /// The writer stopped: nothing will drain the backlog any more.
    pub fn writer_gone(&self) {
        self.writer_gone.store(true, Ordering::Relaxed);
        self.drained.notify_one();
    }

    /// Kills the connection at once: the writer drops what is queued, writes `last_words`
    /// and closes (mod_event_socket's `kill_listener`).
    pub fn kill(&self, last_words: Vec<u8>) {
        if let Ok(mut slot) = self.last_words.lock() {
            *slot = Some(last_words);
        }
        self.kill_flag.store(true, Ordering::Relaxed);
        self.kill.notify_waiters();
    }

    pub fn is_killed(&self) -> bool {
        self.kill_flag.load(Ordering::Relaxed)
    }

    /// Resolves once [`kill`](Self::kill) was called.
    pub async fn killed(&self) {
        loop {
            // a `Notified` receives `notify_waiters` from its creation on, so none is missed
            let killed = self.kill.notified();
            if self.is_killed() {
                return;
            }
            killed.await;
        }
    }

    pub fn take_last_words(&self) -> Option<Vec<u8>> {
        self.last_words.lock().ok().and_then(|mut slot| slot.take())
    }

    /// Waits until fewer than [`FLOOD_LOW_WATER`] frames wait, or the writer is gone.
    pub async fn drained(&self) {
        loop {
            let drained = self.drained.notified();
            if self.len() < FLOOD_LOW_WATER || self.writer_gone.load(Ordering::Relaxed) {
                return;
            }
            // `notify_one` keeps a permit when nobody waits yet, so no wake-up is lost here
            drained.await;
        }
    }
}

/// What a flood or a flush barrier needs of one connection.
pub(crate) struct ConnOutbox {
    pub conn: ConnId,
    pub outbox: mpsc::UnboundedSender<Out>,
    pub backlog: Arc<Backlog>,
}

/// An unpaced flood stops when a connection has this many frames unwritten ...
pub(crate) const FLOOD_HIGH_WATER: usize = 4096;
/// ... and goes on once it has fewer than this: refilling in bursts costs one wake-up per
/// burst instead of one per frame.
pub(crate) const FLOOD_LOW_WATER: usize = FLOOD_HIGH_WATER / 2;

/// I/O the core asks for; performed outside the lock.
pub(crate) enum IoAction {
    ConnectOutbound {
        uuid: String,
        host: String,
        port: u16,
        async_mode: bool,
        full: bool,
    },
}

/// A client → server message: the command line, headers, optional body.
#[derive(Debug, Clone, Default)]
pub(crate) struct Command {
    pub line: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The whole message as received: the header block (first line included) and, after a
    /// blank line, the body.
    pub text: String,
}

impl Command {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

const GOODBYE: &str = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";
const VERSION: &str = "FreeSWITCH Version 1.11.3-dev+git~20260821T141014Z~cc93a683ca~64bit (git cc93a68 2026-08-21 14:10:14Z 64bit)";
/// Events a `myevents` listener gets (mod_event_socket.c:2104-2126).
const MYEVENTS: [&str; 23] = [
    "CHANNEL_ANSWER",
    "CHANNEL_APPLICATION",
    "CHANNEL_BRIDGE",
    "CHANNEL_CREATE",
    "CHANNEL_DATA",
    "CHANNEL_DESTROY",
    "CHANNEL_EXECUTE",
    "CHANNEL_EXECUTE_COMPLETE",
    "CHANNEL_HANGUP",
    "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_ORIGINATE",
    "CHANNEL_UUID",
    "CHANNEL_OUTGOING",
    "CHANNEL_PARK",
    "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_STATE",
    "CHANNEL_UNBRIDGE",
    "CHANNEL_UNPARK",
    "DETECTED_SPEECH",
    "DTMF",
    "NOTALK",
    "TALK",
];
/// mod_event_socket's `MAX_QUEUE_LEN`: a listener's event queue holds this many events; while
/// it is full, new events for it are dropped.
pub(crate) const MAX_QUEUED_EVENTS: usize = 100_000;
/// mod_event_socket's `MAX_MISSED`: after this many events dropped in a row the listener is
/// killed ("killed listener because of lost events").
pub(crate) const MAX_MISSED_EVENTS: u32 = 500;
/// How long mod_event_socket waits for `auth` (inbound, per read) or `connect` (outbound).
const HANDSHAKE_TIMEOUT_MS: u64 = 25_000;
/// Commands kept in the log.
const MAX_COMMAND_LOG: usize = 10_000;
/// Bytes of message text kept in the log (bodies can be 16 MiB each).
const MAX_COMMAND_LOG_BYTES: usize = 64 * 1024 * 1024;

/// Configuration the core needs.
pub(crate) struct CoreConfig {
    pub password: String,
    pub hostname: String,
    pub thread_latency_ms: u64,
    pub heartbeat_ms: Option<u64>,
    pub epoch_base_ms: u64,
    /// `apply-inbound-acl` rejects every inbound client.
    pub reject_inbound: bool,
}

/// One event socket connection: inbound, or opened by the `socket` application.
struct Conn {
    outbox: mpsc::UnboundedSender<Out>,
    backlog: Arc<Backlog>,
    /// Events dropped in a row because the queue was full (reset by the next one queued).
    lost_events: u32,
    authed: bool,
    full: bool,
    outbound: bool,
    async_mode: bool,
    connected: bool,
    session: Option<String>,
    format: Format,
    all_events: bool,
    events: HashSet<String>,
    custom: HashSet<String>,
    myevents: bool,
    filters: Vec<(String, String)>,
    busy: bool,
    held: Vec<Arc<[u8]>>,
    waiter: Option<oneshot::Sender<()>>,
    linger: Option<i64>,
    down_notified: bool,
    closed: bool,
    /// `log <level>`: log lines up to this level are sent.
    log_level: Option<u8>,
    /// Commands read on this connection (restarts the authentication timeout).
    commands_read: u64,
    /// `userauth` with `esl-allowed-events` (LFLAG_AUTH_EVENTS); `None`: all allowed.
    allowed_events: Option<AllowedEvents>,
    /// `userauth` with `esl-allowed-api`; `None`: all allowed.
    allowed_api: Option<AllowedApi>,
    /// LFLAG_ALLOW_LOG: `log` is permitted.
    allow_log: bool,
}

impl Conn {
    /// Queues an event frame like mod_event_socket's `event_handler`: while the queue is full
    /// the event is dropped; false when more than [`MAX_MISSED_EVENTS`] were dropped in a row,
    /// and the listener must be killed.
    fn enqueue_event(&mut self, frame: Arc<[u8]>) -> bool {
        let waiting = if self.busy {
            self.held.len()
        } else {
            self.backlog.len()
        };
        if waiting >= MAX_QUEUED_EVENTS {
            self.lost_events += 1;
            return self.lost_events <= MAX_MISSED_EVENTS;
        }
        self.lost_events = 0;
        if self.busy {
            self.held.push(frame);
        } else {
            self.backlog.added(1);
            let _ = self.outbox.send(Out::Frame(frame));
        }
        true
    }

    fn subscribed(&self) -> bool {
        self.all_events || !self.events.is_empty()
    }

    /// `channel` and `owner` are the event's `Unique-ID` and `Job-Owner-UUID`, looked up once
    /// per event by the caller: with thousands of outbound sessions, a header scan per
    /// connection made every event cost O(sessions) scans under the core lock.
    fn accepts(&self, event: &Event, channel: Option<&str>, owner: Option<&str>) -> bool {
        if !self.authed || self.closed {
            return false;
        }
        // myevents first: it is the cheapest test and rejects almost every event at scale.
        if self.myevents {
            if let Some(session) = self.session.as_deref() {
                if channel != Some(session) && owner != Some(session) {
                    return false;
                }
            }
        }
        let name = event.name();
        // a CUSTOM event needs the CUSTOM type and, when it has a subclass, that subclass
        let wanted = self.all_events
            || (self.events.contains(name)
                && (name != "CUSTOM"
                    || event
                        .get("Event-Subclass")
                        .map_or(true, |s| self.custom.contains(s))));
        if !wanted {
            return false;
        }
        if !self.filters.is_empty() && !filters_pass(&self.filters, event) {
            return false;
        }
        true
    }
}

/// mod_event_socket's filter rule: positive matches are OR'ed, a negative match vetoes,
/// so a set of only negative filters blocks everything.
fn filters_pass(filters: &[(String, String)], event: &Event) -> bool {
    let mut send = false;
    for (header, wanted) in filters {
        let Some(actual) = event.get(header) else {
            continue;
        };
        if wanted.starts_with('/') {
            // `/regex/flags`: switch_regex_perform; a pattern that does not compile never matches
            if crate::regex::Regex::from_filter(wanted).is_some_and(|re| re.is_match(actual)) {
                send = true;
            }
            continue;
        }
        let (negative, value) = match wanted.as_bytes().first() {
            Some(b'-') => (true, &wanted[1..]),
            Some(b'+') => (false, &wanted[1..]),
            _ => (false, wanted.as_str()),
        };
        if actual.eq_ignore_ascii_case(value) {
            if negative {
                return false;
            }
            send = true;
        }
    }
    send
}

/// Who started an application, which decides what happens when it ends.
#[derive(Debug, Clone)]
enum AppOrigin {
    Dialplan,
    /// Queued by `sendmsg`; with the message's headers when a PRIVATE_COMMAND follows it.
    Queued {
        private_command: Option<Vec<(String, String)>>,
    },
    Inline(ConnId),
}

/// An application to run on a channel.
#[derive(Debug, Clone)]
struct AppCall {
    name: String,
    arg: String,
    app_uuid: Option<String>,
    app_uuid_name: Option<String>,
    origin: AppOrigin,
    /// `event-lock: true`: no queued message runs until this application ended.
    event_lock: bool,
}

impl AppCall {
    fn dialplan(name: &str, arg: &str) -> Self {
        AppCall {
            name: name.into(),
            arg: arg.into(),
            app_uuid: None,
            app_uuid_name: None,
            origin: AppOrigin::Dialplan,
            event_lock: false,
        }
    }
}

/// What a running application waits for.
#[derive(Debug)]
enum Blocking {
    Park,
    Wait,
    Playback,
    Bridge,
    Bridged,
    Socket {
        conn: Option<ConnId>,
        async_mode: bool,
    },
}

/// An application in progress; applications nest (e.g. a `sendmsg` app inside `park`).
struct Running {
    call: AppCall,
    kind: Blocking,
    token: u64,
    /// Its time is up while an application it runs nested (a queued message) still runs: it
    /// ends when that one has.
    expired: bool,
}

/// A channel and its execution state (the work of its session thread).
struct Chan {
    ch: Channel,
    dialplan: VecDeque<AppCall>,
    /// Messages queued by `sendmsg`, run while the channel is parked or in an application that
    /// reads them (sleep, playback, echo, conference).
    private: VecDeque<AppCall>,
    stack: Vec<Running>,
    /// Loopback partner leg.
    partner: Option<String>,
    /// Originate this channel is a pending leg of.
    originate: Option<u64>,
    /// A leg with no dialplan of its own: waits instead of hanging up.
    idle: bool,
    bridged_with: Option<String>,
    park_started: bool,
    phase2_done: bool,
    locks: usize,
    /// CF_DIVERT_EVENTS (`divert_events on`).
    divert_events: bool,
    /// A bridge outcome that waits for the queued message running nested in the bridge.
    pending_bridge: Option<PendingBridge>,
}

/// What happened to a bridge while a queued message ran nested in it.
#[derive(Debug, Clone)]
enum PendingBridge {
    Established {
        peer: String,
        early: bool,
    },
    Failed {
        cause: String,
        causes: Vec<(String, String)>,
    },
    Unbridged {
        cause: String,
    },
}

/// Who waits for an originate's outcome.
enum Owner {
    Api {
        conn: ConnId,
        arg: String,
    },
    Bgapi {
        conn: ConnId,
        job: String,
        arg: String,
    },
    Bridge {
        caller: String,
    },
    /// A branch of the enterprise originate `parent`.
    Branch {
        parent: u64,
        index: usize,
    },
    /// [`Simulator::api`](crate::Simulator::api) without a connection.
    Direct {
        result: oneshot::Sender<String>,
        arg: String,
    },
}

/// The output of an API command run without a connection: at once, or when an originate ends.
pub(crate) enum ApiOutput {
    Ready(String),
    Pending(oneshot::Receiver<String>),
}

/// An enterprise originate (`:_:`) in progress: its branches run as originates of their own.
struct Enterprise {
    owner: Owner,
    after: Vec<AppCall>,
    /// The originate id of each branch.
    branches: Vec<u64>,
    /// Each branch's failure cause, once it failed.
    outcomes: Vec<Option<String>>,
    causes: Vec<(String, String)>,
}

/// An originate in progress (API, bgapi or bridge).
struct Originate {
    owner: Owner,
    dial: DialString,
    group: usize,
    /// Counts group starts, so the timers of an earlier attempt at a group do not fire on a
    /// later one.
    round: u64,
    /// `originate_retries` minus the attempts already begun after the first.
    retries_left: u32,
    /// `originate_retry_sleep_ms`: the pause before each group of a retry attempt.
    retry_sleep_ms: u64,
    retrying: bool,
    legs: Vec<String>,
    /// Legs of the current group still held by their `leg_delay_start`.
    delayed: usize,
    /// When the current group started (sim ms): leg timeouts count from here.
    group_started_ms: u64,
    causes: Vec<(String, String)>,
    early_ok: bool,
    /// `bridge_early_media=true`: the caller gets the far end's early media while the
    /// originate waits for the answer.
    bridge_early_media: bool,
    continue_on_timeout: bool,
    /// `fail_on_single_reject`: `true` or a list of causes that end a `,` ring-all at once.
    fail_on_single_reject: Option<String>,
    timeout_s: u64,
    progress_timeout_s: Option<u64>,
    got_progress: bool,
    after: Vec<AppCall>,
    done: bool,
    extra_globals: Vec<(String, String)>,
    caller: Option<String>,
}

/// Something due at a point of (real or virtual) time.
#[derive(Debug, Clone)]
enum Timer {
    AppDone {
        uuid: String,
        token: u64,
    },
    Remote {
        uuid: String,
        signal: Signal,
    },
    OriginateTimeout {
        id: u64,
        round: u64,
    },
    ProgressTimeout {
        id: u64,
        round: u64,
    },
    /// A group of an `originate_retries` attempt starts after `originate_retry_sleep_ms`.
    RetryGroup {
        id: u64,
    },
    LegTimeout {
        uuid: String,
    },
    /// Leg `leg` of group round `round` starts after its `leg_delay_start`.
    LegStart {
        id: u64,
        round: u64,
        leg: usize,
        delay_s: u64,
    },
    /// `leg_progress_timeout`: no 180/183/answer on that leg yet.
    LegProgressTimeout {
        uuid: String,
    },
    /// `bridge_answer_timeout`: the bridged peer is still unanswered.
    BridgeAnswerTimeout {
        uuid: String,
    },
    Linger {
        conn: ConnId,
    },
    AsyncPark {
        uuid: String,
    },
    Heartbeat,
    /// An outbound server must send `connect` within 25 s.
    ConnectTimeout {
        conn: ConnId,
    },
    /// mod_event_socket reads with a 25 s timeout until the client authenticates.
    AuthTimeout {
        conn: ConnId,
        commands: u64,
    },
}

/// Follow-up work, run in order by `pump` (the simulated threads' next steps).
enum Action {
    Run(String),
    Hangup(String, String),
    Leg {
        id: u64,
        uuid: String,
        update: LegUpdate,
    },
    Unbridge {
        uuid: String,
        cause: String,
    },
    /// A loopback partner went away while its hangup cannot finish: media stops.
    MediaGone(String),
    Timer(Timer),
}

/// What a pending originate leg did.
#[derive(Debug, Clone)]
enum LegUpdate {
    Progress,
    Early,
    Answer,
    Failed(String),
}

/// The simulated FreeSWITCH.
pub(crate) struct Core {
    cfg: CoreConfig,
    core_uuid: String,
    now_ms: u64,
    seq: u64,
    next_id: u64,
    session_count: u64,
    conns: BTreeMap<ConnId, Conn>,
    chans: HashMap<String, Chan>,
    chan_order: Vec<String>,
    originates: HashMap<u64, Originate>,
    enterprises: HashMap<u64, Enterprise>,
    timers: BTreeMap<(u64, u64), Timer>,
    actions: VecDeque<Action>,
    io: Vec<IoAction>,
    endpoints: HashMap<String, Behavior>,
    /// Directory users for `userauth`, by `(user, domain)`.
    users: HashMap<(String, String), EslUser>,
    routes: HashMap<String, Vec<(String, String)>>,
    globals: Vec<(String, String)>,
    /// `(command line, whole message)` of the most recent commands.
    command_log: VecDeque<(String, String)>,
    command_log_bytes: usize,
    commands_total: u64,
}

impl Core {
    pub fn new(cfg: CoreConfig) -> Self {
        let mut routes = HashMap::new();
        let apps = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        routes.insert("answer".into(), apps(&[("answer", ""), ("park", "")]));
        routes.insert(
            "noanswer".into(),
            apps(&[("ring_ready", ""), ("sleep", "120000")]),
        );
        routes.insert(
            "earlymedia".into(),
            apps(&[
                ("pre_answer", ""),
                ("playback", "tone_stream://%(1000,0,440);loops=-1"),
            ]),
        );
        routes.insert("busy".into(), apps(&[("hangup", "USER_BUSY")]));
        routes.insert(
            "late_answer".into(),
            apps(&[
                ("ring_ready", ""),
                ("sleep", "2000"),
                ("answer", ""),
                ("park", ""),
            ]),
        );
        routes.insert("echo".into(), apps(&[("answer", ""), ("echo", "")]));
        routes.insert(
            "outbound".into(),
            apps(&[("socket", "127.0.0.1:8084 async full")]),
        );
        routes.insert(
            "outbound_sync".into(),
            apps(&[("socket", "127.0.0.1:8084 full")]),
        );
        let mut core = Core {
            core_uuid: new_uuid(),
            cfg,
            now_ms: 0,
            seq: 0,
            next_id: 1,
            session_count: 0,
            conns: BTreeMap::new(),
            chans: HashMap::new(),
            chan_order: Vec::new(),
            originates: HashMap::new(),
            enterprises: HashMap::new(),
            timers: BTreeMap::new(),
            actions: VecDeque::new(),
            io: Vec::new(),
            endpoints: HashMap::new(),
            users: HashMap::new(),
            routes,
            globals: vec![("hostname".into(), String::new())],
            command_log: VecDeque::new(),
            command_log_bytes: 0,
            commands_total: 0,
        };
        core.globals[0].1 = core.cfg.hostname.clone();
        if let Some(every) = core.cfg.heartbeat_ms {
            core.add_timer(every, Timer::Heartbeat);
        }
        core
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn epoch_ms(&self) -> u64 {
        self.cfg.epoch_base_ms + self.now_ms
    }

    fn now_us(&self) -> u64 {
        self.epoch_ms() * 1000
    }

    // ---------------------------------------------------------------- public surface

    pub fn set_endpoint(&mut self, name: &str, behavior: Behavior) {
        self.endpoints.insert(name.to_string(), behavior);
    }

    pub fn set_reject_inbound(&mut self, reject: bool) {
        self.cfg.reject_inbound = reject;
    }

    pub fn add_user(&mut self, user: EslUser) {
        self.users
            .insert((user.user.clone(), user.domain.clone()), user);
    }

    pub fn set_route(&mut self, extension: &str, apps: Vec<(String, String)>) {
        self.routes.insert(extension.to_string(), apps);
    }

    pub fn command_lines(&self) -> Vec<String> {
        self.command_log
            .iter()
            .map(|(line, _)| line.clone())
            .collect()
    }

    pub fn command_texts(&self) -> Vec<String> {
        self.command_log
            .iter()
            .map(|(_, text)| text.clone())
            .collect()
    }

    fn log_command(&mut self, cmd: &Command) {
        self.command_log_bytes += cmd.line.len() + cmd.text.len();
        self.command_log
            .push_back((cmd.line.clone(), cmd.text.clone()));
        while self.command_log.len() > MAX_COMMAND_LOG
            || (self.command_log_bytes > MAX_COMMAND_LOG_BYTES && self.command_log.len() > 1)
        {
            if let Some((line, text)) = self.command_log.pop_front() {
                self.command_log_bytes -= line.len() + text.len();
            }
        }
        self.commands_total += 1;
    }

    pub fn commands_total(&self) -> u64 {
        self.commands_total
    }

    pub fn channel_count(&self) -> usize {
        self.chans.len()
    }

    pub fn take_io(&mut self) -> Vec<IoAction> {
        std::mem::take(&mut self.io)
    }

    /// Outboxes of every open connection, for a flush barrier or a flood.
    pub fn outboxes(&self, subscribed_only: bool) -> Vec<ConnOutbox> {
        self.conns
            .iter()
            .filter(|(_, c)| !c.closed && (!subscribed_only || (c.authed && c.subscribed())))
            .map(|(id, c)| ConnOutbox {
                conn: *id,
                outbox: c.outbox.clone(),
                backlog: c.backlog.clone(),
            })
            .collect()
    }

    /// A listener lost more than [`MAX_MISSED_EVENTS`] events in a row: mod_event_socket kills
    /// it with a disconnect notice.
    pub fn kill_slow_listener(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get(&conn).filter(|c| !c.closed) else {
            return;
        };
        let notice = notice_frame(
            c.session.as_deref(),
            "killed listener because of lost events\n",
            "disconnect",
        );
        c.backlog.kill(notice);
        self.close_conn(conn);
    }

    /// Fires a caller-supplied event, adding the standard headers in front of its own.
    pub fn fire_custom(&mut self, event: &Event) {
        let mut full = self.base_event(event.name(), "esl4j_sim.rs", "fire_event", 1);
        for (name, value) in event.headers().iter().filter(|(n, _)| n != "Event-Name") {
            full.add(name, value.clone());
        }
        if let Some(body) = event.body() {
            full.set_body(body);
        }
        self.deliver(&full);
    }

    /// The caller on `uuid` presses `digits`: one DTMF event each. False without that channel.
    pub fn dtmf(&mut self, uuid: &str, digits: &str) -> bool {
        if !self.chan_up(uuid) {
            return false;
        }
        for digit in digits
            .chars()
            .filter(|c| c.is_ascii_digit() || "*#ABCDabcd".contains(*c))
        {
            let extra = [
                ("DTMF-Digit", digit.to_string()),
                ("DTMF-Duration", "2000".to_string()),
                ("DTMF-Source", "RTP".to_string()),
            ];
            self.emit_with(uuid, "DTMF", &extra);
        }
        true
    }

    // ---------------------------------------------------------------- clock

    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Real clock: moves to `now_ms` and fires what is due.
    pub fn run_until(&mut self, now_ms: u64) {
        while let Some((&(due, key), _)) = self.timers.iter().next() {
            if due > now_ms {
                break;
            }
            if let Some(timer) = self.timers.remove(&(due, key)) {
                self.now_ms = self.now_ms.max(due);
                self.actions.push_back(Action::Timer(timer));
                self.pump();
            }
        }
        self.now_ms = self.now_ms.max(now_ms);
        self.pump();
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.timers.keys().next().map(|(due, _)| *due)
    }

    fn add_timer(&mut self, delay_ms: u64, timer: Timer) {
        self.add_timer_at(self.now_ms + delay_ms, timer);
    }

    fn add_timer_at(&mut self, due_ms: u64, timer: Timer) {
        let key = self.id();
        self.timers.insert((due_ms, key), timer);
    }

    /// Sim time (ms) of a whole-second deadline counted from now.
    fn whole_seconds_from_now(&self, seconds: u64, inclusive: bool) -> u64 {
        self.whole_seconds_after(self.now_ms, seconds, inclusive)
    }

    /// Sim time (ms) of a whole-second deadline counted from `start_ms` (sim time).
    fn whole_seconds_after(&self, start_ms: u64, seconds: u64, inclusive: bool) -> u64 {
        let start_epoch = self.cfg.epoch_base_ms + start_ms;
        whole_second_deadline(start_epoch, seconds, inclusive) - self.cfg.epoch_base_ms
    }

    /// Delay before a session thread acts on something another thread did (the park that
    /// follows an outbound `connect`).
    fn thread_latency_ms(&self) -> u64 {
        self.cfg.thread_latency_ms
    }

    // ---------------------------------------------------------------- the work loop

    pub fn pump(&mut self) {
        while let Some(action) = self.actions.pop_front() {
            match action {
                Action::Run(uuid) => self.run_channel(&uuid),
                Action::Hangup(uuid, cause) => self.hangup(&uuid, &cause, None),
                Action::Leg { id, uuid, update } => self.leg_update(id, &uuid, update),
                Action::Unbridge { uuid, cause } => self.unbridge(&uuid, &cause),
                Action::MediaGone(uuid) => self.media_gone(&uuid),
                Action::Timer(timer) => self.fire_timer(timer),
            }
        }
    }

    fn wake(&mut self, uuid: &str) {
        self.actions.push_back(Action::Run(uuid.to_string()));
    }

    fn fire_timer(&mut self, timer: Timer) {
        match timer {
            Timer::AppDone { uuid, token } => {
                let Some(chan) = self.chans.get_mut(&uuid) else {
                    return;
                };
                match chan.stack.iter().position(|r| r.token == token) {
                    Some(i) if i + 1 == chan.stack.len() => {
                        self.complete_top(&uuid, None);
                        self.wake(&uuid);
                    }
                    // a queued message runs nested: the loop notices its time is up after it
                    Some(i) => chan.stack[i].expired = true,
                    None => {}
                }
            }
            Timer::Remote { uuid, signal } => self.remote_signal(&uuid, signal),
            Timer::OriginateTimeout { id, round } => {
                self.originate_timeout(id, round, "NO_ANSWER", false)
            }
            Timer::ProgressTimeout { id, round } => {
                self.originate_timeout(id, round, "PROGRESS_TIMEOUT", true)
            }
            Timer::RetryGroup { id } => self.start_group(id),
            Timer::LegStart {
                id,
                round,
                leg,
                delay_s,
            } => self.delayed_leg_due(id, round, leg, delay_s),
            Timer::LegTimeout { uuid } => {
                let pending = self
                    .chans
                    .get(&uuid)
                    .is_some_and(|c| c.originate.is_some() && !c.ch.is_down());
                if pending {
                    self.hangup(&uuid, "ALLOTTED_TIMEOUT", None);
                }
            }
            Timer::LegProgressTimeout { uuid } => {
                let silent = self.chans.get(&uuid).is_some_and(|c| {
                    c.originate.is_some()
                        && !c.ch.is_down()
                        && c.ch.progress_us == 0
                        && c.ch.progress_media_us == 0
                        && !c.ch.is_answered()
                });
                if silent {
                    self.hangup(&uuid, "PROGRESS_TIMEOUT", None);
                }
            }
            Timer::BridgeAnswerTimeout { uuid } => {
                let unanswered = self
                    .chans
                    .get(&uuid)
                    .is_some_and(|c| !c.ch.is_down() && !c.ch.is_answered());
                if unanswered {
                    self.hangup(&uuid, "ALLOTTED_TIMEOUT", None);
                }
            }
            Timer::Linger { conn } => self.disconnect(conn, true),
            Timer::AsyncPark { uuid } => self.start_async_park(&uuid),
            Timer::ConnectTimeout { conn } => self.connect_timed_out(conn),
            Timer::AuthTimeout { conn, commands } => {
                let idle = self
                    .conns
                    .get(&conn)
                    .is_some_and(|c| !c.authed && c.commands_read == commands);
                if idle {
                    self.disconnect(conn, true);
                }
            }
            Timer::Heartbeat => {
                self.heartbeat();
                if let Some(every) = self.cfg.heartbeat_ms {
                    self.add_timer(every, Timer::Heartbeat);
                }
            }
        }
    }

    // ---------------------------------------------------------------- events

    fn base_event(&mut self, name: &str, file: &str, function: &str, line: u32) -> Event {
        self.seq += 1;
        let (local, gmt) = event_dates(self.epoch_ms());
        let mut event = Event::named(name);
        event
            .add("Core-UUID", self.core_uuid.clone())
            .add("FreeSWITCH-Hostname", self.cfg.hostname.clone())
            .add("FreeSWITCH-Switchname", self.cfg.hostname.clone())
            .add("FreeSWITCH-IPv4", "127.0.0.1")
            .add("FreeSWITCH-IPv6", "::1")
            .add("Event-Date-Local", local)
            .add("Event-Date-GMT", gmt)
            .add("Event-Date-Timestamp", self.now_us().to_string())
            .add("Event-Calling-File", file)
            .add("Event-Calling-Function", function)
            .add("Event-Calling-Line-Number", line.to_string())
            .add("Event-Sequence", self.seq.to_string());
        event
    }

    fn channel_event(&mut self, uuid: &str, name: &str) -> Option<Event> {
        self.channel_event_with(uuid, name, &[])
    }

    /// A channel event whose own headers (`leading`) come between the standard headers and
    /// the channel data, as CHANNEL_CALLSTATE and CALL_UPDATE have them.
    fn channel_event_with(
        &mut self,
        uuid: &str,
        name: &str,
        leading: &[(&str, String)],
    ) -> Option<Event> {
        let (file, function, line) = match name {
            "CHANNEL_STATE" => (
                "switch_channel.c",
                "switch_channel_perform_set_running_state",
                2409,
            ),
            "CHANNEL_CALLSTATE" => (
                "switch_channel.c",
                "switch_channel_perform_set_callstate",
                344,
            ),
            "CHANNEL_EXECUTE" | "CHANNEL_EXECUTE_COMPLETE" => {
                ("switch_core_session.c", "switch_core_session_exec", 2972)
            }
            "CHANNEL_ANSWER" => (
                "switch_channel.c",
                "switch_channel_perform_mark_answered",
                3993,
            ),
            "CHANNEL_HANGUP" => ("switch_channel.c", "switch_channel_perform_hangup", 3470),
            _ => (
                "switch_core_state_machine.c",
                "switch_core_session_run",
                632,
            ),
        };
        let mut event = self.base_event(name, file, function, line);
        for (header, value) in leading {
            event.add(header, value.clone());
        }
        let chan = self.chans.get(uuid)?;
        let other = chan
            .ch
            .other_leg
            .as_ref()
            .and_then(|o| self.chans.get(o))
            .map(|c| &c.ch);
        chan.ch.add_headers(&mut event, other, is_extended(name));
        Some(event)
    }

    fn emit(&mut self, uuid: &str, name: &str) {
        if let Some(event) = self.channel_event(uuid, name) {
            self.deliver(&event);
        }
    }

    fn emit_with(&mut self, uuid: &str, name: &str, extra: &[(&str, String)]) {
        if let Some(mut event) = self.channel_event(uuid, name) {
            for (header, value) in extra {
                event.add(header, value.clone());
            }
            self.deliver(&event);
        }
    }

    fn set_state(&mut self, uuid: &str, state: ChannelState) {
        if let Some(chan) = self.chans.get_mut(uuid) {
            chan.ch.state = state;
            self.emit(uuid, "CHANNEL_STATE");
        }
    }

    fn set_call_state(&mut self, uuid: &str, call_state: &'static str) {
        if let Some(chan) = self.chans.get_mut(uuid) {
            let original = chan.ch.call_state;
            if original != call_state {
                chan.ch.call_state = call_state;
                let leading = [
                    ("Original-Channel-Call-State", original.to_string()),
                    (
                        "Channel-Call-State-Number",
                        call_state_number(call_state).to_string(),
                    ),
                ];
                if let Some(event) = self.channel_event_with(uuid, "CHANNEL_CALLSTATE", &leading) {
                    self.deliver(&event);
                }
            }
        }
    }

    fn deliver(&mut self, event: &Event) {
        let mut frames: [Option<Arc<[u8]>>; 3] = [None, None, None];
        let mut killed = Vec::new();
        let channel = event.get("Unique-ID");
        let owner = event.get("Job-Owner-UUID");
        for (&id, conn) in self.conns.iter_mut() {
            if !conn.accepts(event, channel, owner) {
                continue;
            }
            let slot = conn.format as usize;
            let frame = frames[slot]
                .get_or_insert_with(|| Arc::from(conn.format.frame(event)))
                .clone();
            if !conn.enqueue_event(frame) {
                killed.push(id);
            }
        }
        for id in killed {
            self.kill_slow_listener(id);
        }
    }

    fn send_raw(&mut self, conn: ConnId, bytes: Vec<u8>) {
        self.queue_out(conn, Out::Frame(Arc::from(bytes)));
    }

    /// Queues a command's response ahead of the events waiting for this connection.
    fn send_response(&mut self, conn: ConnId, bytes: Vec<u8>) {
        self.queue_out(conn, Out::Reply(Arc::from(bytes)));
    }

    fn queue_out(&mut self, conn: ConnId, out: Out) {
        if let Some(c) = self.conns.get(&conn).filter(|c| !c.closed) {
            c.backlog.added(1);
            let _ = c.outbox.send(out);
        }
    }

    fn reply(&mut self, conn: ConnId, text: &str) {
        let text = text.replace(['\r', '\n'], " ");
        self.send_response(
            conn,
            format!("Content-Type: command/reply\nReply-Text: {text}\n\n").into_bytes(),
        );
    }

    fn api_response(&mut self, conn: ConnId, body: &str) {
        self.send_response(
            conn,
            format!(
                "Content-Type: api/response\nContent-Length: {}\n\n{body}",
                body.len()
            )
            .into_bytes(),
        );
    }

    /// Ends a blocking command: the reply was just sent, now the events held meanwhile.
    fn unblock(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.busy = false;
            let held = std::mem::take(&mut c.held);
            c.backlog.added(held.len());
            for frame in held {
                let _ = c.outbox.send(Out::Frame(frame));
            }
            if let Some(waiter) = c.waiter.take() {
                let _ = waiter.send(());
            }
        }
    }

    fn send_notice(&mut self, conn: ConnId, text: &str, disposition: &str) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let frame = notice_frame(c.session.as_deref(), text, disposition);
        self.send_raw(conn, frame);
    }

    /// A `log/data` frame for every connection logging at `level` or more verbosely.
    fn log_line(&mut self, level: u8, site: (&str, &str, u32), uuid: &str, text: &str) {
        const NAMES: [&str; 8] = [
            "CONSOLE", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG",
        ];
        let (file, function, line) = site;
        let (local, _) = event_dates(self.epoch_ms());
        let micros = (self.now_us()) % 1_000_000;
        let name = NAMES.get(usize::from(level)).copied().unwrap_or("DEBUG");
        let body = format!("{local}.{micros:06} [{name}] {file}:{line} {text}\n");
        let frame: Arc<[u8]> = Arc::from(
            format!(
                "Content-Type: log/data\nContent-Length: {}\nLog-Level: {level}\nText-Channel: 3\nLog-File: {file}\nLog-Func: {function}\nLog-Line: {line}\nUser-Data: {uuid}\n\n{body}",
                body.len()
            )
            .into_bytes(),
        );
        for conn in self.conns.values_mut() {
            if !conn.authed || conn.closed || conn.log_level.map_or(true, |max| level > max) {
                continue;
            }
            // the log queue drops lines while it is full (mod_event_socket `socket_logger`)
            let waiting = if conn.busy {
                conn.held.len()
            } else {
                conn.backlog.len()
            };
            if waiting >= MAX_QUEUED_EVENTS {
                continue;
            }
            if conn.busy {
                conn.held.push(frame.clone());
            } else {
                conn.backlog.added(1);
                let _ = conn.outbox.send(Out::Frame(frame.clone()));
            }
        }
    }

    fn heartbeat(&mut self) {
        let up = self.now_ms;
        let mut event = self.base_event("HEARTBEAT", "switch_core.c", "send_heartbeat", 95);
        event
            .add("Event-Info", "System Ready")
            .add("Up-Time", uptime_text(up))
            .add(
                "FreeSWITCH-Version",
                "1.11.3-dev+git~20260821T141014Z~cc93a683ca~64bit",
            )
            .add("Uptime-msec", up.to_string())
            .add("Session-Count", self.chans.len().to_string())
            .add("Max-Sessions", "1000")
            .add("Session-Per-Sec", "200")
            .add("Session-Since-Startup", self.session_count.to_string())
            .add("Idle-CPU", "99.000000");
        self.deliver(&event);
        // the scheduler re-arms the heartbeat task and says so
        let next_run = self.epoch_ms() / 1000 + self.cfg.heartbeat_ms.unwrap_or(20_000) / 1000;
        let mut reschedule = self.base_event(
            "RE_SCHEDULE",
            "switch_scheduler.c",
            "switch_scheduler_execute",
            73,
        );
        reschedule
            .add("Task-ID", "1")
            .add("Task-Desc", "heartbeat")
            .add("Task-Group", "core")
            .add("Task-Runtime", next_run.to_string());
        self.deliver(&reschedule);
    }

    // ---------------------------------------------------------------- connections

    /// Registers an inbound connection and greets it with `auth/request`.
    pub fn add_conn(
        &mut self,
        outbox: mpsc::UnboundedSender<Out>,
        backlog: Arc<Backlog>,
    ) -> ConnId {
        let id = self.register_conn(outbox, backlog);
        if self.cfg.reject_inbound {
            // the ACL is checked before the greeting (mod_event_socket `listener_run`)
            const DENIED: &str = "Access Denied, go away.\n";
            self.send_raw(
                id,
                format!(
                    "Content-Type: text/rude-rejection\nContent-Length: {}\n\n{DENIED}",
                    DENIED.len()
                )
                .into_bytes(),
            );
            self.disconnect(id, true);
            return id;
        }
        self.send_raw(id, b"Content-Type: auth/request\n\n".to_vec());
        self.add_timer(
            HANDSHAKE_TIMEOUT_MS,
            Timer::AuthTimeout {
                conn: id,
                commands: 0,
            },
        );
        id
    }

    fn register_conn(
        &mut self,
        outbox: mpsc::UnboundedSender<Out>,
        backlog: Arc<Backlog>,
    ) -> ConnId {
        let id = self.id();
        self.conns.insert(
            id,
            Conn {
                outbox,
                backlog,
                lost_events: 0,
                authed: false,
                full: true,
                outbound: false,
                async_mode: false,
                connected: false,
                session: None,
                format: Format::Plain,
                all_events: false,
                events: HashSet::new(),
                custom: HashSet::new(),
                myevents: false,
                filters: Vec::new(),
                busy: false,
                held: Vec::new(),
                waiter: None,
                linger: None,
                down_notified: false,
                closed: false,
                log_level: None,
                commands_read: 0,
                allowed_events: None,
                allowed_api: None,
                allow_log: true,
            },
        );
        id
    }

    /// Registers the connection the `socket` application opened to an outbound server.
    pub fn add_outbound_conn(
        &mut self,
        uuid: &str,
        outbox: mpsc::UnboundedSender<Out>,
        backlog: Arc<Backlog>,
        async_mode: bool,
        full: bool,
    ) -> Option<ConnId> {
        let up = self.chans.get(uuid).is_some_and(|c| !c.ch.is_down());
        if !up {
            return None;
        }
        // outbound listeners are pre-authed and send no greeting
        let id = self.register_conn(outbox, backlog);
        if let Some(c) = self.conns.get_mut(&id) {
            c.authed = true;
            c.full = full;
            c.outbound = true;
            c.async_mode = async_mode;
            c.session = Some(uuid.to_string());
        }
        self.add_timer(HANDSHAKE_TIMEOUT_MS, Timer::ConnectTimeout { conn: id });
        if let Some(chan) = self.chans.get_mut(uuid) {
            chan.locks += 1;
            if let Some(Running {
                kind: Blocking::Socket { conn, .. },
                ..
            }) = chan.stack.last_mut()
            {
                *conn = Some(id);
            }
        }
        Some(id)
    }

    pub fn socket_failed(&mut self, uuid: &str) {
        let is_socket = self
            .chans
            .get(uuid)
            .and_then(|c| c.stack.last())
            .is_some_and(|r| matches!(r.kind, Blocking::Socket { conn: None, .. }));
        if is_socket {
            self.complete_top(uuid, Some("_none_"));
            self.wake(uuid);
        }
    }

    /// The peer closed the TCP connection.
    pub fn conn_gone(&mut self, conn: ConnId) {
        if self.conns.get(&conn).is_some_and(|c| !c.closed) {
            self.close_conn(conn);
        }
        self.conns.remove(&conn);
    }

    fn disconnect(&mut self, conn: ConnId, goodbye: bool) {
        if !self.conns.get(&conn).is_some_and(|c| !c.closed) {
            return;
        }
        if goodbye {
            self.send_notice(conn, GOODBYE, "disconnect");
        }
        self.close_conn(conn);
    }

    fn close_conn(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.closed {
            return;
        }
        c.closed = true;
        c.busy = false;
        c.held.clear();
        let _ = c.outbox.send(Out::Close);
        if let Some(waiter) = c.waiter.take() {
            let _ = waiter.send(());
        }
        let outbound = c.outbound;
        let Some(session) = c.session.clone() else {
            return;
        };
        let Some(chan) = self.chans.get_mut(&session) else {
            return;
        };
        chan.locks = chan.locks.saturating_sub(1);
        let socket_top = matches!(chan.stack.last(), Some(Running { kind: Blocking::Socket { conn: Some(id), .. }, .. }) if *id == conn);
        if outbound && socket_top {
            if chan.ch.is_down() {
                self.complete_top(&session, None);
            } else if chan.ch.var("socket_resume").is_some_and(is_true) {
                self.unpark_if_parked(&session);
                self.complete_top(&session, None);
            } else {
                self.actions
                    .push_back(Action::Hangup(session.clone(), "NORMAL_CLEARING".into()));
            }
        }
        self.wake(&session);
    }

    /// No `connect` within 25 s: the listener gives up ("Socket Error!"). An async session is
    /// left parked with nobody controlling it; a sync one returns to its dialplan.
    fn connect_timed_out(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if c.connected || c.closed {
            return;
        }
        let (async_mode, session) = (c.async_mode, c.session.clone());
        if let Some(uuid) = session {
            if async_mode {
                if let Some(chan) = self.chans.get_mut(&uuid) {
                    if let Some(top) = chan.stack.last_mut() {
                        top.kind = Blocking::Park;
                    }
                    chan.park_started = true;
                }
                self.emit(&uuid, "CHANNEL_PARK");
            } else {
                self.complete_top(&uuid, None);
            }
        }
        self.close_conn(conn);
    }

    fn unpark_if_parked(&mut self, uuid: &str) {
        let parked = self
            .chans
            .get_mut(uuid)
            .is_some_and(|c| std::mem::take(&mut c.park_started));
        if parked {
            self.emit(uuid, "CHANNEL_UNPARK");
        }
    }
}

/// A `text/disconnect-notice` frame; a session's names the session (send_disconnect).
fn notice_frame(session: Option<&str>, text: &str, disposition: &str) -> Vec<u8> {
    match session {
        Some(session) => format!(
            "Content-Type: text/disconnect-notice\nControlled-Session-UUID: {session}\nContent-Disposition: {disposition}\nContent-Length: {}\n\n{text}",
            text.len()
        ),
        None => format!(
            "Content-Type: text/disconnect-notice\nContent-Length: {}\n\n{text}",
            text.len()
        ),
    }
    .into_bytes()
}

fn uuid_or_empty(arg: &str, cmd: &Command) -> String {
    let shown = if arg.trim().is_empty() {
        cmd.header("session-id").unwrap_or("")
    } else {
        arg.trim()
    };
    shown.replace(['\r', '\n'], "")
}

/// `api <cmd> <args>`: the command word and the raw rest.
fn split_command(text: &str) -> (String, String) {
    let text = text.trim();
    match text.split_once(' ') {
        Some((name, arg)) => (name.to_string(), arg.trim().to_string()),
        None => (text.to_string(), String::new()),
    }
}

/// Simulated duration of a playback: `silence_stream://N` plays N ms, tone streams play
/// forever, anything else one second.
fn playback_ms(arg: &str) -> Option<u64> {
    if let Some(rest) = arg.strip_prefix("silence_stream://") {
        return rest
            .split(',')
            .next()
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .map(|n| n as u64);
    }
    if arg.starts_with("tone_stream://") {
        return None;
    }
    Some(1000)
}

fn uptime_text(ms: u64) -> String {
    let s = ms / 1000;
    format!(
        "0 years, {} days, {} hours, {} minutes, {} seconds, {} milliseconds, 0 microseconds",
        s / 86_400,
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_core() -> Core {
        Core::new(CoreConfig {
            password: "pw".into(),
            hostname: "test".into(),
            thread_latency_ms: 0,
            heartbeat_ms: None,
            epoch_base_ms: 1_000_000,
            reject_inbound: false,
        })
    }

    #[test]
    fn the_command_log_is_bounded_by_count_and_bytes() {
        let mut core = test_core();
        let small = Command {
            line: "api status".into(),
            text: "api status".into(),
            ..Command::default()
        };
        for _ in 0..MAX_COMMAND_LOG + 10 {
            core.log_command(&small);
        }
        assert_eq!(core.command_lines().len(), MAX_COMMAND_LOG);
        assert_eq!(core.commands_total(), MAX_COMMAND_LOG as u64 + 10);

        let big = Command {
            line: "sendmsg".into(),
            text: format!("sendmsg\n\n{}", "x".repeat(1 << 20)),
            ..Command::default()
        };
        for _ in 0..(MAX_COMMAND_LOG_BYTES >> 20) + 5 {
            core.log_command(&big);
        }
        let kept: usize = core.command_texts().iter().map(String::len).sum();
        assert!(kept <= MAX_COMMAND_LOG_BYTES, "{kept} bytes kept");
        assert!(
            kept > MAX_COMMAND_LOG_BYTES - (2 << 20),
            "only the oldest were dropped"
        );
        assert!(core
            .command_texts()
            .last()
            .is_some_and(|t| t.len() == big.text.len()));
    }

    /// A listener subscribed to everything whose writer never drains (nobody reads `frames`).
    fn stalled_listener(core: &mut Core) -> (ConnId, mpsc::UnboundedReceiver<Out>) {
        let (outbox, frames) = mpsc::unbounded_channel();
        let conn = core.add_conn(outbox, Arc::new(Backlog::default()));
        for line in ["auth pw", "event plain ALL"] {
            core.command(
                conn,
                Command {
                    line: line.into(),
                    ..Command::default()
                },
            );
        }
        (conn, frames)
    }

    /// Frames handed to the writer so far, and whether a close followed.
    fn drain(frames: &mut mpsc::UnboundedReceiver<Out>) -> (usize, bool) {
        let (mut count, mut closed) = (0, false);
        while let Ok(out) = frames.try_recv() {
            match out {
                Out::Frame(_) | Out::Reply(_) => count += 1,
                Out::Close => closed = true,
                Out::Flush(_) => {}
            }
        }
        (count, closed)
    }

    #[test]
    fn a_full_queue_drops_events_then_kills_the_listener_after_500_in_a_row() {
        let mut core = test_core();
        let (conn, mut frames) = stalled_listener(&mut core);
        let backlog = core.conns[&conn].backlog.clone();
        let (greeting, _) = drain(&mut frames);
        let mut event = Event::named("CUSTOM");
        event.add("Event-Subclass", "load::test");
        // the queue fills (the greeting and replies count as unwritten too), then drops
        let room = MAX_QUEUED_EVENTS - greeting;
        for _ in 0..room + MAX_MISSED_EVENTS as usize {
            core.fire_custom(&event);
        }
        let (queued, closed) = drain(&mut frames);
        assert_eq!(queued, room, "exactly the queue's room was queued");
        assert!(!closed, "{MAX_MISSED_EVENTS} drops in a row are tolerated");
        core.fire_custom(&event);
        let (count, closed) = drain(&mut frames);
        assert!(closed, "the next drop kills the listener");
        assert_eq!(count, 0, "nothing more is queued");
        let last_words = backlog.take_last_words().expect("a disconnect notice");
        assert!(String::from_utf8_lossy(&last_words)
            .ends_with("\n\nkilled listener because of lost events\n"));
        // later events are not queued for it any more
        core.fire_custom(&event);
        assert!(frames.try_recv().is_err());
    }

    #[test]
    fn a_queued_event_resets_the_run_of_drops() {
        let mut core = test_core();
        let (conn, mut frames) = stalled_listener(&mut core);
        let mut event = Event::named("CUSTOM");
        event.add("Event-Subclass", "load::test");
        let backlog = core.conns[&conn].backlog.clone();
        let room = MAX_QUEUED_EVENTS - backlog.len();
        for _ in 0..room + MAX_MISSED_EVENTS as usize {
            core.fire_custom(&event);
        }
        // the writer catches up by one frame: the next event is queued, the run restarts
        backlog.written();
        core.fire_custom(&event);
        for _ in 0..MAX_MISSED_EVENTS {
            core.fire_custom(&event);
        }
        let (_, closed) = drain(&mut frames);
        assert!(!closed, "the drops before the queued event do not count");
        assert_eq!(core.conns[&conn].lost_events, MAX_MISSED_EVENTS);
    }

    #[test]
    fn filters_are_ored_and_negative_only_blocks() {
        let mut event = Event::named("CHANNEL_ANSWER");
        event.add("Unique-ID", "u1");
        let f = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        assert!(filters_pass(
            &f(&[("Unique-ID", "u1"), ("Unique-ID", "u2")]),
            &event
        ));
        assert!(!filters_pass(&f(&[("Unique-ID", "u2")]), &event));
        assert!(!filters_pass(&f(&[("Unique-ID", "-u2")]), &event));
        assert!(filters_pass(
            &f(&[("Event-Name", "/^CHANNEL_(ANSWER|HANGUP)$/")]),
            &event
        ));
        assert!(!filters_pass(
            &f(&[("Event-Name", "/^CHANNEL_ANS$/")]),
            &event
        ));
        assert!(filters_pass(&f(&[("Event-Name", "/answer/i")]), &event));
        assert!(!filters_pass(&f(&[("Event-Name", "/(broken/")]), &event));
        assert!(!filters_pass(
            &f(&[("Event-Name", "CHANNEL_ANSWER"), ("Unique-ID", "-u1")]),
            &event
        ));
        assert!(filters_pass(
            &f(&[("Event-Name", "channel_answer")]),
            &event
        ));
    }
}
