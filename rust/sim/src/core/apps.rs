//! Dialplan applications, the channel run loop and hangup.

use super::*;

impl Core {
    // ---------------------------------------------------------------- applications

    pub(super) fn run_channel(&mut self, uuid: &str) {
        loop {
            let Some(chan) = self.chans.get_mut(uuid) else {
                return;
            };
            if chan.ch.is_down() {
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

    pub(super) fn start_app(&mut self, uuid: &str, call: AppCall) {
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
            self.hangup(uuid, "DESTINATION_OUT_OF_ORDER", None);
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
                self.hangup(uuid, &cause, None);
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
                    &[
                        ("Playback-File-Type", playback_type(&arg)),
                        ("Playback-File-Path", arg.clone()),
                    ],
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

    pub(super) fn start_bridge(&mut self, uuid: &str, dial: &str) {
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

    pub(super) fn emit_complete(&mut self, uuid: &str, call: &AppCall, response: Option<&str>) {
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

    pub(super) fn answer(&mut self, uuid: &str) {
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

    pub(super) fn pre_answer(&mut self, uuid: &str) {
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

    pub(super) fn ring_ready(&mut self, uuid: &str) {
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

    /// Re-fires a parsed `sendmsg` message as PRIVATE_COMMAND: its headers first, then the
    /// event's own (switch_ivr_parse_next_event).
    pub(super) fn emit_private_command(&mut self, uuid: &str, message: &[(String, String)]) {
        let Some(event) = self.channel_event(uuid, "PRIVATE_COMMAND") else {
            return;
        };
        let mut full = Event::default();
        for (name, value) in message.iter().chain(event.headers()) {
            full.add(name, value.clone());
        }
        self.deliver(&full);
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

    /// Listeners bound to a channel that went down: linger notice or disconnect.
    pub(super) fn channel_down_notify(&mut self, uuid: &str) {
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
                    // closes once the epoch second passes hangup + N (read_packet); -1 never
                    match u64::try_from(seconds) {
                        Ok(n) => {
                            let due = self.whole_seconds_from_now(n, false);
                            self.add_timer_at(due, Timer::Linger { conn: id });
                        }
                        Err(_) if seconds != -1 => self.schedule(0, Timer::Linger { conn: id }),
                        Err(_) => {}
                    }
                }
                None => self.disconnect(id, true),
            }
        }
    }
}

/// `Playback-File-Type`: the stream scheme (`tone_stream`, `silence_stream`), else `file`.
fn playback_type(path: &str) -> String {
    path.split_once("://")
        .map_or("file", |(scheme, _)| scheme)
        .to_string()
}
