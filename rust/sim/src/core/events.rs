//! Building and firing events: the standard headers, channel events, state and call-state
//! changes, CODEC, HEARTBEAT, DTMF and custom events.

use super::api::uptime_text;
use super::calls::AppCall;
use super::Core;
use crate::event::Event;
use crate::model::{call_state_number, is_extended, ChannelState};
use crate::util::event_dates;

impl Core {
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

    pub(super) fn base_event(
        &mut self,
        name: &str,
        file: &str,
        function: &str,
        line: u32,
    ) -> Event {
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

    pub(super) fn channel_event(&mut self, uuid: &str, name: &str) -> Option<Event> {
        self.channel_event_with(uuid, name, &[])
    }

    /// A channel event whose own headers (`leading`) come between the standard headers and
    /// the channel data, as CHANNEL_CALLSTATE and CALL_UPDATE have them.
    pub(super) fn channel_event_with(
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
            // not recorded: the line number is unknown, so none is claimed
            "CHANNEL_UUID" => ("switch_core_session.c", "switch_core_session_set_uuid", 0),
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
        self.add_channel_headers(uuid, &mut event, is_extended(name))?;
        Some(event)
    }

    pub(super) fn emit(&mut self, uuid: &str, name: &str) {
        if let Some(event) = self.channel_event(uuid, name) {
            self.deliver(&event);
        }
    }

    pub(super) fn emit_with(&mut self, uuid: &str, name: &str, extra: &[(&str, String)]) {
        if let Some(mut event) = self.channel_event(uuid, name) {
            for (header, value) in extra {
                event.add(header, value.clone());
            }
            self.deliver(&event);
        }
    }

    pub(super) fn set_state(&mut self, uuid: &str, state: ChannelState) {
        if let Some(chan) = self.chans.get_mut(uuid) {
            chan.ch.state = state;
            self.emit(uuid, "CHANNEL_STATE");
        }
    }

    pub(super) fn set_call_state(&mut self, uuid: &str, call_state: &'static str) {
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

    pub(super) fn heartbeat(&mut self) {
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

    /// A CHANNEL_DATA event: the `Channel-*` profile copy, then the usual channel data.
    pub(super) fn channel_data(&mut self, uuid: &str, function: &str, line: u32) -> Option<Event> {
        let mut event = self.base_event("CHANNEL_DATA", "mod_event_socket.c", function, line);
        self.chans.get(uuid)?.ch.add_profile(&mut event, "Channel");
        self.add_channel_headers(uuid, &mut event, true)?;
        Some(event)
    }

    /// The channel data of `uuid` (with its other leg's `Other-Leg-*`); `None` without it.
    fn add_channel_headers(&self, uuid: &str, event: &mut Event, extended: bool) -> Option<()> {
        let chan = self.chans.get(uuid)?;
        let other = chan
            .ch
            .other_leg
            .as_ref()
            .and_then(|o| self.chans.get(o))
            .map(|c| &c.ch);
        chan.ch.add_headers(event, other, extended);
        Some(())
    }
}
