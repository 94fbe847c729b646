//! The simulated switch: channels, applications, originate/bridge, listeners and timers.
//! Everything runs under one lock in deterministic order; I/O happens outside it.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::dial::{is_true, DialString};
use crate::event::{Event, Format};
use crate::model::{cause_number, dial_status, is_extended, Channel, ChannelState, Signal};
use crate::util::{event_dates, new_uuid, whole_second_deadline};
use crate::Behavior;

pub(crate) type ConnId = u64;

/// What a connection's writer task receives.
pub(crate) enum Out {
    Frame(Arc<[u8]>),
    Flush(oneshot::Sender<()>),
    Close,
}

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
/// The most events queued for one listener before it is killed, as in mod_event_socket.
const MAX_QUEUED_EVENTS: usize = 100_000;
/// Commands kept in the log.
const MAX_COMMAND_LOG: usize = 10_000;

/// Configuration the core needs.
pub(crate) struct CoreConfig {
    pub password: String,
    pub hostname: String,
    pub thread_latency_ms: u64,
    pub heartbeat_ms: Option<u64>,
    pub epoch_base_ms: u64,
}

struct Conn {
    outbox: mpsc::UnboundedSender<Out>,
    queued: Arc<std::sync::atomic::AtomicUsize>,
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
    logging: bool,
}

impl Conn {
    fn subscribed(&self) -> bool {
        self.all_events || !self.events.is_empty() || !self.custom.is_empty()
    }

