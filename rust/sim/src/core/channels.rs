//! Channels: creating dialled legs (endpoints and loopback pairs), the far end's signals,
//! answer / pre-answer / ring-ready, hangup and media loss.

use super::calls::{Action, AppCall, Blocking, Chan, LegUpdate, Owner, PendingBridge, Running};
use super::timers::Timer;
use super::Core;
use crate::model::{cause_number, Channel, ChannelState, Signal};
use crate::util::new_uuid;
use crate::Behavior;
use std::collections::VecDeque;

impl Core {
    pub(super) fn unpark_if_parked(&mut self, uuid: &str) {
        let parked = self
            .chans
            .get_mut(uuid)
            .is_some_and(|c| std::mem::take(&mut c.park_started));
        if parked {
            self.emit(uuid, "CHANNEL_UNPARK");
        }
    }

    /// Creates the channel(s) of one dialed leg; returns the uuid the originator sees.
    pub(super) fn create_leg(
        &mut self,
        target: &str,
        vars: &[(String, String)],
        caller: Option<&str>,
    ) -> Result<String, String> {
        let (kind, rest) = target.split_once('/').unwrap_or((target, ""));
        let behavior = self.endpoints.get(target).cloned();
        let loopback_exten = (kind == "loopback").then(|| rest.split('/').next().unwrap_or(""));
        if loopback_exten.is_none() && behavior.is_none() {
            return Err(match kind {
                "user" => "USER_NOT_REGISTERED".into(),
                "error" => rest.to_ascii_uppercase(),
                _ => "CHAN_NOT_IMPLEMENTED".into(),
            });
        }
        // the session gets a uuid of its own; `origination_uuid` renames it once the endpoint
        // created it (switch_core_session_outgoing_channel), after a loopback leg's CODEC events
        let wanted = var_of(vars, "origination_uuid").filter(|u| !self.chans.contains_key(u));
        let first_uuid = new_uuid();
        let ch = self.outgoing_channel(&first_uuid, target, loopback_exten, vars, caller);
        let initial_name = ch.name.clone();
        self.insert_chan(ch, true);
        let uuid = match loopback_exten {
            Some(exten) => {
                let exten = exten.to_string();
                self.codec_events(&first_uuid, &initial_name);
                let uuid = self.set_uuid(&first_uuid, wanted);
                self.start_loopback_pair(&uuid, &exten, vars);
                uuid
            }
            None => {
                let uuid = self.set_uuid(&first_uuid, wanted);
                self.dial_endpoint(&uuid, behavior.unwrap_or(Behavior::NeverAnswer));
                uuid
            }
        };
        Ok(uuid)
    }

    /// `origination_uuid` (switch_core_session_set_uuid): the channel takes the wanted uuid
    /// (and its `uuid` / `call_uuid` variables) and fires CHANNEL_UUID, whose `Old-Unique-ID`
    /// names the uuid it had. Returns the channel's uuid from now on.
    fn set_uuid(&mut self, old: &str, wanted: Option<String>) -> String {
        let Some(new) = wanted.filter(|w| w != old) else {
            return old.to_string();
        };
        let Some(mut chan) = self.chans.remove(old) else {
            return old.to_string();
        };
        chan.ch.uuid = new.clone();
        chan.ch.set_var("uuid", new.clone());
        if chan.ch.call_uuid == old {
            chan.ch.call_uuid = new.clone();
            chan.ch.set_var("call_uuid", new.clone());
        }
        self.chans.insert(new.clone(), chan);
        for uuid in self.chan_order.iter_mut().filter(|u| *u == old) {
            *uuid = new.clone();
        }
        let leading = [("Old-Unique-ID", old.to_string())];
        if let Some(event) = self.channel_event_with(&new, "CHANNEL_UUID", &leading) {
            self.deliver(&event);
        }
        new
    }

    /// The outgoing channel of a dialled leg (the loopback `-a` leg, or the endpoint's
    /// channel), with the originate's variables and the caller's call uuid.
    fn outgoing_channel(
        &self,
        uuid: &str,
        target: &str,
        loopback_exten: Option<&str>,
        vars: &[(String, String)],
        caller: Option<&str>,
    ) -> Channel {
        let rest = target.split_once('/').map_or("", |(_, rest)| rest);
        let name = match loopback_exten {
            Some(exten) => format!("loopback/{exten}-a"),
            None => target.to_string(),
        };
        let mut ch = Channel::new(uuid.to_string(), name, true, self.now_us());
        match loopback_exten {
            Some(exten) => {
                ch.destination = exten.to_string();
                ch.source = "mod_loopback".into();
            }
            None => {
                ch.destination = rest.to_string();
                ch.callee_id_number = ch.destination.clone();
                ch.source = "mod_sofia".into();
            }
        }
        if let Some(number) = var_of(vars, "origination_caller_id_number") {
            ch.orig_caller_id_number = number.clone();
            ch.caller_id_number = number;
        }
        if let Some(caller_name) = var_of(vars, "origination_caller_id_name") {
            ch.caller_id_name = caller_name;
        }
        ch.set_var("direction", "outbound");
        ch.set_var("uuid", uuid.to_string());
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
        ch
    }

