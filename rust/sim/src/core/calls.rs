//! The call-model types: applications and what they wait for, channels, originates and
//! their owners, and the follow-up work the pump runs.

use super::io::ConnId;
use super::timers::Timer;
use crate::dial::DialString;
use crate::model::Channel;
use std::collections::VecDeque;
use tokio::sync::oneshot;

/// Who started an application, which decides what happens when it ends.
#[derive(Debug, Clone)]
pub(super) enum AppOrigin {
    Dialplan,
    /// Queued by `sendmsg`; with the message's headers when a PRIVATE_COMMAND follows it.
    Queued {
        private_command: Option<Vec<(String, String)>>,
    },
    Inline(ConnId),
}

/// An application to run on a channel.
#[derive(Debug, Clone)]
pub(super) struct AppCall {
    pub(super) name: String,
    pub(super) arg: String,
    pub(super) app_uuid: Option<String>,
    pub(super) app_uuid_name: Option<String>,
    pub(super) origin: AppOrigin,
    /// `event-lock: true`: no queued message runs until this application ended.
    pub(super) event_lock: bool,
}

impl AppCall {
    pub(super) fn dialplan(name: &str, arg: &str) -> Self {
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
pub(super) enum Blocking {
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
pub(super) struct Running {
    pub(super) call: AppCall,
    pub(super) kind: Blocking,
    pub(super) token: u64,
    /// Its time is up while an application it runs nested (a queued message) still runs: it
    /// ends when that one has.
    pub(super) expired: bool,
}

/// A channel and its execution state (the work of its session thread).
pub(super) struct Chan {
    pub(super) ch: Channel,
    pub(super) dialplan: VecDeque<AppCall>,
    /// Messages queued by `sendmsg`, run while the channel is parked or in an application that
    /// reads them (sleep, playback, echo, conference).
    pub(super) private: VecDeque<AppCall>,
    pub(super) stack: Vec<Running>,
    /// Loopback partner leg.
    pub(super) partner: Option<String>,
    /// Originate this channel is a pending leg of.
    pub(super) originate: Option<u64>,
    /// A leg with no dialplan of its own: waits instead of hanging up.
    pub(super) idle: bool,
    pub(super) bridged_with: Option<String>,
    /// The B side of its bridge (a `calls` row belongs to the A side).
    pub(super) bridged_as_callee: bool,
    pub(super) park_started: bool,
    pub(super) phase2_done: bool,
    pub(super) locks: usize,
    /// CF_DIVERT_EVENTS (`divert_events on`).
    pub(super) divert_events: bool,
    /// A bridge outcome that waits for the queued message running nested in the bridge.
    pub(super) pending_bridge: Option<PendingBridge>,
}

/// What happened to a bridge while a queued message ran nested in it.
#[derive(Debug, Clone)]
pub(super) enum PendingBridge {
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
pub(super) enum Owner {
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

/// What an originate is asked for: by whom, what to dial, what runs on the answered leg, the
/// timeout when nothing else sets one, the calling channel (a bridge) and the variables every
/// leg gets besides the dial string's.
pub(super) struct OriginateRequest {
    pub(super) owner: Owner,
    pub(super) dial_string: String,
    pub(super) after: Vec<AppCall>,
    pub(super) base_timeout_s: u64,
    pub(super) caller: Option<String>,
    pub(super) extra_globals: Vec<(String, String)>,
}

/// An enterprise originate (`:_:`) in progress: its branches run as originates of their own.
pub(super) struct Enterprise {
    pub(super) owner: Owner,
    pub(super) after: Vec<AppCall>,
    /// The originate id of each branch.
    pub(super) branches: Vec<u64>,
    /// Each branch's failure cause, once it failed.
    pub(super) outcomes: Vec<Option<String>>,
    pub(super) causes: Vec<(String, String)>,
}

/// An originate in progress (API, bgapi or bridge).
pub(super) struct Originate {
    pub(super) owner: Owner,
    pub(super) dial: DialString,
    pub(super) group: usize,
    /// Counts group starts, so the timers of an earlier attempt at a group do not fire on a
    /// later one.
    pub(super) round: u64,
    /// `originate_retries` minus the attempts already begun after the first.
    pub(super) retries_left: u32,
    /// `originate_retry_sleep_ms`: the pause before each group of a retry attempt.
    pub(super) retry_sleep_ms: u64,
    pub(super) retrying: bool,
    pub(super) legs: Vec<String>,
    /// Legs of the current group still held by their `leg_delay_start`.
    pub(super) delayed: usize,
    /// When the current group started (sim ms): leg timeouts count from here.
    pub(super) group_started_ms: u64,
    pub(super) causes: Vec<(String, String)>,
    pub(super) early_ok: bool,
    /// `bridge_early_media=true`: the caller gets the far end's early media while the
    /// originate waits for the answer.
    pub(super) bridge_early_media: bool,
    pub(super) continue_on_timeout: bool,
    /// `fail_on_single_reject`: `true` or a list of causes that end a `,` ring-all at once.
    pub(super) fail_on_single_reject: Option<String>,
    pub(super) timeout_s: u64,
    pub(super) progress_timeout_s: Option<u64>,
    pub(super) got_progress: bool,
    pub(super) after: Vec<AppCall>,
    pub(super) done: bool,
    pub(super) extra_globals: Vec<(String, String)>,
    pub(super) caller: Option<String>,
}

/// Follow-up work, run in order by `pump` (the simulated threads' next steps).
pub(super) enum Action {
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
pub(super) enum LegUpdate {
    Progress,
    Early,
    Answer,
    Failed(String),
}