    fn accepts(&self, event: &Event) -> bool {
        if !self.authed || self.closed {
            return false;
        }
        let name = event.name();
        let wanted = if name == "CUSTOM" {
            self.all_events
                || event
                    .get("Event-Subclass")
                    .is_some_and(|s| self.custom.contains(s))
        } else {
            self.all_events || self.events.contains(name)
        };
        if !wanted {
            return false;
        }
        if !self.filters.is_empty() && !filters_pass(&self.filters, event) {
            return false;
        }
        if self.myevents {
            if let Some(session) = &self.session {
                let own = event.get("Unique-ID") == Some(session.as_str())
                    || event.get("Job-Owner-UUID") == Some(session.as_str());
                return own;
            }
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
        if let Some(pattern) = wanted.strip_prefix('/') {
            // A regex filter; the simulator supports literal patterns (`/text/`).
            if actual.contains(pattern.trim_end_matches('/')) {
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

#[derive(Debug, Clone)]
enum AppOrigin {
    Dialplan,
    Queued { private_command: bool },
    Inline(ConnId),
}

#[derive(Debug, Clone)]
struct AppCall {
    name: String,
    arg: String,
    app_uuid: Option<String>,
    app_uuid_name: Option<String>,
    origin: AppOrigin,
}

impl AppCall {
    fn dialplan(name: &str, arg: &str) -> Self {
        AppCall {
            name: name.into(),
            arg: arg.into(),
            app_uuid: None,
            app_uuid_name: None,
            origin: AppOrigin::Dialplan,
        }
    }
}

enum Job {
    Exec(AppCall),
}

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

struct Running {
    call: AppCall,
    kind: Blocking,
    token: u64,
}

struct Chan {
    ch: Channel,
    dialplan: VecDeque<AppCall>,
    private: VecDeque<Job>,
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
}

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
}

struct Originate {
    owner: Owner,
    dial: DialString,
    group: usize,
    legs: Vec<String>,
    causes: Vec<(String, String)>,
    early_ok: bool,
    continue_on_timeout: bool,
    timeout_s: u64,
    progress_timeout_s: Option<u64>,
    got_progress: bool,
    after: Vec<AppCall>,
    done: bool,
    extra_globals: Vec<(String, String)>,
    caller: Option<String>,
}

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
        group: usize,
    },
    ProgressTimeout {
        id: u64,
        group: usize,
    },
    LegTimeout {
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
}

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
    timers: BTreeMap<(u64, u64), Timer>,
    actions: VecDeque<Action>,
    io: Vec<IoAction>,
    endpoints: HashMap<String, Behavior>,
    routes: HashMap<String, Vec<(String, String)>>,
    globals: Vec<(String, String)>,
    command_log: VecDeque<String>,
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
                ("playback", "tone_stream://%(1000,0,440)"),
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
            timers: BTreeMap::new(),
            actions: VecDeque::new(),
            io: Vec::new(),
            endpoints: HashMap::new(),
            routes,
            globals: vec![("hostname".into(), String::new())],
            command_log: VecDeque::new(),
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

    pub fn set_route(&mut self, extension: &str, apps: Vec<(String, String)>) {
        self.routes.insert(extension.to_string(), apps);
    }

    pub fn command_log(&self) -> Vec<String> {
        self.command_log.iter().cloned().collect()
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
    pub fn outboxes(
        &self,
        subscribed_only: bool,
    ) -> Vec<(
        mpsc::UnboundedSender<Out>,
        Arc<std::sync::atomic::AtomicUsize>,
    )> {
        self.conns
            .values()
            .filter(|c| !c.closed && (!subscribed_only || (c.authed && c.subscribed())))
            .map(|c| (c.outbox.clone(), c.queued.clone()))
            .collect()
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
        whole_second_deadline(self.epoch_ms(), seconds, inclusive) - self.cfg.epoch_base_ms
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
                Action::Hangup(uuid, cause) => self.hangup(&uuid, &cause, false),
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
                let current = self
                    .chans
                    .get(&uuid)
                    .and_then(|c| c.stack.last())
                    .map(|r| r.token);
                if current == Some(token) {
                    self.complete_top(&uuid, None);
                    self.wake(&uuid);
                }
            }
            Timer::Remote { uuid, signal } => self.remote_signal(&uuid, signal),
            Timer::OriginateTimeout { id, group } => {
                self.originate_timeout(id, group, "NO_ANSWER", false)
            }
            Timer::ProgressTimeout { id, group } => {
                self.originate_timeout(id, group, "PROGRESS_TIMEOUT", true)
            }
            Timer::LegTimeout { uuid } => {
                let pending = self
                    .chans
                    .get(&uuid)
                    .is_some_and(|c| c.originate.is_some() && !c.ch.is_down());
                if pending {
                    self.hangup(&uuid, "ALLOTTED_TIMEOUT", false);
                }
            }
            Timer::BridgeAnswerTimeout { uuid } => {
                let unanswered = self
                    .chans
                    .get(&uuid)
                    .is_some_and(|c| !c.ch.is_down() && !c.ch.is_answered());
                if unanswered {
                    self.hangup(&uuid, "ALLOTTED_TIMEOUT", false);
                }
            }
            Timer::Linger { conn } => self.disconnect(conn, true),
            Timer::AsyncPark { uuid } => self.start_async_park(&uuid),
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
            if chan.ch.call_state != call_state {
                chan.ch.call_state = call_state;
                self.emit(uuid, "CHANNEL_CALLSTATE");
            }
        }
    }

    fn deliver(&mut self, event: &Event) {
        let mut frames: [Option<Arc<[u8]>>; 3] = [None, None, None];
        let mut killed = Vec::new();
        for (&id, conn) in self.conns.iter_mut() {
            if !conn.accepts(event) {
                continue;
            }
            let slot = conn.format as usize;
            let frame = frames[slot]
                .get_or_insert_with(|| Arc::from(conn.format.frame(event)))
                .clone();
            if conn.busy {
                if conn.held.len() >= MAX_QUEUED_EVENTS {
                    killed.push(id);
                } else {
                    conn.held.push(frame);
                }
            } else if conn.queued.load(std::sync::atomic::Ordering::Relaxed) >= MAX_QUEUED_EVENTS {
                killed.push(id);
            } else {
                conn.queued
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let _ = conn.outbox.send(Out::Frame(frame));
            }
        }
        for id in killed {
            self.send_notice(id, "killed listener because of lost events\n", "disconnect");
            self.close_conn(id);
        }
    }

    fn send_raw(&mut self, conn: ConnId, bytes: Vec<u8>) {
        if let Some(c) = self.conns.get(&conn).filter(|c| !c.closed) {
            c.queued.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let _ = c.outbox.send(Out::Frame(Arc::from(bytes)));
        }
    }

    fn reply(&mut self, conn: ConnId, text: &str) {
        let text = text.replace(['\r', '\n'], " ");
        self.send_raw(
            conn,
            format!("Content-Type: command/reply\nReply-Text: {text}\n\n").into_bytes(),
        );
    }

    fn api_response(&mut self, conn: ConnId, body: &str) {
        self.send_raw(
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
            c.queued
                .fetch_add(held.len(), std::sync::atomic::Ordering::Relaxed);
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
        let frame = match &c.session {
            Some(session) => format!(
                "Content-Type: text/disconnect-notice\nControlled-Session-UUID: {session}\nContent-Disposition: {disposition}\nContent-Length: {}\n\n{text}",
                text.len()
            ),
            None => format!("Content-Type: text/disconnect-notice\nContent-Length: {}\n\n{text}", text.len()),
        };
        self.send_raw(conn, frame.into_bytes());
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
    }

    // ---------------------------------------------------------------- connections

    /// Registers an inbound connection and greets it with `auth/request`.
    pub fn add_conn(
        &mut self,
        outbox: mpsc::UnboundedSender<Out>,
        queued: Arc<std::sync::atomic::AtomicUsize>,
    ) -> ConnId {
        let id = self.register_conn(outbox, queued);
        self.send_raw(id, b"Content-Type: auth/request\n\n".to_vec());
        id
    }

    fn register_conn(
        &mut self,
        outbox: mpsc::UnboundedSender<Out>,
        queued: Arc<std::sync::atomic::AtomicUsize>,
    ) -> ConnId {
        let id = self.id();
        self.conns.insert(
            id,
            Conn {
                outbox,
                queued,
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
                logging: false,
            },
        );
        id
    }

    /// Registers the connection the `socket` application opened to an outbound server.
    pub fn add_outbound_conn(
        &mut self,
        uuid: &str,
        outbox: mpsc::UnboundedSender<Out>,
        queued: Arc<std::sync::atomic::AtomicUsize>,
        async_mode: bool,
        full: bool,
    ) -> Option<ConnId> {
        let up = self.chans.get(uuid).is_some_and(|c| !c.ch.is_down());
        if !up {
            return None;
        }
        // outbound listeners are pre-authed and send no greeting
        let id = self.register_conn(outbox, queued);
        if let Some(c) = self.conns.get_mut(&id) {
            c.authed = true;
            c.full = full;
            c.outbound = true;
            c.async_mode = async_mode;
            c.session = Some(uuid.to_string());
        }
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

    fn unpark_if_parked(&mut self, uuid: &str) {
        let parked = self
            .chans
            .get_mut(uuid)
            .is_some_and(|c| std::mem::take(&mut c.park_started));
        if parked {
            self.emit(uuid, "CHANNEL_UNPARK");
        }
    }

    // ---------------------------------------------------------------- commands

    /// Handles one client message. Returns a receiver when the reply is deferred (a blocking
    /// `api` or a sync outbound `sendmsg`): the connection reads nothing more until it fires.
    pub fn command(&mut self, conn: ConnId, cmd: Command) -> Option<oneshot::Receiver<()>> {
        if self.command_log.len() >= MAX_COMMAND_LOG {
            self.command_log.pop_front();
        }
        self.command_log.push_back(cmd.line.clone());
        self.commands_total += 1;
        self.dispatch(conn, &cmd);
        self.pump();
        let c = self.conns.get_mut(&conn)?;
        if c.busy && !c.closed {
            let (tx, rx) = oneshot::channel();
            c.waiter = Some(tx);
            Some(rx)
        } else {
            None
        }
    }

    fn dispatch(&mut self, conn: ConnId, cmd: &Command) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let line = cmd.line.trim().to_string();
        let lower = line.to_ascii_lowercase();
        let (authed, outbound, full, connected) = (c.authed, c.outbound, c.full, c.connected);
        if lower.starts_with("exit") || lower.starts_with("...") {
            self.reply(conn, "+OK bye");
            self.disconnect(conn, true);
            return;
        }
        if !authed {
            if let Some(password) = line
                .strip_prefix("auth ")
                .or_else(|| line.strip_prefix("AUTH "))
            {
                if password.trim() == self.cfg.password {
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.authed = true;
                    }
                    self.reply(conn, "+OK accepted");
                } else {
                    self.reply(conn, "-ERR invalid");
                    self.disconnect(conn, true);
                }
            } else {
                self.reply(conn, "-ERR command not found");
            }
            return;
        }
        if outbound && !connected {
            if lower.starts_with("connect") {
                self.connect_reply(conn);
            }
            // mod_event_socket drops the reply to any other first command
            return;
        }
        let arg_of = |prefix: &str| line.get(prefix.len()..).unwrap_or("").trim().to_string();
        let starts = |prefix: &str| lower.starts_with(prefix);
        let session_cmd = starts("connect")
            || starts("getvar ")
            || starts("myevents")
            || starts("resume")
            || starts("filter ")
            || starts("divert_events")
            || starts("sendmsg");
        if outbound && !full && !session_cmd {
            self.reply(conn, "-ERR command not found");
            return;
        }
        if starts("filter ") {
            self.cmd_filter(conn, &arg_of("filter "));
        } else if starts("resume") {
            self.cmd_resume(conn);
        } else if starts("connect") {
            if outbound {
                self.connect_reply(conn);
            } else {
                self.reply(conn, "-ERR command not found");
            }
        } else if starts("getvar ") {
            self.cmd_getvar(conn, &arg_of("getvar "));
        } else if starts("myevents") {
            self.cmd_myevents(conn, &arg_of("myevents"));
        } else if starts("divert_events") {
            self.cmd_divert(conn, &arg_of("divert_events"));
        } else if starts("sendmsg") {
            self.cmd_sendmsg(conn, &arg_of("sendmsg"), cmd);
        } else if starts("sendevent") {
            self.cmd_sendevent(conn, &arg_of("sendevent"), cmd);
        } else if starts("api ") {
            self.cmd_api(conn, &arg_of("api "));
        } else if starts("bgapi ") {
            self.cmd_bgapi(conn, &arg_of("bgapi "), cmd);
        } else if starts("log") {
            self.cmd_log(conn, &arg_of("log"));
        } else if starts("linger") {
            self.cmd_linger(conn, &arg_of("linger"));
        } else if starts("nolinger") {
            self.cmd_nolinger(conn);
        } else if starts("nolog") {
            let was = self
                .conns
                .get_mut(&conn)
                .is_some_and(|c| std::mem::take(&mut c.logging));
            self.reply(
                conn,
                if was {
                    "+OK no longer logging"
                } else {
                    "-ERR not loging"
                },
            );
        } else if starts("event") {
            self.cmd_event(conn, &line);
        } else if starts("nixevent") {
            self.cmd_nixevent(conn, &arg_of("nixevent"));
        } else if starts("noevents") {
            self.cmd_noevents(conn);
        } else {
            self.reply(conn, "-ERR command not found");
        }
    }

    fn conn_session(&self, conn: ConnId) -> Option<String> {
        self.conns.get(&conn).and_then(|c| c.session.clone())
    }

    fn connect_reply(&mut self, conn: ConnId) {
        let Some(uuid) = self.conn_session(conn) else {
            return;
        };
        let (async_mode, full) = match self.conns.get_mut(&conn) {
            Some(c) => {
                c.connected = true;
                (c.async_mode, c.full)
            }
            None => return,
        };
        let Some(mut event) = self.channel_data(&uuid, "parse_command", 2029) else {
            return;
        };
        event
            .add("Content-Type", "command/reply")
            .add("Reply-Text", "+OK\n")
            .add("Socket-Mode", if async_mode { "async" } else { "static" })
            .add("Control", if full { "full" } else { "single-channel" });
        self.send_raw(conn, event.to_plain().into_bytes());
        if async_mode {
            let latency = self.thread_latency_ms();
            self.schedule(latency, Timer::AsyncPark { uuid });
        }
    }

    fn schedule(&mut self, delay_ms: u64, timer: Timer) {
        if delay_ms == 0 {
            self.actions.push_back(Action::Timer(timer));
        } else {
            self.add_timer(delay_ms, timer);
        }
    }

    /// A CHANNEL_DATA event: the `Channel-*` profile copy, then the usual channel data.
    fn channel_data(&mut self, uuid: &str, function: &str, line: u32) -> Option<Event> {
        let mut event = self.base_event("CHANNEL_DATA", "mod_event_socket.c", function, line);
        let chan = self.chans.get(uuid)?;
        chan.ch.add_profile(&mut event, "Channel");
        let other = chan
            .ch
            .other_leg
            .as_ref()
            .and_then(|o| self.chans.get(o))
            .map(|c| &c.ch);
        chan.ch.add_headers(&mut event, other, true);
        Some(event)
    }

    fn start_async_park(&mut self, uuid: &str) {
        let waiting = self.chans.get(uuid).is_some_and(|c| {
            !c.ch.is_down()
                && matches!(
                    c.stack.last(),
                    Some(Running {
                        kind: Blocking::Socket {
                            async_mode: true,
                            ..
                        },
                        ..
                    })
                )
        });
        if waiting {
            if let Some(chan) = self.chans.get_mut(uuid) {
                chan.park_started = true;
            }
            self.emit(uuid, "CHANNEL_PARK");
            self.wake(uuid);
        }
    }

    fn cmd_filter(&mut self, conn: ConnId, arg: &str) {
        let mut words = arg.splitn(2, ' ');
        let first = words.next().unwrap_or("");
        let rest = words.next().unwrap_or("").trim();
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if first.eq_ignore_ascii_case("delete") {
            let mut parts = rest.splitn(2, ' ');
            let header = parts.next().unwrap_or("").to_string();
            let value = parts.next().map(|v| v.trim().to_string());
            if header.eq_ignore_ascii_case("all") {
                c.filters.clear();
            } else {
                c.filters.retain(|(h, v)| {
                    !(h.eq_ignore_ascii_case(&header) && value.as_ref().map_or(true, |x| x == v))
                });
            }
            let shown = value.unwrap_or_default();
            self.reply(conn, &format!("+OK filter deleted. [{header}][{shown}]"));
            return;
        }
        let body = if first.eq_ignore_ascii_case("add") {
            rest.to_string()
        } else {
            arg.to_string()
        };
        let mut parts = body.splitn(2, ' ');
        let header = parts.next().unwrap_or("").to_string();
        match parts.next().map(str::trim).filter(|v| !v.is_empty()) {
            Some(value) => {
                c.filters.push((header.clone(), value.to_string()));
                self.reply(conn, &format!("+OK filter added. [{header}]=[{value}]"));
            }
            None => self.reply(conn, "-ERR invalid syntax"),
        }
    }

    fn cmd_resume(&mut self, conn: ConnId) {
        match self.conn_session(conn) {
            Some(uuid) => {
                if let Some(chan) = self.chans.get_mut(&uuid) {
                    chan.ch.set_var("socket_resume", "true");
                }
                self.reply(conn, "+OK");
            }
            None => self.reply(conn, "-ERR command not found"),
        }
    }

    fn cmd_getvar(&mut self, conn: ConnId, name: &str) {
        let value = self
            .conn_session(conn)
            .and_then(|uuid| self.chans.get(&uuid))
            .and_then(|c| {
                c.ch.var(name)
                    .map(|v| v.chars().take(511).collect::<String>())
            })
            .filter(|v| !v.is_empty());
        match value {
            Some(value) => self.reply(conn, &value),
            None => self.reply(conn, "-ERR command not found"),
        }
    }

    fn cmd_myevents(&mut self, conn: ConnId, arg: &str) {
        let format = if arg.contains("xml") {
            Format::Xml
        } else if arg.contains("json") {
            Format::Json
        } else {
            Format::Plain
        };
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if c.myevents {
            self.reply(conn, "-ERR aready enabled.");
            return;
        }
        if !c.outbound {
            let mut words = arg.split_whitespace();
            let uuid = words.next().unwrap_or("").to_string();
            let has_format = words.next().is_some();
            if self.chans.contains_key(&uuid) {
                if let Some(chan) = self.chans.get_mut(&uuid) {
                    chan.locks += 1;
                }
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.session = Some(uuid);
                }
            } else if has_format {
                self.reply(conn, "-ERR invalid uuid");
                return;
            }
        }
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.myevents = true;
        c.format = format;
        c.events.extend(MYEVENTS.iter().map(|s| s.to_string()));
        self.reply(conn, "+OK Events Enabled");
    }