    /// mod_loopback: creates the `-b` leg of the `-a` leg `a_uuid` (whose CODEC events already
    /// fired), which runs the extension's dialplan, and fires both legs' first events in the
    /// order a real loopback originate produces (transcript 03).
    fn start_loopback_pair(&mut self, a_uuid: &str, exten: &str, vars: &[(String, String)]) {
        let b_uuid = self.insert_loopback_b_leg(a_uuid, exten, vars);
        if let Some(chan) = self.chans.get_mut(a_uuid) {
            chan.partner = Some(b_uuid.clone());
            chan.ch.set_var("other_loopback_leg_uuid", b_uuid.clone());
            chan.ch.set_var("loopback_leg", "A");
        }
        self.emit(a_uuid, "CHANNEL_OUTGOING");
        self.set_state(a_uuid, ChannelState::Init);
        let b_name = self
            .chans
            .get(&b_uuid)
            .map(|c| c.ch.name.clone())
            .unwrap_or_default();
        self.codec_events(&b_uuid, &b_name);
        self.emit(a_uuid, "CHANNEL_CREATE");
        self.emit(a_uuid, "CHANNEL_ORIGINATE");
        self.set_state(a_uuid, ChannelState::Routing);
        self.set_state(a_uuid, ChannelState::ConsumeMedia);
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

    /// The loopback `-b` leg: the A leg's caller id (mod_loopback clones the caller
    /// profile), the originate's variables (`__loopback_vars__`) and the extension's dialplan.
    fn insert_loopback_b_leg(
        &mut self,
        a_uuid: &str,
        exten: &str,
        vars: &[(String, String)],
    ) -> String {
        let b_uuid = new_uuid();
        let mut b = Channel::new(
            b_uuid.clone(),
            format!("loopback/{exten}-b"),
            false,
            self.now_us(),
        );
        b.destination = exten.to_string();
        b.callee_id_number = "default".into();
        for (name, value) in [
            ("direction", "inbound".to_string()),
            ("uuid", b_uuid.clone()),
            ("session_id", (self.session_count + 1).to_string()),
            ("channel_name", b.name.clone()),
            ("read_codec", "L16".into()),
            ("read_rate", "8000".into()),
            ("write_codec", "L16".into()),
            ("write_rate", "8000".into()),
            ("other_loopback_leg_uuid", a_uuid.to_string()),
            ("loopback_leg", "B".into()),
            ("call_uuid", b_uuid.clone()),
        ] {
            b.set_var(name, value);
        }
        if let Some(a) = self.chans.get(a_uuid) {
            b.caller_id_name = a.ch.caller_id_name.clone();
            b.caller_id_number = a.ch.caller_id_number.clone();
            b.orig_caller_id_number = a.ch.orig_caller_id_number.clone();
        }
        for (name, value) in vars {
            b.set_var(name, value.clone());
        }
        self.insert_chan(b, false);
        let dialplan = match self.routes.get(exten) {
            Some(apps) => apps.iter().map(|(a, b)| AppCall::dialplan(a, b)).collect(),
            None => VecDeque::from([AppCall::dialplan("hangup", "NO_ROUTE_DESTINATION")]),
        };
        if let Some(chan) = self.chans.get_mut(&b_uuid) {
            chan.partner = Some(a_uuid.to_string());
            chan.dialplan = dialplan;
        }
        b_uuid
    }

    /// A scripted endpoint (`user/1000`...): its first events, then what the far end does.
    fn dial_endpoint(&mut self, uuid: &str, behavior: Behavior) {
        self.emit(uuid, "CHANNEL_OUTGOING");
        self.set_state(uuid, ChannelState::Init);
        self.emit(uuid, "CHANNEL_CREATE");
        self.emit(uuid, "CHANNEL_ORIGINATE");
        self.set_state(uuid, ChannelState::Routing);
        self.set_state(uuid, ChannelState::ConsumeMedia);
        let steps: Vec<(u64, Signal)> = match behavior {
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
            let uuid = uuid.to_string();
            self.schedule(delay, Timer::Remote { uuid, signal });
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
                bridged_as_callee: false,
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

    /// mod_loopback passes what one leg does (answer, early media, ringing) to its partner.
    fn signal_partner(&mut self, uuid: &str, signal: Signal) {
        if let Some(partner) = self.chans.get(uuid).and_then(|c| c.partner.clone()) {
            self.remote_signal(&partner, signal);
        }
    }

    pub(super) fn answer(&mut self, uuid: &str) {
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        if chan.ch.is_answered() || chan.ch.is_down() {
            return;
        }
        self.signal_partner(uuid, Signal::Answer);
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

    pub(super) fn pre_answer(&mut self, uuid: &str) {
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        if chan.ch.is_answered() || chan.ch.progress_media_us != 0 {
            return;
        }
        self.signal_partner(uuid, Signal::EarlyMedia);
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

    pub(super) fn ring_ready(&mut self, uuid: &str) {
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        if chan.ch.progress_us != 0 {
            return;
        }
        self.signal_partner(uuid, Signal::Ring);
        let now = self.now_us();
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        chan.ch.progress_us = now;
        self.emit(uuid, "CHANNEL_PROGRESS");
        self.set_call_state(uuid, "RINGING");
    }

    pub(super) fn hangup(
        &mut self,
        uuid: &str,
        cause: &str,
        private_command: Option<&[(String, String)]>,
    ) {
        let now = self.now_us();
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        if chan.ch.is_down() {
            return;
        }
        let text = format!(
            "Hangup {} [{}] [{cause}]",
            chan.ch.name,
            chan.ch.state.name_and_number().0
        );
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
        // a peer that answered while a nested message ran never gets bridged now
        if let Some(PendingBridge::Established { peer, .. }) = chan.pending_bridge.take() {
            self.actions
                .push_back(Action::Hangup(peer, "ORIGINATOR_CANCEL".into()));
        }
        self.log_line(
            5,
            ("switch_channel.c", "switch_channel_perform_hangup", 3470),
            uuid,
            &text,
        );
        self.emit(uuid, "CHANNEL_HANGUP");
        if let Some(message) = private_command {
            self.emit_private_command(uuid, message);
        }
        self.unwind_apps(uuid);
        if let Some(other) = bridged {
            self.release_bridge_peer(other, cause);
        }
        if let Some(p) = partner {
            // mod_loopback hangs the partner up from the CS_HANGUP state handler (run_channel);
            // a session still held by a sync socket never gets there, the partner only loses
            // media
            let blocked = self.chans.get(uuid).is_some_and(|c| !c.stack.is_empty());
            if blocked {
                self.actions.push_back(Action::MediaGone(p));
            }
        }
        // the leg's own thread finishes its hangup before the originating thread notices
        self.wake(uuid);
        if let Some(id) = originate {
            self.actions.push_back(Action::Leg {
                id,
                uuid: uuid.to_string(),
                update: LegUpdate::Failed(cause.to_string()),
            });
        }
    }

    /// Ends the running applications of a channel being hung up, innermost first; a sync
    /// outbound socket holds the session (its thread is busy in the socket).
    fn unwind_apps(&mut self, uuid: &str) {
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
    }

    /// The channel bridged with a channel that hung up: unbridged when its bridge
    /// application runs (it may carry on), else hung up.
    pub(super) fn release_bridge_peer(&mut self, other: String, cause: &str) {
        if let Some(o) = self.chans.get_mut(&other) {
            o.bridged_with = None;
        }
        let other_is_bridging = self
            .chans
            .get(&other)
            .is_some_and(|c| c.stack.iter().any(|r| matches!(r.kind, Blocking::Bridged)));
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

    /// `uuid_break`: stops the playback or sleep in progress; the channel carries on.
    pub(super) fn break_media(&mut self, uuid: &str) {
        let interruptible = matches!(
            self.chans.get(uuid).and_then(|c| c.stack.last()),
            Some(Running {
                kind: Blocking::Wait | Blocking::Playback,
                ..
            })
        );
        if interruptible {
            self.complete_top(uuid, None);
            self.wake(uuid);
        }
    }

    pub(super) fn media_gone(&mut self, uuid: &str) {
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

    pub(super) fn chan_up(&self, uuid: &str) -> bool {
        self.chans.get(uuid).is_some_and(|c| !c.ch.is_down())
    }
}

/// The last value of `name` among the originate's variables.
fn var_of(vars: &[(String, String)], name: &str) -> Option<String> {
    vars.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}
