//! The channel run loop (the session thread's work) and the dialplan applications.

use super::calls::{AppCall, AppOrigin, Blocking, Running};
use super::io::IoAction;
use super::timers::Timer;
use super::Core;
use crate::model::ChannelState;
use crate::tone::tone_stream_ms;
use crate::util::new_uuid;

/// Simulated duration of a playback: `silence_stream://N` plays N ms, a tone stream as long
/// as its script (never ending for `loops=-1`), anything else one second.
fn playback_ms(arg: &str) -> Option<u64> {
    if let Some(rest) = arg.strip_prefix("silence_stream://") {
        return rest
            .split(',')
            .next()
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .map(|n| n as u64);
    }
    if let Some(spec) = arg.strip_prefix("tone_stream://") {
        return tone_stream_ms(spec);
    }
    Some(1000)
}

/// `Playback-File-Type`: the stream scheme (`tone_stream`, `silence_stream`), else `file`.
fn playback_type(path: &str) -> String {
    path.split_once("://")
        .map_or("file", |(scheme, _)| scheme)
        .to_string()
}

impl Core {
    pub(super) fn run_channel(&mut self, uuid: &str) {
        loop {
            let Some(chan) = self.chans.get_mut(uuid) else {
                return;
            };
            if chan.ch.is_down() {
                self.finish_hangup(uuid);
                return;
            }
            let bridge_on_top = matches!(
                chan.stack.last(),
                Some(Running {
                    kind: Blocking::Bridge | Blocking::Bridged,
                    ..
                })
            );
            if bridge_on_top {
                if let Some(outcome) = chan.pending_bridge.take() {
                    self.apply_pending_bridge(uuid, outcome);
                    continue;
                }
            }
            // `event-lock`: the queue is not read while a locked application runs
            let locked = chan.stack.iter().any(|r| r.call.event_lock);
            let next = match chan.stack.last() {
                Some(Running { expired: true, .. }) => {
                    self.complete_top(uuid, None);
                    continue;
                }
                None => match chan.dialplan.pop_front() {
                    Some(app) => Some(app),
                    None if chan.idle || chan.bridged_with.is_some() => return,
                    None => {
                        self.hangup(uuid, "NORMAL_CLEARING", None);
                        continue;
                    }
                },
                Some(_) if locked => return,
                // park, the loops of sleep, playback, echo and conference, and bridge's originate
                // and bridge loops read queued messages (switch_ivr_parse_all_events)
                Some(Running {
                    kind:
                        Blocking::Park
                        | Blocking::Wait
                        | Blocking::Playback
                        | Blocking::Bridge
                        | Blocking::Bridged,
                    ..
                }) => chan.private.pop_front(),
                Some(Running {
                    kind:
                        Blocking::Socket {
                            async_mode: true, ..
                        },
                    ..
                }) if chan.park_started => chan.private.pop_front(),
                Some(_) => return,
            };
            match next {
                Some(app) => self.start_app(uuid, app),
                None => return,
            }
        }
    }

    /// The rest of a hangup on the session thread, once no application runs any more:
    /// CS_HANGUP, CS_REPORTING and HANGUP_COMPLETE, then (when nothing holds the channel and
    /// its loopback partner is done too) DESTROY.
    fn finish_hangup(&mut self, uuid: &str) {
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        if chan.stack.is_empty() && !chan.phase2_done {
            chan.phase2_done = true;
            let partner = chan.partner.clone();
            let cause = chan.ch.hangup_cause.clone().unwrap_or_default();
            self.set_state(uuid, ChannelState::Hangup);
            self.set_call_state(uuid, "HANGUP");
            // mod_loopback's CS_HANGUP handler hangs the other leg up
            if let Some(partner) = &partner {
                self.hangup(partner, &cause, None);
            }
            self.set_state(uuid, ChannelState::Reporting);
            self.emit(uuid, "CHANNEL_HANGUP_COMPLETE");
            if let Some(partner) = partner {
                self.wake(&partner);
            }
        }
        self.channel_down_notify(uuid);
        let Some(chan) = self.chans.get(uuid) else {
            return;
        };
        // a loopback leg is destroyed only once its partner finished hanging up too
        let partner_busy = chan
            .partner
            .as_ref()
            .and_then(|p| self.chans.get(p))
            .is_some_and(|p| !p.phase2_done);
        if chan.phase2_done && chan.locks == 0 && !partner_busy {
            let partner = chan.partner.clone();
            self.emit(uuid, "CHANNEL_DESTROY");
            self.set_state(uuid, ChannelState::Destroy);
            self.chans.remove(uuid);
            self.chan_order.retain(|u| u != uuid);
            if let Some(partner) = partner {
                self.wake(&partner);
            }
        }
    }

