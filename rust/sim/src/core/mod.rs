//! The simulated switch: channels, applications, originate/bridge, listeners and timers.
//! Everything runs under one lock in deterministic order; I/O happens outside it.
//!
//! Rooms: `io` (what crosses the lock), `listener` (subscriptions, filters, queues),
//! `connections` (socket lifecycle and replies), `commands` / `api` (what clients send),
//! `mod_commands` (the API commands) and `scheduler` (`sched_api`),
//! `timers`, `events` (building and firing events), `calls` (the call-model types),
//! `channels` (legs, answer, hangup), `apps` (the run loop and applications), `originate`,
//! `enterprise` (`:_:` originate) and `bridge`.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::util::new_uuid;
use crate::{Behavior, EslUser};

mod api;
mod apps;
mod bridge;
mod calls;
mod channels;
mod commands;
mod connections;
mod enterprise;
mod events;
mod io;
mod listener;
mod mod_commands;
mod originate;
mod scheduler;
mod timers;

pub(crate) use calls::ApiOutput;
pub(crate) use io::{Backlog, Command, ConnId, ConnOutbox, IoAction, Out, FLOOD_HIGH_WATER};
pub(crate) use listener::{MAX_MISSED_EVENTS, MAX_QUEUED_EVENTS};

use calls::{Action, Chan, Enterprise, Originate};
use listener::Conn;
use scheduler::{SchedTask, FIRST_TASK_ID};
use timers::Timer;

const GOODBYE: &str = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";

const VERSION: &str = "FreeSWITCH Version 1.11.3-dev+git~20260821T141014Z~cc93a683ca~64bit (git cc93a68 2026-08-21 14:10:14Z 64bit)";

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
    /// `sched_api` tasks by id.
    sched_tasks: BTreeMap<u32, SchedTask>,
    next_task_id: u32,
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
            sched_tasks: BTreeMap::new(),
            next_task_id: FIRST_TASK_ID,
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
}

#[cfg(test)]
pub(super) mod tests {
    use super::{Command, Core, CoreConfig, MAX_COMMAND_LOG, MAX_COMMAND_LOG_BYTES};

    pub(super) fn test_core() -> Core {
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
}
