//! Originate (API and bridge): dial strings, legs, timeouts, and the bridge outcome.

use super::*;

/// `SWITCH_ENT_ORIGINATE_DELIM`: separates the branches of an enterprise originate.
const ENTERPRISE_DELIMITER: &str = ":_:";

impl Core {
    // ---------------------------------------------------------------- originate

    /// `originate <dial> <exten|&app(args)> [dialplan] [context] [cid_name] [cid_num] [timeout]`.
    pub(super) fn api_originate(&mut self, owner: Owner, arg: &str) -> Result<(), String> {
        const USAGE: &str = "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n";
        let args = crate::dial::originate_api_args(arg);
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

    pub(super) fn start_originate(
        &mut self,
        owner: Owner,
        dial_string: &str,
        after: Vec<AppCall>,
        base_timeout_s: u64,
        caller: Option<String>,
        extra_globals: Vec<(String, String)>,
    ) -> u64 {
        if dial_string.contains(ENTERPRISE_DELIMITER) {
            return self.start_enterprise(
                owner,
                dial_string,
                after,
                base_timeout_s,
                caller,
                extra_globals,
            );
        }
        let id = self.id();
        let Some(dial) = DialString::parse(dial_string) else {
            let orig = Originate {
                owner,
                dial: DialString::default(),
                group: 0,
                round: 0,
                retries_left: 0,
                retry_sleep_ms: 0,
                retrying: false,
                legs: vec![],
                delayed: 0,
                group_started_ms: 0,
                causes: vec![],
                early_ok: true,
                bridge_early_media: false,
                continue_on_timeout: false,
                fail_on_single_reject: None,
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
        let (
            timeout_s,
            early_ok,
            bridge_early_media,
            continue_on_timeout,
            progress_timeout_s,
            fail_on_single_reject,
            retries_left,
            retry_sleep_ms,
        ) = {
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
            // `bridge_early_media=true` also waits for the answer (ignore_early_media = 3)
            let bridge_early_media = copied("bridge_early_media").is_some_and(|v| is_true(&v));
            let early_ok = !copied("ignore_early_media")
                .is_some_and(|v| is_true(&v) || v == "ring_ready" || v == "consume")
                && !bridge_early_media;
            (
                timeout_s,
                early_ok,
                bridge_early_media,
                copied("originate_continue_on_timeout").is_some_and(|v| is_true(&v)),
                copied("progress_timeout")
                    .and_then(|v| v.parse().ok())
                    .filter(|t| *t > 0),
                copied("fail_on_single_reject"),
                // 1 to 100 attempts, 500 ms to 60 s apart (else the defaults: 1, 1000 ms)
                lookup("originate_retries")
                    .and_then(|v| v.trim().parse::<u32>().ok())
                    .filter(|n| (1..=100).contains(n))
                    .map_or(0, |n| n - 1),
                lookup("originate_retry_sleep_ms")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .filter(|ms| (500..=60_000).contains(ms))
                    .unwrap_or(1000),
            )
        };
        let orig = Originate {
            owner,
            dial,
            group: 0,
            round: 0,
            retries_left,
            retry_sleep_ms,
            retrying: false,
            legs: vec![],
            delayed: 0,
            group_started_ms: 0,
            causes: vec![],
            early_ok,
            bridge_early_media,
            continue_on_timeout,
            fail_on_single_reject,
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
    fn start_leg(&mut self, id: u64, index: usize, delay_s: u64) {
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
    fn fail_group_if_no_leg_left(&mut self, id: u64) {
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

    /// Creates the channel(s) of one dialed leg; returns the uuid the originator sees.
    pub(super) fn create_leg(
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
        if loopback_route.is_none() {
            ch.callee_id_number = ch.destination.clone();
        }
        ch.source = if loopback_route.is_some() {
            "mod_loopback".into()
        } else {
            "mod_sofia".into()
        };
        if let Some(number) = var("origination_caller_id_number") {
            ch.orig_caller_id_number = number.clone();
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
        // mod_loopback clones the A leg's caller profile for the B leg
        let caller_id = (
            ch.caller_id_name.clone(),
            ch.caller_id_number.clone(),
            ch.orig_caller_id_number.clone(),
        );
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
                (
                    b.caller_id_name,
                    b.caller_id_number,
                    b.orig_caller_id_number,
                ) = caller_id;
                // and replays the originate's variables (`__loopback_vars__`) onto it
                for (name, value) in vars {
                    b.set_var(name, value.clone());
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

    /// The two CODEC events (read codec, then write codec) a new loopback channel fires
    /// before its state machine runs, under its initial name.
    pub(super) fn codec_events(&mut self, uuid: &str, initial_name: &str) {
        const READ: [&str; 3] = [
            "channel-read-codec-name",
            "channel-read-codec-rate",
            "channel-read-codec-bit-rate",
        ];
        const READ_SET: [&str; 3] = [
            "Channel-Read-Codec-Name",
            "Channel-Read-Codec-Rate",
            "Channel-Read-Codec-Bit-Rate",
        ];
        const WRITE: [&str; 3] = [
            "Channel-Write-Codec-Name",
            "Channel-Write-Codec-Rate",
            "Channel-Write-codec-bit-rate",
        ];
        let codec = ["L16", "8000", "128000"];
        for (function, line, groups) in [
            ("switch_core_session_set_read_codec", 300, vec![READ]),
            (
                "switch_core_session_set_write_codec",
                520,
                vec![READ_SET, WRITE],
            ),
        ] {
            let mut event = self.base_event("CODEC", "switch_core_codec.c", function, line);
            let Some(chan) = self.chans.get(uuid) else {
                return;
            };
            let mut early = chan.ch.clone();
            early.name = initial_name.to_string();
            early.add_state_headers(&mut event, Some(("CS_NONE", 0)));
            for names in groups {
                for (name, value) in names.iter().zip(codec) {
                    event.add(name, value);
                }
            }
            self.deliver(&event);
        }
    }

    pub(super) fn insert_chan(&mut self, ch: Channel, idle: bool) {
        self.session_count += 1;
        let text = format!("New Channel {} [{}]", ch.name, ch.uuid);
        self.log_line(
            5,
            ("switch_channel.c", "switch_channel_set_name", 1104),
            &ch.uuid,
            &text,
        );
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
                divert_events: false,
                pending_bridge: None,
            },
        );
    }

    /// The remote side of an outgoing leg did something.
    pub(super) fn remote_signal(&mut self, uuid: &str, signal: Signal) {
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
                self.hangup(uuid, &cause, None);
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
    fn report_failure(&mut self, owner: Owner, cause: &str, causes: Vec<(String, String)>) {
        match self.answer_api_caller(owner, format!("-ERR {cause}\n")) {
            Some(Owner::Bridge { caller }) => self.bridge_failed(&caller, cause, &causes),
            Some(Owner::Branch { parent, index }) => {
                self.branch_failed(parent, index, cause, causes)
            }
            _ => {}
        }
    }

    /// Tells whoever waits for an originate that `winner` answered (or sent early media).
    fn report_success(&mut self, owner: Owner, winner: &str, early: bool, after: Vec<AppCall>) {
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
    fn answer_api_caller(&mut self, owner: Owner, result: String) -> Option<Owner> {
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

    // ---------------------------------------------------------------- enterprise originate

    /// `<vars>dial1:_:dial2...`: every branch is an originate of its own, run at the same
    /// time with the `<>` variables and `ignore_early_media=true`; the first to succeed wins
    /// and the others are cancelled with LOSE_RACE (switch_ivr_enterprise_originate).
    fn start_enterprise(
        &mut self,
        owner: Owner,
        dial_string: &str,
        after: Vec<AppCall>,
        base_timeout_s: u64,
        caller: Option<String>,
        mut extra_globals: Vec<(String, String)>,
    ) -> u64 {
        let mut rest = dial_string.trim_start();
        while rest.starts_with('<') {
            let Some(end) = rest.find('>') else {
                break;
            };
            // parsed like a `{}` block (the leg name only completes the dial string)
            if let Some(block) = DialString::parse(&format!("{}x", &rest[..=end])) {
                extra_globals.extend(block.globals);
            }
            rest = rest[end + 1..].trim_start();
        }
        extra_globals.push(("ignore_early_media".into(), "true".into()));
        let id = self.id();
        let branches: Vec<String> = rest
            .split(ENTERPRISE_DELIMITER)
            .map(str::to_string)
            .collect();
        self.enterprises.insert(
            id,
            Enterprise {
                owner,
                after,
                branches: Vec::new(),
                outcomes: vec![None; branches.len()],
                causes: Vec::new(),
            },
        );
        for (index, branch) in branches.iter().enumerate() {
            let child = self.start_originate(
                Owner::Branch { parent: id, index },
                branch,
                Vec::new(),
                base_timeout_s,
                caller.clone(),
                extra_globals.clone(),
            );
            match self.enterprises.get_mut(&id) {
                Some(enterprise) => enterprise.branches.push(child),
                None => break,
            }
        }
        id
    }

    fn branch_failed(
        &mut self,
        parent: u64,
        index: usize,
        cause: &str,
        causes: Vec<(String, String)>,
    ) {
        let Some(enterprise) = self.enterprises.get_mut(&parent) else {
            return;
        };
        if let Some(outcome) = enterprise.outcomes.get_mut(index) {
            *outcome = Some(cause.to_string());
        }
        enterprise.causes.extend(causes);
        if enterprise.outcomes.iter().any(Option::is_none) {
            return;
        }
        if let Some(enterprise) = self.enterprises.remove(&parent) {
            // in branch order, the last cause that is not LOSE_RACE or NO_PICKUP
            let cause = enterprise
                .outcomes
                .iter()
                .flatten()
                .rfind(|c| *c != "LOSE_RACE" && *c != "NO_PICKUP")
                .cloned()
                .unwrap_or_else(|| "NO_ANSWER".into());
            self.report_failure(enterprise.owner, &cause, enterprise.causes);
        }
    }

    fn branch_succeeded(&mut self, parent: u64, winner: &str, early: bool) {
        let Some(enterprise) = self.enterprises.remove(&parent) else {
            return;
        };
        for branch in &enterprise.branches {
            let Some(losing) = self.originates.remove(branch) else {
                continue;
            };
            for leg in losing.legs {
                if let Some(chan) = self.chans.get_mut(&leg) {
                    chan.originate = None;
                }
                self.actions
                    .push_back(Action::Hangup(leg, "LOSE_RACE".into()));
            }
        }
        self.report_success(enterprise.owner, winner, early, enterprise.after);
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

    // ---------------------------------------------------------------- bridge

    /// A queued message runs nested inside the bridge (its originate loop and its bridge loop
    /// call `switch_ivr_parse_all_events`): the bridge notices an outcome only once that
    /// message's application returned. True when `outcome` was kept for then.
    fn defer_bridge_outcome(&mut self, uuid: &str, outcome: PendingBridge) -> bool {
        let Some(chan) = self.chans.get_mut(uuid) else {
            return false;
        };
        let nested = chan
            .stack
            .last()
            .is_some_and(|top| !matches!(top.kind, Blocking::Bridge | Blocking::Bridged));
        let in_bridge = chan
            .stack
            .iter()
            .any(|r| matches!(r.kind, Blocking::Bridge | Blocking::Bridged));
        if nested && in_bridge {
            chan.pending_bridge = Some(outcome);
        }
        nested && in_bridge
    }

    /// Applies a bridge outcome that waited for a nested application (see
    /// [`defer_bridge_outcome`](Self::defer_bridge_outcome)).
    pub(super) fn apply_pending_bridge(&mut self, uuid: &str, outcome: PendingBridge) {
        match outcome {
            PendingBridge::Established { peer, early } => {
                self.bridge_established(uuid, &peer, early)
            }
            PendingBridge::Failed { cause, causes } => self.bridge_failed(uuid, &cause, &causes),
            PendingBridge::Unbridged { cause } => self.unbridge(uuid, &cause),
        }
    }

    pub(super) fn bridge_established(&mut self, caller: &str, peer: &str, early: bool) {
        if !self.chan_up(caller) {
            self.actions
                .push_back(Action::Hangup(peer.to_string(), "ORIGINATOR_CANCEL".into()));
            return;
        }
        let outcome = PendingBridge::Established {
            peer: peer.to_string(),
            early,
        };
        if self.defer_bridge_outcome(caller, outcome) {
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

    pub(super) fn link_bridge(&mut self, a: &str, b: &str) {
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

    pub(super) fn bridge_failed(&mut self, caller: &str, cause: &str, causes: &[(String, String)]) {
        let outcome = PendingBridge::Failed {
            cause: cause.to_string(),
            causes: causes.to_vec(),
        };
        if self.defer_bridge_outcome(caller, outcome) {
            return;
        }
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
            self.hangup(caller, cause, None);
        }
    }

    pub(super) fn unbridge(&mut self, uuid: &str, cause: &str) {
        let outcome = PendingBridge::Unbridged {
            cause: cause.to_string(),
        };
        if self.defer_bridge_outcome(uuid, outcome) {
            return;
        }
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
            self.hangup(uuid, "NORMAL_CLEARING", None);
        } else {
            self.complete_top(uuid, None);
            self.wake(uuid);
        }
    }
}