    /// The applications the simulator knows; any other hangs the call up.
    const KNOWN_APPS: [&'static str; 17] = [
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

    pub(super) fn start_app(&mut self, uuid: &str, call: AppCall) {
        let name = call.name.to_ascii_lowercase();
        if !Self::KNOWN_APPS.contains(&name.as_str()) {
            // an unknown application hangs the call up and never completes
            self.hangup(uuid, "DESTINATION_OUT_OF_ORDER", None);
            return;
        }
        let Some(call) = self.announce_app(uuid, &name, call) else {
            return;
        };
        let token = self.id();
        let arg = call.arg.clone();
        let blocking = match self.run_instant_app(uuid, &name, &arg) {
            true => None,
            false => self.start_blocking_app(uuid, &name, &arg, token),
        };
        match blocking {
            None => {
                self.emit_complete(uuid, &call, None);
                self.finish_origin(uuid, &call);
            }
            Some(kind) => {
                if let Some(chan) = self.chans.get_mut(uuid) {
                    chan.stack.push(Running {
                        call,
                        kind,
                        token,
                        expired: false,
                    });
                }
                if name == "bridge" {
                    self.start_bridge(uuid, &arg);
                }
            }
        }
    }

    /// Moves the channel to CS_EXECUTE, sets `current_application` and fires
    /// CHANNEL_EXECUTE; returns the call with its Application-UUID, or nothing when the
    /// channel is gone or down.
    fn announce_app(&mut self, uuid: &str, name: &str, call: AppCall) -> Option<AppCall> {
        let chan = self.chans.get_mut(uuid)?;
        if chan.ch.is_down() {
            return None;
        }
        if chan.ch.state != ChannelState::Execute {
            self.set_state(uuid, ChannelState::Execute);
        }
        let chan = self.chans.get_mut(uuid)?;
        chan.ch
            .set_var("current_application_data", call.arg.clone());
        chan.ch.set_var("current_application", name.to_string());
        let app_uuid = call.app_uuid.clone().unwrap_or_else(new_uuid);
        let mut extra = vec![("Application", name.to_string())];
        if !call.arg.is_empty() {
            extra.push(("Application-Data", call.arg.clone()));
        }
        extra.push(("Application-UUID", app_uuid.clone()));
        if let Some(label) = &call.app_uuid_name {
            extra.push(("Application-UUID-Name", label.clone()));
        }
        self.emit_with(uuid, "CHANNEL_EXECUTE", &extra);
        Some(AppCall {
            app_uuid: Some(app_uuid),
            ..call
        })
    }

    /// Runs an application that returns at once; false when `name` is one that blocks.
    fn run_instant_app(&mut self, uuid: &str, name: &str, arg: &str) -> bool {
        match name {
            "answer" => self.answer(uuid),
            "pre_answer" => self.pre_answer(uuid),
            "ring_ready" => self.ring_ready(uuid),
            "hangup" => {
                let cause = Some(arg.trim())
                    .filter(|c| !c.is_empty())
                    .unwrap_or("NORMAL_CLEARING");
                self.hangup(uuid, cause, None);
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
            }
            "unset" => {
                if let Some(chan) = self.chans.get_mut(uuid) {
                    chan.ch.set_var(arg.trim(), "");
                }
            }
            "log" | "info" | "event" => {}
            _ => return false,
        }
        true
    }

    /// Starts an application that runs until something ends it; returns what it waits for.
    fn start_blocking_app(
        &mut self,
        uuid: &str,
        name: &str,
        arg: &str,
        token: u64,
    ) -> Option<Blocking> {
        let done = Timer::AppDone {
            uuid: uuid.to_string(),
            token,
        };
        match name {
            "park" => {
                self.emit(uuid, "CHANNEL_PARK");
                if let Some(chan) = self.chans.get_mut(uuid) {
                    chan.park_started = true;
                }
                Some(Blocking::Park)
            }
            "sleep" => {
                self.add_timer(arg.trim().parse::<u64>().unwrap_or(0), done);
                Some(Blocking::Wait)
            }
            "playback" => {
                self.emit_with(
                    uuid,
                    "PLAYBACK_START",
                    &[
                        ("Playback-File-Type", playback_type(arg)),
                        ("Playback-File-Path", arg.to_string()),
                    ],
                );
                if let Some(ms) = playback_ms(arg) {
                    self.add_timer(ms, done);
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
            "socket" => Some(self.start_socket(uuid, arg)),
            _ => None,
        }
    }

    /// `socket host:port [async] [full]`: asks the server to connect to the outbound server.
    fn start_socket(&mut self, uuid: &str, arg: &str) -> Blocking {
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
        Blocking::Socket {
            conn: None,
            async_mode,
        }
    }

    /// What happens after an application finished, depending on who started it.
    pub(super) fn finish_origin(&mut self, uuid: &str, call: &AppCall) {
        match call.origin {
            AppOrigin::Inline(conn) => {
                self.reply(conn, "+OK");
                self.unblock(conn);
            }
            AppOrigin::Queued {
                private_command: Some(ref message),
            } => self.emit_private_command(uuid, message),
            _ => {}
        }
    }

    /// Completes the innermost running application.
    pub(super) fn complete_top(&mut self, uuid: &str, response: Option<&str>) {
        let Some(running) = self.chans.get_mut(uuid).and_then(|c| c.stack.pop()) else {
            return;
        };
        match &running.kind {
            Blocking::Park => self.unpark_if_parked(uuid),
            Blocking::Playback => self.emit_with(
                uuid,
                "PLAYBACK_STOP",
                &[
                    ("Playback-File-Type", playback_type(&running.call.arg)),
                    ("Playback-File-Path", running.call.arg.clone()),
                    ("Playback-Status", "done".to_string()),
                ],
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
}
