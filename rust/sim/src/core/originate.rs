//! Originate (API, bgapi and bridge): dial-string options, groups, legs, timeouts, retries and
//! who is told the outcome.

use super::calls::{Action, AppCall, LegUpdate, Originate, OriginateRequest, Owner};
use super::enterprise::ENTERPRISE_DELIMITER;
use super::timers::Timer;
use super::Core;
use crate::dial::{is_true, DialString};
use crate::model::Channel;

impl Core {
    /// `originate <dial> <exten|&app(args)> [dialplan] [context] [cid_name] [cid_num] [timeout]`.
    pub(super) fn api_originate(&mut self, owner: Owner, arg: &str) -> Result<(), String> {
        const USAGE: &str = "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n";
        let args = crate::dial::originate_api_args(arg);
        if args.len() < 2 {
            return Err(USAGE.into());
        }
        let after = match args[1].strip_prefix('&') {
            Some(app) => {
                // mod_commands cuts at the first `)`: `&playback(tone_stream://%(500,0,440))`
                // plays `tone_stream://%(500,0,440`
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
        self.start_originate(OriginateRequest {
            owner,
            dial_string: args[0].clone(),
            after,
            base_timeout_s: timeout,
            caller: None,
            extra_globals: extra,
        });
        Ok(())
    }

    pub(super) fn start_originate(&mut self, request: OriginateRequest) -> u64 {
        if request.dial_string.contains(ENTERPRISE_DELIMITER) {
            return self.start_enterprise(request);
        }
        let OriginateRequest {
            owner,
            dial_string,
            after,
            base_timeout_s,
            caller,
            extra_globals,
        } = request;
        let id = self.id();
        let Some(dial) = DialString::parse(&dial_string) else {
            let orig = Originate::new(
                owner,
                DialString::default(),
                OriginateOptions::default(),
                after,
                extra_globals,
                caller,
            );
            self.originates.insert(id, orig);
            self.originate_failed(id, "INVALID_NUMBER_FORMAT");
            return id;
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
        let options = OriginateOptions::read(&dial, &globals, caller_chan.as_ref(), base_timeout_s);
        let orig = Originate::new(owner, dial, options, after, globals, caller);
        self.originates.insert(id, orig);
        self.start_group(id);
        id
    }

    pub(super) fn start_group(&mut self, id: u64) {
        let Some(orig) = self.originates.get(&id) else {
            return;
        };
        let Some(legs) = orig.dial.groups.get(orig.group).cloned() else {
            return;
        };
        let dial = orig.dial.clone();
        let timeout_s = orig.timeout_s;
        let progress = orig.progress_timeout_s;
        let round = orig.round + 1;
        // `leg_delay_start`: when every leg of the group is delayed, all start that much earlier
        // (check_per_channel_timeouts shifts them by the smallest delay)
        let delays: Vec<u64> = legs
            .iter()
            .map(|leg| {
                dial.leg_var(leg, "leg_delay_start")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(0)
            })
            .collect();
        let shift = if delays.iter().all(|d| *d > 0) {
            delays.iter().copied().min().unwrap_or(0)
        } else {
            0
        };
        let now = self.now_ms;
        let Some(orig) = self.originates.get_mut(&id) else {
            return;
        };
        orig.round = round;
        orig.legs.clear();
        orig.delayed = 0;
        orig.group_started_ms = now;
        orig.got_progress = false;
        for (index, delay) in delays.iter().enumerate() {
            let delay = delay - shift;
            if delay == 0 {
                self.start_leg(id, index, 0);
            } else if let Some(orig) = self.originates.get_mut(&id) {
                // its state machine is held (CF_BLOCK_STATE) until `elapsed > delay`
                orig.delayed += 1;
                let due = self.whole_seconds_from_now(delay, false);
                self.add_timer_at(
                    due,
                    Timer::LegStart {
                        id,
                        round,
                        leg: index,
                        delay_s: delay,
                    },
                );
            }
        }
        let due = self.whole_seconds_from_now(timeout_s, true);
        self.add_timer_at(due, Timer::OriginateTimeout { id, round });
        if let Some(p) = progress {
            let due = self.whole_seconds_from_now(p, true);
            self.add_timer_at(due, Timer::ProgressTimeout { id, round });
        }
        self.fail_group_if_no_leg_left(id);
    }

    /// A `leg_delay_start` ran out: that leg starts, unless its group is over.
    pub(super) fn delayed_leg_due(&mut self, id: u64, round: u64, leg: usize, delay_s: u64) {
        let Some(orig) = self.originates.get_mut(&id) else {
            return;
        };
        if orig.done || orig.round != round {
            return;
        }
        orig.delayed = orig.delayed.saturating_sub(1);
        self.start_leg(id, leg, delay_s);
        self.fail_group_if_no_leg_left(id);
    }

    /// Creates leg `index` of the current group and arms its `leg_timeout` and
    /// `leg_progress_timeout`, which count from the group's start plus the leg's delay.
    pub(super) fn start_leg(&mut self, id: u64, index: usize, delay_s: u64) {
        let Some(orig) = self.originates.get(&id) else {
            return;
        };
        let Some(leg) = orig.dial.groups.get(orig.group).and_then(|g| g.get(index)) else {
            return;
        };
        let leg = leg.clone();
        let dial = orig.dial.clone();
        let caller = orig.caller.clone();
        let group_started = orig.group_started_ms;
        let mut vars: Vec<(String, String)> = orig.extra_globals.clone();
        if dial.global_var("local_var_clobber").is_some_and(is_true) {
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
                let seconds = |name: &str| {
                    dial.leg_var(&leg, name)
                        .and_then(|v| v.parse::<u64>().ok())
                        .filter(|t| *t > 0)
                };
                if let Some(leg_timeout) = seconds("leg_timeout") {
                    let due = self.whole_seconds_after(group_started, leg_timeout + delay_s, false);
                    self.add_timer_at(due, Timer::LegTimeout { uuid: uuid.clone() });
                }
                if let Some(progress_timeout) = seconds("leg_progress_timeout") {
                    let due =
                        self.whole_seconds_after(group_started, progress_timeout + delay_s, false);
                    self.add_timer_at(due, Timer::LegProgressTimeout { uuid: uuid.clone() });
                }
                if let Some(orig) = self.originates.get_mut(&id) {
                    orig.legs.push(uuid);
                }
            }
            Err(cause) => {
                if let Some(orig) = self.originates.get_mut(&id) {
                    orig.causes.push((String::new(), cause));
                }
            }
        }
    }

    /// No leg of the group is ringing or waiting for its delay: the group failed with the last
    /// leg's cause.
    pub(super) fn fail_group_if_no_leg_left(&mut self, id: u64) {
        let Some(orig) = self.originates.get(&id) else {
            return;
        };
        if !orig.legs.is_empty() || orig.delayed > 0 || orig.done {
            return;
        }
        let cause = orig
            .causes
            .last()
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| "CHAN_NOT_IMPLEMENTED".into());
        self.group_failed(id, &cause, false);
    }

    pub(super) fn leg_update(&mut self, id: u64, uuid: &str, update: LegUpdate) {
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
                } else if orig.bridge_early_media {
                    // the caller hears the far end's early media: setup_ringback pre-answers it
                    if let Some(caller) = orig.caller.clone() {
                        self.pre_answer(&caller);
                    }
                }
            }
            LegUpdate::Answer => self.originate_succeeded(id, uuid, false),
            LegUpdate::Failed(cause) => {
                orig.legs.retain(|l| l != uuid);
                orig.causes.push((uuid.to_string(), cause.clone()));
                let rejected = !matches!(
                    cause.as_str(),
                    "ALLOTTED_TIMEOUT" | "PROGRESS_TIMEOUT" | "ORIGINATOR_CANCEL" | "LOSE_RACE"
                );
                let single_reject_ends = rejected
                    && orig.fail_on_single_reject.as_deref().is_some_and(|v| {
                        is_true(v) || v.split(',').any(|c| c.trim().eq_ignore_ascii_case(&cause))
                    });
                if single_reject_ends {
                    // one reject ends the whole ring-all (fail_on_single_reject)
                    let others = std::mem::take(&mut orig.legs);
                    for leg in others {
                        if let Some(chan) = self.chans.get_mut(&leg) {
                            chan.originate = None;
                        }
                        self.hangup(&leg, "ORIGINATOR_CANCEL", None);
                    }
                    self.originate_failed(id, &cause);
                } else {
                    self.fail_group_if_no_leg_left(id);
                }
            }
        }
    }

    pub(super) fn originate_timeout(
        &mut self,
        id: u64,
        round: u64,
        cause: &str,
        progress_only: bool,
    ) {
        let Some(orig) = self.originates.get_mut(&id) else {
            return;
        };
        if orig.done || orig.round != round || (progress_only && orig.got_progress) {
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
            self.hangup(leg, cause, None);
        }
        self.group_failed(id, cause, true);
    }

    pub(super) fn group_failed(&mut self, id: u64, cause: &str, global_timeout: bool) {
        let Some(orig) = self.originates.get_mut(&id) else {
            return;
        };
        // the overall timeout ends everything, retries too, unless originate_continue_on_timeout
        let next = if global_timeout && !orig.continue_on_timeout {
            None
        } else if orig.group + 1 < orig.dial.groups.len() {
            Some(orig.group + 1)
        } else if orig.retries_left > 0 {
            orig.retries_left -= 1;
            orig.retrying = true;
            Some(0)
        } else {
            None
        };
        match next {
            Some(group) => {
                orig.group = group;
                if orig.retrying {
                    // switch_ivr_originate sleeps before every group of a retry attempt
                    let pause = orig.retry_sleep_ms;
                    self.add_timer(pause, Timer::RetryGroup { id });
                } else {
                    self.start_group(id);
                }
            }
            None => self.originate_failed(id, cause),
        }
    }

    pub(super) fn originate_failed(&mut self, id: u64, cause: &str) {
        let Some(orig) = self.originates.remove(&id) else {
            return;
        };
        self.report_failure(orig.owner, cause, orig.causes);
    }

    pub(super) fn originate_succeeded(&mut self, id: u64, winner: &str, early: bool) {
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
        self.report_success(orig.owner, winner, early, orig.after);
    }

    /// Tells whoever waits for an originate that it failed with `cause`.
    pub(super) fn report_failure(
        &mut self,
        owner: Owner,
        cause: &str,
        causes: Vec<(String, String)>,
    ) {
        match self.answer_api_caller(owner, format!("-ERR {cause}\n")) {
            Some(Owner::Bridge { caller }) => self.bridge_failed(&caller, cause, &causes),
            Some(Owner::Branch { parent, index }) => {
                self.branch_failed(parent, index, cause, causes)
            }
            _ => {}
        }
    }

    /// Tells whoever waits for an originate that `winner` answered (or sent early media).
    pub(super) fn report_success(
        &mut self,
        owner: Owner,
        winner: &str,
        early: bool,
        after: Vec<AppCall>,
    ) {
        if matches!(
            owner,
            Owner::Api { .. } | Owner::Direct { .. } | Owner::Bgapi { .. }
        ) {
            self.start_after_apps(winner, after);
        }
        match self.answer_api_caller(owner, format!("+OK {winner}\n")) {
            Some(Owner::Bridge { caller }) => self.bridge_established(&caller, winner, early),
            Some(Owner::Branch { parent, .. }) => self.branch_succeeded(parent, winner, early),
            _ => {}
        }
    }

    /// Gives an originate's result to the `api` / `bgapi` / [`Simulator::api`] caller waiting
    /// for it, after its `API` event; any other owner is handed back.
    ///
    /// [`Simulator::api`]: crate::Simulator::api
    pub(super) fn answer_api_caller(&mut self, owner: Owner, result: String) -> Option<Owner> {
        match owner {
            Owner::Api { conn, arg } => {
                self.api_event("originate", &arg);
                self.api_response(conn, &result);
                self.unblock(conn);
            }
            Owner::Direct {
                result: output,
                arg,
            } => {
                self.api_event("originate", &arg);
                let _ = output.send(result);
            }
            Owner::Bgapi { conn, job, arg } => {
                self.api_event("originate", &arg);
                self.background_job(conn, &job, "originate", &arg, &result);
            }
            other => return Some(other),
        }
        None
    }

    pub(super) fn start_after_apps(&mut self, winner: &str, after: Vec<AppCall>) {
        if let Some(chan) = self.chans.get_mut(winner) {
            if chan.partner.is_some() {
                // the loopback A-leg takes on the far end's identity (mod_loopback)
                chan.ch.caller_id_name = chan.ch.callee_id_name.clone();
                chan.ch.caller_id_number = chan.ch.callee_id_number.clone();
                chan.ch.callee_id_name = String::new();
                chan.ch.callee_id_number = chan.ch.orig_caller_id_number.clone();
            }
        }
        let leading = [("Direction", "RECV".to_string())];
        if let Some(event) = self.channel_event_with(winner, "CALL_UPDATE", &leading) {
            self.deliver(&event);
        }
        if let Some(chan) = self.chans.get_mut(winner) {
            chan.idle = false;
            chan.ch.other_leg = None;
            chan.dialplan = after.into();
        }
        self.wake(winner);
    }
}