    fn cmd_divert(&mut self, conn: ConnId, arg: &str) {
        if self.conn_session(conn).is_none() {
            self.reply(conn, "-ERR not controlling a session.");
        } else if arg.is_empty() {
            self.reply(conn, "-ERR missing value.");
        } else if arg.eq_ignore_ascii_case("on") {
            self.reply(conn, "+OK events diverted");
        } else {
            self.reply(conn, "+OK events not diverted");
        }
    }

    fn cmd_linger(&mut self, conn: ConnId, arg: &str) {
        if self.conn_session(conn).is_none() {
            self.reply(conn, "-ERR not controlling a session");
            return;
        }
        let seconds = arg.trim().parse::<i64>().ok().filter(|s| *s > 0);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.linger = Some(seconds.unwrap_or(-1));
        }
        match seconds {
            Some(s) => self.reply(conn, &format!("+OK will linger {s} seconds")),
            None => self.reply(conn, "+OK will linger"),
        }
    }

    fn cmd_nolinger(&mut self, conn: ConnId) {
        if self.conn_session(conn).is_none() {
            self.reply(conn, "-ERR not controlling a session");
            return;
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.linger = None;
        }
        self.reply(conn, "+OK will not linger");
    }

    fn cmd_log(&mut self, conn: ConnId, arg: &str) {
        const LEVELS: [&str; 8] = [
            "console", "alert", "crit", "err", "warning", "notice", "info", "debug",
        ];
        let arg = arg.trim();
        let level = if arg.is_empty() {
            Some(7)
        } else {
            arg.parse::<usize>()
                .ok()
                .filter(|n| *n < 8)
                .or_else(|| LEVELS.iter().position(|l| l.eq_ignore_ascii_case(arg)))
        };
        match level {
            Some(n) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.logging = true;
                }
                self.reply(
                    conn,
                    &format!("+OK log level {} [{n}]", LEVELS[n].to_ascii_uppercase()),
                );
            }
            None => self.reply(conn, "-ERR invalid log level"),
        }
    }

    fn cmd_event(&mut self, conn: ConnId, line: &str) {
        let mut words = line.split_whitespace().skip(1).peekable();
        let format = match words.peek().map(|w| w.to_ascii_lowercase()) {
            Some(w) if w == "plain" || w == "json" || w == "xml" => {
                words.next();
                match w.as_str() {
                    "json" => Format::Json,
                    "xml" => Format::Xml,
                    _ => Format::Plain,
                }
            }
            _ => Format::Plain,
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.format = format;
        let mut any = false;
        let mut custom = false;
        for word in words {
            any = true;
            if custom {
                c.custom.insert(word.to_string());
            } else if word.eq_ignore_ascii_case("CUSTOM") {
                custom = true;
            } else if word.eq_ignore_ascii_case("ALL") {
                c.all_events = true;
            } else {
                let name = word.to_ascii_uppercase();
                c.events.insert(
                    name.strip_prefix("SWITCH_EVENT_")
                        .map(str::to_string)
                        .unwrap_or(name),
                );
            }
        }
        if any {
            let name = match format {
                Format::Plain => "plain",
                Format::Json => "json",
                Format::Xml => "xml",
            };
            self.reply(conn, &format!("+OK event listener enabled {name}"));
        } else {
            self.reply(conn, "-ERR no keywords supplied");
        }
    }

    fn cmd_nixevent(&mut self, conn: ConnId, arg: &str) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let mut any = false;
        let mut custom = false;
        for word in arg.split_whitespace() {
            any = true;
            if custom {
                c.custom.remove(word);
            } else if word.eq_ignore_ascii_case("CUSTOM") {
                custom = true;
            } else if word.eq_ignore_ascii_case("ALL") {
                c.all_events = false;
                c.events.clear();
                c.custom.clear();
            } else {
                c.events.remove(&word.to_ascii_uppercase());
            }
        }
        self.reply(
            conn,
            if any {
                "+OK events nixed"
            } else {
                "-ERR no keywords supplied"
            },
        );
    }

    fn cmd_noevents(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.subscribed() {
            c.all_events = false;
            c.events.clear();
            c.custom.clear();
            c.myevents = false;
            self.reply(conn, "+OK no longer listening for events");
        } else {
            self.reply(conn, "-ERR not listening for events");
        }
    }

    fn cmd_sendevent(&mut self, conn: ConnId, name: &str, cmd: &Command) {
        let name = name
            .split_whitespace()
            .next()
            .unwrap_or("CUSTOM")
            .to_ascii_uppercase();
        let uuid = new_uuid();
        let mut event = self.base_event(&name, "mod_event_socket.c", "parse_command", 2247);
        for (header, value) in &cmd.headers {
            if !header.eq_ignore_ascii_case("content-length")
                && !header.eq_ignore_ascii_case("Event-Name")
            {
                event.add(header, value.clone());
            }
        }
        if event.get("Event-UUID").is_none() {
            event.add("Event-UUID", uuid.clone());
        }
        let event_uuid = event.get("Event-UUID").unwrap_or_default().to_string();
        if let Some(body) = &cmd.body {
            event.set_body(body.clone());
        }
        self.reply(conn, &format!("+OK {event_uuid}"));
        self.deliver(&event);
    }

    fn cmd_sendmsg(&mut self, conn: ConnId, arg: &str, cmd: &Command) {
        let uuid = Some(arg.trim().to_string())
            .filter(|u| !u.is_empty())
            .or_else(|| cmd.header("session-id").map(str::to_string))
            .or_else(|| self.conn_session(conn));
        let Some(uuid) = uuid.filter(|u| {
            self.chans
                .get(u)
                .is_some_and(|c| !c.ch.is_down() || !c.stack.is_empty())
        }) else {
            let shown = uuid_or_empty(arg, cmd);
            self.reply(conn, &format!("-ERR invalid session id [{shown}]"));
            return;
        };
        let command = cmd
            .header("call-command")
            .unwrap_or("execute")
            .to_ascii_lowercase();
        match command.as_str() {
            "execute" => {
                let name = cmd
                    .header("execute-app-name")
                    .unwrap_or("")
                    .trim()
                    .to_string();
                let arg = match (cmd.header("execute-app-arg"), &cmd.body) {
                    (Some(a), _) => a.to_string(),
                    (None, Some(body)) => body.clone(),
                    (None, None) => String::new(),
                };
                let loops = cmd
                    .header("loops")
                    .and_then(|l| l.trim().parse::<i64>().ok())
                    .unwrap_or(1)
                    .clamp(1, 100);
                let async_header = cmd.header("async").is_some_and(is_true);
                let (is_own, async_mode) = match self.conns.get(&conn) {
                    Some(c) => (
                        c.outbound && c.session.as_deref() == Some(uuid.as_str()),
                        c.async_mode,
                    ),
                    None => return,
                };
                let inline = is_own && !async_mode && !async_header;
                let park_started = self.chans.get(&uuid).is_some_and(|c| c.park_started);
                let app_uuid = cmd.header("Event-UUID").map(str::to_string);
                let app_uuid_name = cmd.header("Event-UUID-Name").map(str::to_string);
                for _ in 0..loops {
                    let origin = if inline {
                        AppOrigin::Inline(conn)
                    } else {
                        AppOrigin::Queued {
                            private_command: park_started,
                        }
                    };
                    let call = AppCall {
                        name: name.clone(),
                        arg: arg.clone(),
                        app_uuid: app_uuid.clone(),
                        app_uuid_name: app_uuid_name.clone(),
                        origin,
                    };
                    if inline {
                        // runs on the listener thread; the reply comes when the app ends
                        if let Some(c) = self.conns.get_mut(&conn) {
                            c.busy = true;
                        }
                        self.start_app(&uuid, call);
                        self.pump();
                    } else if let Some(chan) = self.chans.get_mut(&uuid) {
                        chan.private.push_back(Job::Exec(call));
                    }
                }
                if !inline {
                    self.reply(conn, "+OK");
                    self.wake(&uuid);
                }
            }
            "hangup" => {
                let cause = cmd
                    .header("hangup-cause")
                    .unwrap_or("NORMAL_CLEARING")
                    .trim()
                    .to_string();
                self.reply(conn, "+OK");
                let private_command = self.chans.get(&uuid).is_some_and(|c| c.park_started);
                self.hangup(&uuid, &cause, private_command);
            }
            _ => self.reply(conn, "+OK"),
        }
    }

    // ---------------------------------------------------------------- api

    fn cmd_api(&mut self, conn: ConnId, text: &str) {
        let (name, arg) = split_command(text);
        if name == "originate" {
            // blocks the listener: events raised meanwhile are held until the reply
            if let Some(c) = self.conns.get_mut(&conn) {
                c.busy = true;
            }
            let owner = Owner::Api {
                conn,
                arg: arg.clone(),
            };
            if let Err(usage) = self.api_originate(owner, &arg) {
                self.api_event(&name, &arg);
                self.api_response(conn, &usage);
                self.unblock(conn);
            }
            return;
        }
        let output = self.api_exec(&name, &arg);
        // the listener writes the response before it drains the API event from its queue
        self.api_response(conn, &output);
        self.api_event(&name, &arg);
    }

    fn cmd_bgapi(&mut self, conn: ConnId, text: &str, cmd: &Command) {
        let (name, arg) = split_command(text);
        let job: String = cmd
            .header("Job-UUID")
            .map(|j| j.trim().chars().take(36).collect())
            .filter(|j: &String| !j.is_empty())
            .unwrap_or_else(new_uuid);
        self.send_raw(
            conn,
            format!(
                "Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job}\nJob-UUID: {job}\n\n"
            )
            .into_bytes(),
        );
        if name == "originate" {
            if let Err(usage) = self.api_originate(
                Owner::Bgapi {
                    conn,
                    job: job.clone(),
                    arg: arg.clone(),
                },
                &arg,
            ) {
                self.api_event(&name, &arg);
                self.background_job(conn, &job, &name, &arg, &usage);
            }
            return;
        }
        let output = self.api_exec(&name, &arg);
        self.api_event(&name, &arg);
        self.background_job(conn, &job, &name, &arg, &output);
    }

    fn api_event(&mut self, name: &str, arg: &str) {
        let mut event = self.base_event(
            "API",
            "switch_loadable_module.c",
            "switch_api_execute",
            3140,
        );
        event.add("API-Command", name);
        if !arg.is_empty() {
            event.add("API-Command-Argument", arg);
        }
        self.deliver(&event);
    }

    fn background_job(&mut self, conn: ConnId, job: &str, name: &str, arg: &str, output: &str) {
        let owner = self.conn_session(conn);
        let mut event = self.base_event("BACKGROUND_JOB", "mod_event_socket.c", "api_exec", 1580);
        event.add("Job-UUID", job);
        if let Some(owner) = owner {
            event.add("Job-Owner-UUID", owner);
        }
        event.add("Job-Command", name);
        if !arg.is_empty() {
            event.add("Job-Command-Arg", arg);
        }
        event.set_body(output);
        self.deliver(&event);
    }

    /// Runs a non-blocking API command and returns its output.
    pub fn api_exec(&mut self, name: &str, arg: &str) -> String {
        let words: Vec<&str> = arg.split_whitespace().collect();
        let output = match name {
            "status" => self.status_text(),
            "version" => format!("{VERSION}\n"),
            "hostname" => self.cfg.hostname.clone(),
            "create_uuid" => new_uuid(),
            "global_getvar" => match words.first() {
                Some(var) => self
                    .globals
                    .iter()
                    .find(|(n, _)| n == var)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
                None => self
                    .globals
                    .iter()
                    .map(|(n, v)| format!("{n}={v}\n"))
                    .collect(),
            },
            "global_setvar" => match arg.split_once('=') {
                Some((var, value)) => {
                    let (var, value) = (var.trim().to_string(), value.trim().to_string());
                    self.globals.retain(|(n, _)| *n != var);
                    self.globals.push((var, value));
                    "+OK\n".into()
                }
                None => "-ERR Invalid syntax\n".into(),
            },
            "uuid_kill" => match words.first().filter(|u| self.chan_up(u)) {
                Some(uuid) => {
                    let cause = words
                        .get(1)
                        .copied()
                        .unwrap_or("NORMAL_CLEARING")
                        .to_string();
                    let uuid = uuid.to_string();
                    self.hangup(&uuid, &cause, false);
                    "+OK\n".into()
                }
                None => "-ERR No such channel!\n".into(),
            },
            "uuid_answer" => match words.first().filter(|u| self.chan_up(u)) {
                Some(uuid) => {
                    let uuid = uuid.to_string();
                    self.answer(&uuid);
                    "+OK\n".into()
                }
                None => "-ERR No such channel!\n".into(),
            },
            "uuid_getvar" => match (words.first().and_then(|u| self.chans.get(*u)), words.get(1)) {
                (Some(chan), Some(var)) => chan.ch.var(var).unwrap_or("_undef_").to_string(),
                (None, _) => "-ERR No such channel!\n".into(),
                (_, None) => "-USAGE: <uuid> <var>\n".into(),
            },
            "uuid_setvar" => match (words.first().map(|u| u.to_string()), words.get(1)) {
                (Some(uuid), Some(var)) if self.chans.contains_key(&uuid) => {
                    let value = words.get(2..).map(|v| v.join(" ")).unwrap_or_default();
                    if let Some(chan) = self.chans.get_mut(&uuid) {
                        chan.ch.set_var(var, value);
                    }
                    "+OK\n".into()
                }
                (Some(_), Some(_)) => "-ERR No such channel!\n".into(),
                _ => "-USAGE: <uuid> <var> [value]\n".into(),
            },
            "uuid_dump" => match words.first().map(|u| u.to_string()) {
                Some(uuid) if self.chans.contains_key(&uuid) => self
                    .channel_data(&uuid, "uuid_dump", 0)
                    .map(|e| e.to_plain())
                    .unwrap_or_default(),
                _ => "-ERR No such channel!\n".into(),
            },
            "uuid_bridge" => match (
                words.first().map(|u| u.to_string()),
                words.get(1).map(|u| u.to_string()),
            ) {
                (Some(a), Some(b)) if self.chan_up(&a) && self.chan_up(&b) => {
                    self.link_bridge(&a, &b);
                    format!("+OK {b}\n")
                }
                (Some(_), Some(_)) => "-ERR Invalid uuid\n".into(),
                _ => "-USAGE: <uuid> <other_uuid>\n".into(),
            },
            "hupall" => {
                let cause = words
                    .first()
                    .copied()
                    .unwrap_or("MANAGER_REQUEST")
                    .to_string();
                let all: Vec<String> = self
                    .chan_order
                    .iter()
                    .filter(|u| self.chan_up(u))
                    .cloned()
                    .collect();
                for uuid in all {
                    self.hangup(&uuid, &cause, false);
                }
                format!("+OK hangup all channels with cause {cause}\n")
            }
            "show" => self.show(&words),
            _ => format!("-ERR {name} Command not found!\n"),
        };
        if output.is_empty() {
            "-ERR no reply\n".into()
        } else {
            output
        }
    }

    fn chan_up(&self, uuid: &str) -> bool {
        self.chans.get(uuid).is_some_and(|c| !c.ch.is_down())
    }

    fn status_text(&self) -> String {
        format!(
            "UP {}\nFreeSWITCH (Version 1.11.3-dev git cc93a68 2026-08-21 14:10:14Z 64bit) is ready\n{} session(s) since startup\n{} session(s) - peak {}, last 5min {} \n0 session(s) per Sec out of max 200, peak 0, last 5min 0 \n1000 session(s) max\nmin idle cpu 0.00/100.00\nCurrent Stack Size/Max 240K/8192K\n",
            uptime_text(self.now_ms),
            self.session_count,
            self.chans.len(),
            self.session_count,
            self.session_count
        )
    }

    fn show(&self, words: &[&str]) -> String {
        if words
            .first()
            .map_or(true, |w| *w != "channels" && *w != "calls")
        {
            return "-USAGE: show channels [count|as json]\n".into();
        }
        let rows: Vec<&Channel> = self
            .chan_order
            .iter()
            .filter_map(|u| self.chans.get(u))
            .map(|c| &c.ch)
            .collect();
        if words.get(1) == Some(&"count") {
            return format!("\n{} total.\n", rows.len());
        }
        let columns = [
            "uuid",
            "direction",
            "created_epoch",
            "name",
            "state",
            "cid_name",
            "cid_num",
            "dest",
            "callstate",
            "call_uuid",
        ];
        let values = |c: &Channel| -> Vec<String> {
            vec![
                c.uuid.clone(),
                if c.outbound {
                    "outbound".into()
                } else {
                    "inbound".into()
                },
                (c.created_us / 1_000_000).to_string(),
                c.name.clone(),
                c.state.name_and_number().0.into(),
                c.caller_id_name.clone(),
                c.caller_id_number.clone(),
                c.destination.clone(),
                c.call_state.into(),
                c.call_uuid.clone(),
            ]
        };
        if words.get(1) == Some(&"as") && words.get(2) == Some(&"json") {
            if rows.is_empty() {
                return "{\"row_count\":0}".into();
            }
            let mut event_rows = Vec::new();
            for row in &rows {
                let mut object = Event::default();
                for (name, value) in columns.iter().zip(values(row)) {
                    object.add(name, value);
                }
                event_rows.push(object.to_json());
            }
            return format!(
                "{{\"row_count\":{},\"rows\":[{}]}}",
                rows.len(),
                event_rows.join(",")
            );
        }
        let mut out = columns.join(",");
        out.push('\n');
        for row in &rows {
            out.push_str(&values(row).join(","));
            out.push('\n');
        }
        out.push_str(&format!("\n{} total.\n", rows.len()));
        out
    }

    // ---------------------------------------------------------------- originate

    /// `originate <dial> <exten|&app(args)> [dialplan] [context] [cid_name] [cid_num] [timeout]`.
    fn api_originate(&mut self, owner: Owner, arg: &str) -> Result<(), String> {
        const USAGE: &str = "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n";
        let args = split_api_args(arg);
        if args.len() < 2 {
            return Err(USAGE.into());
        }
        let after = match args[1].strip_prefix('&') {
            Some(app) => {
                let (name, app_arg) = match app.split_once('(') {
                    Some((name, rest)) => (
                        name.to_string(),
                        rest.split(')').next().unwrap_or("").to_string(),
                    ),
                    None => (app.to_string(), String::new()),
                };
                vec![AppCall::dialplan(&name, &app_arg)]
            }
            None => self
                .routes
                .get(&args[1])
                .map(|apps| apps.iter().map(|(a, b)| AppCall::dialplan(a, b)).collect())
                .unwrap_or_default(),
        };
        let timeout = args
            .get(6)
            .filter(|t| *t != "undef")
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(60);
        let mut extra = Vec::new();
        for (index, var) in [
            (4usize, "origination_caller_id_name"),
            (5, "origination_caller_id_number"),
        ] {
            if let Some(value) = args.get(index).filter(|v| *v != "undef") {
                extra.push((var.to_string(), value.clone()));
            }
        }
        self.start_originate(owner, &args[0], after, timeout, None, extra);
        Ok(())
    }

    fn start_originate(
        &mut self,
        owner: Owner,
        dial_string: &str,
        after: Vec<AppCall>,
        base_timeout_s: u64,
        caller: Option<String>,
        extra_globals: Vec<(String, String)>,
    ) {
        let id = self.id();
        let Some(dial) = DialString::parse(dial_string) else {
            let orig = Originate {
                owner,
                dial: DialString::default(),
                group: 0,
                legs: vec![],
                causes: vec![],
                early_ok: true,
                continue_on_timeout: false,
                timeout_s: 0,
                progress_timeout_s: None,
                got_progress: false,
                after,
                done: false,
                extra_globals,
                caller,
            };
            self.originates.insert(id, orig);
            self.originate_failed(id, "INVALID_NUMBER_FORMAT");
            return;
        };
        let caller_chan = caller
            .as_ref()
            .and_then(|c| self.chans.get(c))
            .map(|c| c.ch.clone());
        // var_event: the caller's exported variables, then `<>`/`{}` (the dial string wins)
        let mut globals: Vec<(String, String)> = extra_globals;
        if let Some(c) = &caller_chan {
            for name in &c.exported {
                if let Some(value) = c.var(name) {
                    globals.push((name.clone(), value.to_string()));
                }
            }
        }
        let (timeout_s, early_ok, continue_on_timeout, progress_timeout_s) = {
            let lookup = |name: &str| -> Option<String> {
                dial.global_var(name).map(str::to_string).or_else(|| {
                    globals
                        .iter()
                        .rev()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone())
                })
            };
            // only a few caller variables are copied in (switch_ivr_originate.c:2370-2425)
            let copied = |name: &str| {
                lookup(name).or_else(|| {
                    caller_chan
                        .as_ref()
                        .and_then(|c| c.var(name).map(str::to_string))
                })
            };
            let mut timeout_s = base_timeout_s;
            let call_timeout = caller_chan
                .as_ref()
                .and_then(|c| c.var("call_timeout"))
                .and_then(|v| v.parse::<u64>().ok());
            if let Some(call_timeout) = call_timeout {
                timeout_s = call_timeout;
            }
            if timeout_s == 0 {
                timeout_s = 60;
            }
            if let Some(t) = lookup("originate_timeout")
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|t| *t > 0)
            {
                timeout_s = t;
            }
            let early_ok = !copied("ignore_early_media")
                .is_some_and(|v| is_true(&v) || v == "ring_ready" || v == "consume");
            (
                timeout_s,
                early_ok,
                copied("originate_continue_on_timeout").is_some_and(|v| is_true(&v)),
                copied("progress_timeout")
                    .and_then(|v| v.parse().ok())
                    .filter(|t| *t > 0),
            )
        };
        let orig = Originate {
            owner,
            dial,
            group: 0,
            legs: vec![],
            causes: vec![],
            early_ok,
            continue_on_timeout,
            timeout_s,
            progress_timeout_s,
            got_progress: false,
            after,
            done: false,
            extra_globals: globals,
            caller,
        };
        self.originates.insert(id, orig);
        self.start_group(id);
    }

    fn start_group(&mut self, id: u64) {
        let Some(orig) = self.originates.get(&id) else {
            return;
        };
        let group = orig.group;
        let Some(legs) = orig.dial.groups.get(group).cloned() else {
            return;
        };
        let dial = orig.dial.clone();
        let timeout_s = orig.timeout_s;
        let progress = orig.progress_timeout_s;
        let globals = orig.extra_globals.clone();
        let caller = orig.caller.clone();
        let mut created = Vec::new();
        let mut failures = Vec::new();
        for leg in &legs {
            let mut vars: Vec<(String, String)> = globals.clone();
            let clobber = dial.global_var("local_var_clobber").is_some_and(is_true);
            if clobber {
                vars.extend(dial.globals.iter().cloned());
                vars.extend(leg.locals.iter().cloned());
            } else {
                vars.extend(leg.locals.iter().cloned());
                vars.extend(dial.globals.iter().cloned());
            }
            match self.create_leg(&leg.target, &vars, caller.as_deref()) {
                Ok(uuid) => {
                    if let Some(chan) = self.chans.get_mut(&uuid) {
                        chan.originate = Some(id);
                    }
                    if let Some(leg_timeout) = dial
                        .leg_var(leg, "leg_timeout")
                        .and_then(|v| v.parse::<u64>().ok())
                        .filter(|t| *t > 0)
                    {
                        let due = self.whole_seconds_from_now(leg_timeout, false);
                        self.add_timer_at(due, Timer::LegTimeout { uuid: uuid.clone() });
                    }
                    created.push(uuid);
                }
                Err(cause) => failures.push((String::new(), cause)),
            }
        }
        let due = self.whole_seconds_from_now(timeout_s, true);
        self.add_timer_at(due, Timer::OriginateTimeout { id, group });
        if let Some(p) = progress {
            let due = self.whole_seconds_from_now(p, true);
            self.add_timer_at(due, Timer::ProgressTimeout { id, group });
        }
        let Some(orig) = self.originates.get_mut(&id) else {
            return;
        };
        orig.legs = created.clone();
        orig.got_progress = false;
        let last_failure = failures.last().map(|(_, c)| c.clone());
        orig.causes.extend(failures);
        if created.is_empty() {
            self.group_failed(
                id,
                &last_failure.unwrap_or_else(|| "CHAN_NOT_IMPLEMENTED".into()),
                false,
            );
        }
    }

    /// Creates the channel(s) of one dialed leg; returns the uuid the originator sees.
    fn create_leg(
        &mut self,
        target: &str,
        vars: &[(String, String)],
        caller: Option<&str>,
    ) -> Result<String, String> {
        let var = |name: &str| {
            vars.iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let uuid = var("origination_uuid")
            .filter(|u| !self.chans.contains_key(u))
            .unwrap_or_else(new_uuid);
        let now = self.now_us();
        let (kind, rest) = target.split_once('/').unwrap_or((target, ""));
        let behavior = self.endpoints.get(target).cloned();
        let loopback_route = if kind == "loopback" {
            let exten = rest.split('/').next().unwrap_or("").to_string();
            Some(exten)
        } else {
            None
        };
        if loopback_route.is_none() && behavior.is_none() {
            return Err(match kind {
                "user" => "USER_NOT_REGISTERED".into(),
                "error" => rest.to_ascii_uppercase(),
                _ => "CHAN_NOT_IMPLEMENTED".into(),
            });
        }
        let name = match &loopback_route {
            Some(exten) => format!("loopback/{exten}-a"),
            None => target.to_string(),
        };
        let mut ch = Channel::new(uuid.clone(), name, true, now);
        ch.destination = loopback_route.clone().unwrap_or_else(|| rest.to_string());
        ch.callee_id_number = ch.destination.clone();
        ch.source = if loopback_route.is_some() {
            "mod_loopback".into()
        } else {
            "mod_sofia".into()
        };
        if let Some(number) = var("origination_caller_id_number") {
            ch.caller_id_number = number;
        }
        if let Some(caller_name) = var("origination_caller_id_name") {
            ch.caller_id_name = caller_name;
        }
        ch.set_var("direction", "outbound");
        ch.set_var("uuid", uuid.clone());
        ch.set_var("session_id", (self.session_count + 1).to_string());
        ch.set_var("channel_name", ch.name.clone());
        for (name, value) in vars {
            ch.set_var(name, value.clone());
        }
        if let Some(c) = caller.and_then(|c| self.chans.get(c)) {
            ch.call_uuid = c.ch.call_uuid.clone();
            ch.other_leg = Some(c.ch.uuid.clone());
        }
        ch.set_var("call_uuid", ch.call_uuid.clone());
        self.insert_chan(ch, true);
        match loopback_route {
            Some(exten) => {
                let b_uuid = new_uuid();
                let mut b = Channel::new(b_uuid.clone(), format!("loopback/{exten}-b"), false, now);
                b.destination = exten.clone();
                b.callee_id_number = "default".into();
                for (name, value) in [
                    ("direction", "inbound".to_string()),
                    ("uuid", b_uuid.clone()),
                    ("session_id", (self.session_count + 2).to_string()),
                    ("channel_name", b.name.clone()),
                    ("read_codec", "L16".into()),
                    ("read_rate", "8000".into()),
                    ("write_codec", "L16".into()),
                    ("write_rate", "8000".into()),
                    ("other_loopback_leg_uuid", uuid.clone()),
                    ("loopback_leg", "B".into()),
                    ("call_uuid", b_uuid.clone()),
                ] {
                    b.set_var(name, value);
                }
                self.insert_chan(b, false);
                let apps = self.routes.get(&exten).cloned();
                if let Some(chan) = self.chans.get_mut(&b_uuid) {
                    chan.partner = Some(uuid.clone());
                    match &apps {
                        Some(apps) => {
                            chan.dialplan =
                                apps.iter().map(|(a, b)| AppCall::dialplan(a, b)).collect()
                        }
                        None => {
                            chan.dialplan = VecDeque::from([AppCall::dialplan(
                                "hangup",
                                "NO_ROUTE_DESTINATION",
                            )])
                        }
                    }
                }
                if let Some(chan) = self.chans.get_mut(&uuid) {
                    chan.partner = Some(b_uuid.clone());
                    chan.ch.set_var("other_loopback_leg_uuid", b_uuid.clone());
                    chan.ch.set_var("loopback_leg", "A");
                }
                // the order a real loopback originate produces (transcript 03)
                self.codec_events(
                    &uuid,
                    &format!("loopback/{}-a", target.trim_start_matches("loopback/")),
                );
                self.emit(&uuid, "CHANNEL_OUTGOING");
                self.set_state(&uuid, ChannelState::Init);
                let b_name = self
                    .chans
                    .get(&b_uuid)
                    .map(|c| c.ch.name.clone())
                    .unwrap_or_default();
                self.codec_events(&b_uuid, &b_name);
                self.emit(&uuid, "CHANNEL_CREATE");
                self.emit(&uuid, "CHANNEL_ORIGINATE");
                self.set_state(&uuid, ChannelState::Routing);
                self.set_state(&uuid, ChannelState::ConsumeMedia);
                self.set_state(&b_uuid, ChannelState::Init);
                self.emit(&b_uuid, "CHANNEL_CREATE");
                if let Some(chan) = self.chans.get_mut(&b_uuid) {
                    chan.ch.state = ChannelState::Routing;
                }
                self.set_call_state(&b_uuid, "RINGING");
                self.set_state(&b_uuid, ChannelState::Routing);
                self.set_state(&b_uuid, ChannelState::Execute);
                self.wake(&b_uuid);
            }
            None => {
                self.emit(&uuid, "CHANNEL_OUTGOING");
                self.set_state(&uuid, ChannelState::Init);
                self.emit(&uuid, "CHANNEL_CREATE");
                self.emit(&uuid, "CHANNEL_ORIGINATE");
                self.set_state(&uuid, ChannelState::Routing);
                self.set_state(&uuid, ChannelState::ConsumeMedia);
                let steps: Vec<(u64, Signal)> = match behavior.unwrap_or(Behavior::NeverAnswer) {
                    Behavior::AnswerAfter(d) if d.is_zero() => vec![(0, Signal::Answer)],
                    Behavior::AnswerAfter(d) => {
                        vec![(0, Signal::Ring), (d.as_millis() as u64, Signal::Answer)]
                    }
                    Behavior::NeverAnswer => vec![(0, Signal::Ring)],
                    Behavior::EarlyMediaNeverAnswer => vec![(0, Signal::EarlyMedia)],
                    Behavior::EarlyMediaThenAnswer(d) => vec![
                        (0, Signal::EarlyMedia),
                        (d.as_millis() as u64, Signal::Answer),
                    ],
                    Behavior::Busy => vec![(0, Signal::Hangup("USER_BUSY".into()))],
                    Behavior::Reject(cause) => vec![(0, Signal::Hangup(cause))],
                };
                for (delay, signal) in steps {
                    self.schedule(
                        delay,
                        Timer::Remote {
                            uuid: uuid.clone(),
                            signal,
                        },
                    );
                }
            }
        }
        Ok(uuid)
    }

    fn codec_events(&mut self, uuid: &str, initial_name: &str) {
        for _ in 0..2 {
            let mut event = self.base_event(
                "CODEC",
                "switch_core_codec.c",
                "switch_core_session_set_read_codec",
                300,
            );
            let Some(chan) = self.chans.get(uuid) else {
                return;
            };
            let mut early = chan.ch.clone();
            early.name = initial_name.to_string();
            early.vars.clear();
            let (state, number) = ("CS_NONE", 0);
            event
                .add("Channel-State", state)
                .add("Channel-Call-State", "DOWN")
                .add("Channel-State-Number", number.to_string())
                .add("Channel-Name", early.name.clone())
                .add("Unique-ID", early.uuid.clone())
                .add(
                    "Call-Direction",
                    if early.outbound {
                        "outbound"
                    } else {
                        "inbound"
                    },
                )
                .add("Answer-State", "ringing")
                .add("Channel-Read-Codec-Name", "L16")
                .add("Channel-Read-Codec-Rate", "8000");
            self.deliver(&event);
        }
    }

    fn insert_chan(&mut self, ch: Channel, idle: bool) {
        self.session_count += 1;
        self.chan_order.push(ch.uuid.clone());
        self.chans.insert(
            ch.uuid.clone(),
            Chan {
                ch,
                dialplan: VecDeque::new(),
                private: VecDeque::new(),
                stack: Vec::new(),
                partner: None,
                originate: None,
                idle,
                bridged_with: None,
                park_started: false,
                phase2_done: false,
                locks: 0,
            },
        );
    }

    /// The remote side of an outgoing leg did something.
    fn remote_signal(&mut self, uuid: &str, signal: Signal) {
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        if chan.ch.is_down() {
            return;
        }
        let now = self.cfg.epoch_base_ms * 1000 + self.now_ms * 1000;
        let originate = chan.originate;
        let update = match signal {
            Signal::Ring => {
                if chan.ch.progress_us == 0 {
                    chan.ch.progress_us = now;
                }
                self.emit(uuid, "CHANNEL_PROGRESS");
                self.set_call_state(uuid, "RINGING");
                Some(LegUpdate::Progress)
            }
            Signal::EarlyMedia => {
                chan.ch.progress_media_us = now;
                if !chan.ch.is_answered() {
                    chan.ch.answer_state = "early";
                }
                self.emit(uuid, "CHANNEL_PROGRESS_MEDIA");
                self.set_call_state(uuid, "EARLY");
                Some(LegUpdate::Early)
            }
            Signal::Answer => {
                if chan.ch.is_answered() {
                    return;
                }
                chan.ch.answered_us = now;
                chan.ch.answer_state = "answered";
                self.emit(uuid, "CHANNEL_ANSWER");
                self.set_call_state(uuid, "ACTIVE");
                Some(LegUpdate::Answer)
            }
            Signal::Hangup(cause) => {
                self.hangup(uuid, &cause, false);
                None
            }
        };
        if let (Some(id), Some(update)) = (originate, update) {
            self.actions.push_back(Action::Leg {
                id,
                uuid: uuid.to_string(),
                update,
            });
        }
    }

    fn leg_update(&mut self, id: u64, uuid: &str, update: LegUpdate) {
        let Some(orig) = self.originates.get_mut(&id) else {
            return;
        };
        if orig.done || !orig.legs.iter().any(|l| l == uuid) {
            return;
        }
        match update {
            LegUpdate::Progress => orig.got_progress = true,
            LegUpdate::Early => {
                orig.got_progress = true;
                if orig.early_ok {
                    self.originate_succeeded(id, uuid, true);
                }
            }
            LegUpdate::Answer => self.originate_succeeded(id, uuid, false),
            LegUpdate::Failed(cause) => {
                orig.legs.retain(|l| l != uuid);
                orig.causes.push((uuid.to_string(), cause.clone()));
                if orig.legs.is_empty() {
                    self.group_failed(id, &cause, false);
                }
            }
        }
    }

    fn originate_timeout(&mut self, id: u64, group: usize, cause: &str, progress_only: bool) {
        let Some(orig) = self.originates.get_mut(&id) else {
            return;
        };
        if orig.done || orig.group != group || (progress_only && orig.got_progress) {
            return;
        }
        let legs = std::mem::take(&mut orig.legs);
        for leg in &legs {
            orig.causes.push((leg.clone(), cause.to_string()));
        }
        for leg in &legs {
            if let Some(chan) = self.chans.get_mut(leg) {
                chan.originate = None;
            }
            self.hangup(leg, cause, false);
        }
        self.group_failed(id, cause, true);
    }

    fn group_failed(&mut self, id: u64, cause: &str, global_timeout: bool) {
        let Some(orig) = self.originates.get_mut(&id) else {
            return;
        };
        let more = orig.group + 1 < orig.dial.groups.len();
        if more && (!global_timeout || orig.continue_on_timeout) {
            orig.group += 1;
            self.start_group(id);
        } else {
            self.originate_failed(id, cause);
        }
    }

    fn originate_failed(&mut self, id: u64, cause: &str) {
        let Some(orig) = self.originates.remove(&id) else {
            return;
        };
        let result = format!("-ERR {cause}\n");
        match orig.owner {
            Owner::Api { conn, arg } => {
                self.api_event("originate", &arg);
                self.api_response(conn, &result);
                self.unblock(conn);
            }
            Owner::Bgapi { conn, job, arg } => {
                self.api_event("originate", &arg);
                self.background_job(conn, &job, "originate", &arg, &result);
            }
            Owner::Bridge { caller } => self.bridge_failed(&caller, cause, &orig.causes),
        }
    }

    fn originate_succeeded(&mut self, id: u64, winner: &str, early: bool) {
        let Some(orig) = self.originates.remove(&id) else {
            return;
        };
        for leg in orig.legs.iter().filter(|l| *l != winner) {
            if let Some(chan) = self.chans.get_mut(leg) {
                chan.originate = None;
            }
            self.actions
                .push_back(Action::Hangup(leg.clone(), "LOSE_RACE".into()));
        }
        if let Some(chan) = self.chans.get_mut(winner) {
            chan.originate = None;
        }
        let result = format!("+OK {winner}\n");
        match orig.owner {
            Owner::Api { conn, arg } => {
                self.start_after_apps(winner, orig.after);
                self.api_event("originate", &arg);
                self.api_response(conn, &result);
                self.unblock(conn);
            }
            Owner::Bgapi { conn, job, arg } => {
                self.start_after_apps(winner, orig.after);
                self.api_event("originate", &arg);
                self.background_job(conn, &job, "originate", &arg, &result);
            }
            Owner::Bridge { caller } => self.bridge_established(&caller, winner, early),
        }
    }

    fn start_after_apps(&mut self, winner: &str, after: Vec<AppCall>) {
        self.emit(winner, "CALL_UPDATE");
        if let Some(chan) = self.chans.get_mut(winner) {
            chan.idle = false;
            chan.ch.other_leg = None;
            chan.dialplan = after.into();
        }
        self.wake(winner);
    }

    // ---------------------------------------------------------------- bridge

    fn bridge_established(&mut self, caller: &str, peer: &str, early: bool) {
        if !self.chan_up(caller) {
            self.actions
                .push_back(Action::Hangup(peer.to_string(), "ORIGINATOR_CANCEL".into()));
            return;
        }
        if !early {
            self.answer(caller);
        }
        let status = if early { "EARLY" } else { "SUCCESS" };
        if let Some(chan) = self.chans.get_mut(caller) {
            chan.ch.set_var("originate_disposition", "SUCCESS");
            chan.ch.set_var("DIALSTATUS", status);
            chan.ch.set_var("last_bridge_to", peer);
            chan.ch.set_var("bridge_to", peer);
            if let Some(Running { kind, .. }) = chan.stack.last_mut() {
                *kind = Blocking::Bridged;
            }
        }
        self.set_call_state(caller, if early { "EARLY" } else { "ACTIVE" });
        self.link_bridge(caller, peer);
        if early {
            let timeout = self
                .chans
                .get(caller)
                .and_then(|c| c.ch.var("bridge_answer_timeout"))
                .and_then(|v| v.parse::<u64>().ok());
            if let Some(t) = timeout.filter(|t| *t > 0) {
                let due = self.whole_seconds_from_now(t, true);
                self.add_timer_at(
                    due,
                    Timer::BridgeAnswerTimeout {
                        uuid: peer.to_string(),
                    },
                );
            }
        }
    }

    fn link_bridge(&mut self, a: &str, b: &str) {
        let now = self.now_us();
        for (x, y) in [(a, b), (b, a)] {
            if let Some(chan) = self.chans.get_mut(x) {
                chan.bridged_with = Some(y.to_string());
                chan.ch.other_leg = Some(y.to_string());
                chan.ch.bridged_us = now;
                chan.ch.set_var("bridge_uuid", y);
            }
        }
        self.emit_with(
            a,
            "CHANNEL_BRIDGE",
            &[
                ("Bridge-A-Unique-ID", a.to_string()),
                ("Bridge-B-Unique-ID", b.to_string()),
            ],
        );
    }

    fn bridge_failed(&mut self, caller: &str, cause: &str, causes: &[(String, String)]) {
        let Some(chan) = self.chans.get_mut(caller) else {
            return;
        };
        let listed: Vec<String> = causes
            .iter()
            .filter(|(u, _)| !u.is_empty())
            .map(|(u, c)| format!("{u};{c}"))
            .collect();
        chan.ch.set_var("originate_disposition", cause);
        chan.ch.set_var("DIALSTATUS", dial_status(cause));
        if !listed.is_empty() {
            let value = if listed.len() == 1 {
                listed[0].clone()
            } else {
                format!("ARRAY::{}", listed.join("|:"))
            };
            chan.ch.set_var("originate_causes", value);
        }
        chan.ch.set_var("originate_failed_cause", cause);
        chan.ch.set_var("last_bridge_hangup_cause", cause);
        let keep = match chan.ch.var("continue_on_fail") {
            Some(v) if is_true(v) => true,
            Some(list) => list.split(',').map(str::trim).any(|c| {
                c.eq_ignore_ascii_case(cause)
                    || cause_number(cause).is_some_and(|n| c == n.to_string())
            }),
            None => false,
        } || matches!(
            cause,
            "NO_ANSWER" | "NO_USER_RESPONSE" | "ORIGINATOR_CANCEL"
        );
        let back_to = if chan.ch.is_answered() {
            "ACTIVE"
        } else if chan.ch.answer_state == "early" {
            "EARLY"
        } else {
            "RINGING"
        };
        self.set_call_state(caller, back_to);
        if keep {
            self.complete_top(caller, None);
            self.wake(caller);
        } else {
            self.hangup(caller, cause, false);
        }
    }

    fn unbridge(&mut self, uuid: &str, cause: &str) {
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        let other = chan.ch.other_leg.clone().unwrap_or_default();
        chan.ch.set_var("bridge_hangup_cause", cause);
        chan.ch.set_var("last_bridge_hangup_cause", cause);
        self.emit_with(
            uuid,
            "CHANNEL_UNBRIDGE",
            &[
                ("Bridge-A-Unique-ID", uuid.to_string()),
                ("Bridge-B-Unique-ID", other),
            ],
        );
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        chan.ch.other_leg = None;
        chan.bridged_with = None;
        let bridge_app = matches!(
            chan.stack.last(),
            Some(Running {
                kind: Blocking::Bridged,
                ..
            })
        );
        let hangup_after = chan
            .ch
            .var("hangup_after_bridge")
            .is_some_and(|v| is_true(v) || v == "explicit");
        if chan.ch.is_down() {
            return;
        }
        if hangup_after || !bridge_app {
            self.hangup(uuid, "NORMAL_CLEARING", false);
        } else {
            self.complete_top(uuid, None);
            self.wake(uuid);
        }
    }

    // ---------------------------------------------------------------- applications

    fn run_channel(&mut self, uuid: &str) {
        loop {
            let Some(chan) = self.chans.get_mut(uuid) else {
                return;
            };
            if chan.ch.is_down() {
                if chan.stack.is_empty() && !chan.phase2_done {
                    chan.phase2_done = true;
                    self.set_state(uuid, ChannelState::Hangup);
                    self.set_call_state(uuid, "HANGUP");
                    self.set_state(uuid, ChannelState::Reporting);
                    self.emit(uuid, "CHANNEL_HANGUP_COMPLETE");
                }
                self.channel_down_notify(uuid);
                let Some(chan) = self.chans.get(uuid) else {
                    return;
                };
                if chan.phase2_done && chan.locks == 0 {
                    self.emit(uuid, "CHANNEL_DESTROY");
                    self.set_state(uuid, ChannelState::Destroy);
                    self.chans.remove(uuid);
                    self.chan_order.retain(|u| u != uuid);
                }
                return;
            }
            let next = match chan.stack.last() {
                None => match chan.dialplan.pop_front() {
                    Some(app) => Some(app),
                    None if chan.idle || chan.bridged_with.is_some() => return,
                    None => {
                        self.hangup(uuid, "NORMAL_CLEARING", false);
                        continue;
                    }
                },
                Some(Running {
                    kind: Blocking::Park,
                    ..
                }) => take_private(chan),
                Some(Running {
                    kind:
                        Blocking::Socket {
                            async_mode: true, ..
                        },
                    ..
                }) if chan.park_started => take_private(chan),
                Some(_) => return,
            };
            match next {
                Some(app) => self.start_app(uuid, app),
                None => return,
            }
        }
    }

    fn start_app(&mut self, uuid: &str, call: AppCall) {
        let name = call.name.to_ascii_lowercase();
        const KNOWN: [&str; 17] = [
            "answer",
            "pre_answer",
            "ring_ready",
            "park",
            "hangup",
            "set",
            "export",
            "unset",
            "sleep",
            "playback",
            "bridge",
            "socket",
            "conference",
            "echo",
            "log",
            "info",
            "event",
        ];
        if !KNOWN.contains(&name.as_str()) {
            // an unknown application hangs the call up and never completes
            self.hangup(uuid, "DESTINATION_OUT_OF_ORDER", false);
            return;
        }
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        if chan.ch.is_down() {
            return;
        }
        let to_execute = chan.ch.state != ChannelState::Execute;
        if to_execute {
            self.set_state(uuid, ChannelState::Execute);
        }
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        chan.ch
            .set_var("current_application_data", call.arg.clone());
        chan.ch.set_var("current_application", name.clone());
        let app_uuid = call.app_uuid.clone().unwrap_or_else(new_uuid);
        let mut extra = vec![("Application", name.clone())];
        if !call.arg.is_empty() {
            extra.push(("Application-Data", call.arg.clone()));
        }
        extra.push(("Application-UUID", app_uuid.clone()));
        if let Some(label) = &call.app_uuid_name {
            extra.push(("Application-UUID-Name", label.clone()));
        }
        self.emit_with(uuid, "CHANNEL_EXECUTE", &extra);
        let call = AppCall {
            app_uuid: Some(app_uuid),
            ..call
        };
        let token = self.id();
        let arg = call.arg.clone();
        let blocking = match name.as_str() {
            "answer" => {
                self.answer(uuid);
                None
            }
            "pre_answer" => {
                self.pre_answer(uuid);
                None
            }
            "ring_ready" => {
                self.ring_ready(uuid);
                None
            }
            "hangup" => {
                let cause = Some(arg.trim())
                    .filter(|c| !c.is_empty())
                    .unwrap_or("NORMAL_CLEARING")
                    .to_string();
                self.hangup(uuid, &cause, false);
                None
            }
            "set" | "export" => {
                if let (Some((var, value)), Some(chan)) =
                    (arg.split_once('='), self.chans.get_mut(uuid))
                {
                    chan.ch.set_var(var.trim(), value.to_string());
                    if name == "export" {
                        chan.ch.exported.push(var.trim().to_string());
                    }
                }
                None
            }
            "unset" => {
                if let Some(chan) = self.chans.get_mut(uuid) {
                    chan.ch.set_var(arg.trim(), "");
                }
                None
            }
            "log" | "info" | "event" => None,
            "park" => {
                self.emit(uuid, "CHANNEL_PARK");
                if let Some(chan) = self.chans.get_mut(uuid) {
                    chan.park_started = true;
                }
                Some(Blocking::Park)
            }
            "sleep" => {
                let ms = arg.trim().parse::<u64>().unwrap_or(0);
                self.add_timer(
                    ms,
                    Timer::AppDone {
                        uuid: uuid.to_string(),
                        token,
                    },
                );
                Some(Blocking::Wait)
            }
            "playback" => {
                self.emit_with(
                    uuid,
                    "PLAYBACK_START",
                    &[("Playback-File-Path", arg.clone())],
                );
                if let Some(ms) = playback_ms(&arg) {
                    self.add_timer(
                        ms,
                        Timer::AppDone {
                            uuid: uuid.to_string(),
                            token,
                        },
                    );
                }
                Some(Blocking::Playback)
            }
            "echo" => Some(Blocking::Wait),
            "conference" => {
                self.answer(uuid);
                Some(Blocking::Wait)
            }
            "bridge" => {
                self.set_call_state(uuid, "RING_WAIT");
                Some(Blocking::Bridge)
            }
            "socket" => {
                let mut words = arg.split_whitespace();
                let target = words
                    .next()
                    .unwrap_or("")
                    .split('|')
                    .next()
                    .unwrap_or("")
                    .to_string();
                let flags: Vec<String> = words.map(|w| w.to_ascii_lowercase()).collect();
                let async_mode = flags.iter().any(|f| f == "async");
                let full = flags.iter().any(|f| f == "full");
                let (host, port) = match target.rsplit_once(':') {
                    Some((h, p)) => (h.to_string(), p.parse().unwrap_or(8084)),
                    None => (target.clone(), 8084),
                };
                if let Some(chan) = self.chans.get_mut(uuid) {
                    chan.ch.set_var("socket_host", host.clone());
                }
                self.io.push(IoAction::ConnectOutbound {
                    uuid: uuid.to_string(),
                    host,
                    port,
                    async_mode,
                    full,
                });
                Some(Blocking::Socket {
                    conn: None,
                    async_mode,
                })
            }
            _ => None,
        };
        match blocking {
            None => {
                self.emit_complete(uuid, &call, None);
                self.finish_origin(uuid, &call);
            }
            Some(kind) => {
                if let Some(chan) = self.chans.get_mut(uuid) {
                    chan.stack.push(Running { call, kind, token });
                }
                if name == "bridge" {
                    self.start_bridge(uuid, &arg);
                }
            }
        }
    }

    fn start_bridge(&mut self, uuid: &str, dial: &str) {
        self.start_originate(
            Owner::Bridge {
                caller: uuid.to_string(),
            },
            dial,
            Vec::new(),
            0,
            Some(uuid.to_string()),
            Vec::new(),
        );
    }

    fn emit_complete(&mut self, uuid: &str, call: &AppCall, response: Option<&str>) {
        let mut extra = vec![("Application", call.name.to_ascii_lowercase())];
        if !call.arg.is_empty() {
            extra.push(("Application-Data", call.arg.clone()));
        }
        extra.push((
            "Application-Response",
            response.unwrap_or("_none_").to_string(),
        ));
        extra.push((
            "Application-UUID",
            call.app_uuid.clone().unwrap_or_default(),
        ));
        if let Some(label) = &call.app_uuid_name {
            extra.push(("Application-UUID-Name", label.clone()));
        }
        self.emit_with(uuid, "CHANNEL_EXECUTE_COMPLETE", &extra);
    }

    /// What happens after an application finished, depending on who started it.
    fn finish_origin(&mut self, uuid: &str, call: &AppCall) {
        match call.origin {
            AppOrigin::Inline(conn) => {
                self.reply(conn, "+OK");
                self.unblock(conn);
            }
            AppOrigin::Queued {
                private_command: true,
            } => self.emit(uuid, "PRIVATE_COMMAND"),
            _ => {}
        }
    }

    /// Completes the innermost running application.
    fn complete_top(&mut self, uuid: &str, response: Option<&str>) {
        let Some(running) = self.chans.get_mut(uuid).and_then(|c| c.stack.pop()) else {
            return;
        };
        match &running.kind {
            Blocking::Park => self.unpark_if_parked(uuid),
            Blocking::Playback => self.emit_with(
                uuid,
                "PLAYBACK_STOP",
                &[("Playback-File-Path", running.call.arg.clone())],
            ),
            Blocking::Socket {
                async_mode: true, ..
            } => self.unpark_if_parked(uuid),
            _ => {}
        }
        let interrupted = self.chans.get(uuid).is_some_and(|c| c.ch.is_down());
        let response = match (&running.kind, response) {
            (Blocking::Playback, None) if interrupted => Some("PLAYBACK ERROR"),
            (Blocking::Playback, None) => Some("FILE PLAYED"),
            (_, r) => r,
        };
        self.emit_complete(uuid, &running.call, response);
        self.finish_origin(uuid, &running.call);
    }

    fn answer(&mut self, uuid: &str) {
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        if chan.ch.is_answered() || chan.ch.is_down() {
            return;
        }
        let partner = chan.partner.clone();
        if let Some(p) = &partner {
            self.remote_signal(p, Signal::Answer);
        }
        let now = self.now_us();
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        chan.ch.answered_us = now;
        chan.ch.answer_state = "answered";
        chan.ch.set_var("endpoint_disposition", "ANSWER");
        self.emit(uuid, "CHANNEL_ANSWER");
        let in_bridge_wait = matches!(
            self.chans.get(uuid).and_then(|c| c.stack.last()),
            Some(Running {
                kind: Blocking::Bridge,
                ..
            })
        );
        if !in_bridge_wait {
            self.set_call_state(uuid, "ACTIVE");
        }
    }

    fn pre_answer(&mut self, uuid: &str) {
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        if chan.ch.is_answered() || chan.ch.progress_media_us != 0 {
            return;
        }
        let partner = chan.partner.clone();
        if let Some(p) = &partner {
            self.remote_signal(p, Signal::EarlyMedia);
        }
        let now = self.now_us();
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        chan.ch.progress_media_us = now;
        chan.ch.answer_state = "early";
        chan.ch.set_var("endpoint_disposition", "EARLY MEDIA");
        self.emit(uuid, "CHANNEL_PROGRESS_MEDIA");
        self.set_call_state(uuid, "EARLY");
    }

    fn ring_ready(&mut self, uuid: &str) {
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        if chan.ch.progress_us != 0 {
            return;
        }
        let partner = chan.partner.clone();
        if let Some(p) = &partner {
            self.remote_signal(p, Signal::Ring);
        }
        let now = self.now_us();
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        chan.ch.progress_us = now;
        self.emit(uuid, "CHANNEL_PROGRESS");
        self.set_call_state(uuid, "RINGING");
    }

    // ---------------------------------------------------------------- hangup

    fn hangup(&mut self, uuid: &str, cause: &str, private_command: bool) {
        let now = self.now_us();
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        if chan.ch.is_down() {
            return;
        }
        chan.ch.hangup_cause = Some(cause.to_string());
        chan.ch.answer_state = "hangup";
        chan.ch.hangup_us = now;
        chan.ch.set_var("hangup_cause", cause);
        if let Some(n) = cause_number(cause) {
            chan.ch.set_var("hangup_cause_q850", n.to_string());
        }
        let partner = chan.partner.clone();
        let originate = chan.originate.take();
        let bridged = chan.bridged_with.take();
        self.emit(uuid, "CHANNEL_HANGUP");
        if private_command {
            self.emit(uuid, "PRIVATE_COMMAND");
        }
        // unwind the running applications, innermost first
        while let Some(top) = self.chans.get(uuid).and_then(|c| c.stack.last()) {
            match &top.kind {
                Blocking::Socket {
                    async_mode: false,
                    conn: Some(_),
                } => break,
                Blocking::Bridge => {
                    let pending: Vec<String> = self
                        .originates
                        .iter()
                        .filter(
                            |(_, o)| matches!(&o.owner, Owner::Bridge { caller } if caller == uuid),
                        )
                        .flat_map(|(_, o)| o.legs.clone())
                        .collect();
                    self.originates.retain(
                        |_, o| !matches!(&o.owner, Owner::Bridge { caller } if caller == uuid),
                    );
                    for leg in pending {
                        if let Some(chan) = self.chans.get_mut(&leg) {
                            chan.originate = None;
                        }
                        self.actions
                            .push_back(Action::Hangup(leg, "ORIGINATOR_CANCEL".into()));
                    }
                }
                _ => {}
            }
            self.complete_top(uuid, None);
        }
        if let Some(other) = bridged {
            if let Some(o) = self.chans.get_mut(&other) {
                o.bridged_with = None;
            }
            let other_is_bridging = matches!(
                self.chans.get(&other).and_then(|c| c.stack.last()),
                Some(Running {
                    kind: Blocking::Bridged,
                    ..
                })
            );
            if other_is_bridging {
                self.actions.push_back(Action::Unbridge {
                    uuid: other,
                    cause: cause.to_string(),
                });
            } else {
                self.actions
                    .push_back(Action::Hangup(other, "NORMAL_CLEARING".into()));
            }
        }
        if let Some(p) = partner {
            // mod_loopback hangs the partner up from the CS_HANGUP state handler; a session
            // still held by a sync socket never gets there, the partner only loses media
            let blocked = self.chans.get(uuid).is_some_and(|c| !c.stack.is_empty());
            if blocked {
                self.actions.push_back(Action::MediaGone(p));
            } else {
                self.actions.push_back(Action::Hangup(p, cause.to_string()));
            }
        }
        if let Some(id) = originate {
            self.actions.push_back(Action::Leg {
                id,
                uuid: uuid.to_string(),
                update: LegUpdate::Failed(cause.to_string()),
            });
        }
        self.wake(uuid);
    }

    fn media_gone(&mut self, uuid: &str) {
        let media_app = self.chans.get(uuid).is_some_and(|c| {
            !c.ch.is_down()
                && matches!(
                    c.stack.last(),
                    Some(Running {
                        kind: Blocking::Park | Blocking::Wait | Blocking::Playback,
                        ..
                    })
                )
        });
        if media_app {
            self.complete_top(uuid, None);
            self.wake(uuid);
        }
    }

    /// Listeners bound to a channel that went down: linger notice or disconnect.
    fn channel_down_notify(&mut self, uuid: &str) {
        let bound: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| !c.closed && !c.down_notified && c.session.as_deref() == Some(uuid))
            .map(|(id, _)| *id)
            .collect();
        for id in bound {
            let Some(c) = self.conns.get_mut(&id) else {
                continue;
            };
            if c.busy {
                continue;
            }
            c.down_notified = true;
            match c.linger {
                Some(seconds) => {
                    let name = self
                        .chans
                        .get(uuid)
                        .map(|c| c.ch.name.clone())
                        .unwrap_or_default();
                    self.send_raw(
                        id,
                        format!(
                            "Content-Type: text/disconnect-notice\nControlled-Session-UUID: {uuid}\nContent-Disposition: linger\nChannel-Name: {name}\nLinger-Time: {seconds}\nContent-Length: 0\n\n"
                        )
                        .into_bytes(),
                    );
                    if seconds > 0 {
                        let due = self.whole_seconds_from_now(seconds as u64, false);
                        self.add_timer_at(due, Timer::Linger { conn: id });
                    }
                }
                None => self.disconnect(id, true),
            }
        }
    }
}

fn take_private(chan: &mut Chan) -> Option<AppCall> {
    chan.private.pop_front().map(|job| match job {
        Job::Exec(call) => call,
    })
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

/// The originate API's argument split: on spaces, with single quotes grouping and stripped.
fn split_api_args(arg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in arg.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
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
        assert!(!filters_pass(
            &f(&[("Event-Name", "CHANNEL_ANSWER"), ("Unique-ID", "-u1")]),
            &event
        ));
        assert!(filters_pass(
            &f(&[("Event-Name", "channel_answer")]),
            &event
        ));
    }

    #[test]
    fn api_args_strip_quotes() {
        assert_eq!(
            split_api_args("{x='a b'}user/1 &park()"),
            vec!["{x=a b}user/1", "&park()"]
        );
    }
}