/// The originate options read from the dial string, the exported variables and (a few) the
/// caller's own variables.
#[derive(Default)]
struct OriginateOptions {
    timeout_s: u64,
    early_ok: bool,
    bridge_early_media: bool,
    continue_on_timeout: bool,
    progress_timeout_s: Option<u64>,
    fail_on_single_reject: Option<String>,
    retries_left: u32,
    retry_sleep_ms: u64,
}

impl OriginateOptions {
    fn read(
        dial: &DialString,
        globals: &[(String, String)],
        caller: Option<&Channel>,
        base_timeout_s: u64,
    ) -> Self {
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
            lookup(name).or_else(|| caller.and_then(|c| c.var(name).map(str::to_string)))
        };
        let call_timeout = caller
            .and_then(|c| c.var("call_timeout"))
            .and_then(|v| v.parse::<u64>().ok());
        let mut timeout_s = call_timeout.unwrap_or(base_timeout_s);
        if timeout_s == 0 {
            timeout_s = 60;
        }
        if let Some(t) = lookup("originate_timeout")
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|t| *t > 0)
        {
            timeout_s = t;
        }
        // `bridge_early_media=true` also waits for the answer (ignore_early_media = 3)
        let bridge_early_media = copied("bridge_early_media").is_some_and(|v| is_true(&v));
        let early_ok = !copied("ignore_early_media")
            .is_some_and(|v| is_true(&v) || v == "ring_ready" || v == "consume")
            && !bridge_early_media;
        OriginateOptions {
            timeout_s,
            early_ok,
            bridge_early_media,
            continue_on_timeout: copied("originate_continue_on_timeout")
                .is_some_and(|v| is_true(&v)),
            progress_timeout_s: copied("progress_timeout")
                .and_then(|v| v.parse().ok())
                .filter(|t| *t > 0),
            fail_on_single_reject: copied("fail_on_single_reject"),
            // 1 to 100 attempts, 500 ms to 60 s apart (else the defaults: 1, 1000 ms)
            retries_left: lookup("originate_retries")
                .and_then(|v| v.trim().parse::<u32>().ok())
                .filter(|n| (1..=100).contains(n))
                .map_or(0, |n| n - 1),
            retry_sleep_ms: lookup("originate_retry_sleep_ms")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|ms| (500..=60_000).contains(ms))
                .unwrap_or(1000),
        }
    }
}

impl Originate {
    fn new(
        owner: Owner,
        dial: DialString,
        options: OriginateOptions,
        after: Vec<AppCall>,
        extra_globals: Vec<(String, String)>,
        caller: Option<String>,
    ) -> Self {
        Originate {
            owner,
            dial,
            group: 0,
            round: 0,
            retries_left: options.retries_left,
            retry_sleep_ms: options.retry_sleep_ms,
            retrying: false,
            legs: vec![],
            delayed: 0,
            group_started_ms: 0,
            causes: vec![],
            early_ok: options.early_ok,
            bridge_early_media: options.bridge_early_media,
            continue_on_timeout: options.continue_on_timeout,
            fail_on_single_reject: options.fail_on_single_reject,
            timeout_s: options.timeout_s,
            progress_timeout_s: options.progress_timeout_s,
            got_progress: false,
            after,
            done: false,
            extra_globals,
            caller,
        }
    }
}
