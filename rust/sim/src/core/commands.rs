//! The socket commands of mod_event_socket (`parse_command`).

use super::calls::{AppCall, AppOrigin, Blocking, Running};
use super::io::{Command, ConnId};
use super::listener::MYEVENTS;
use super::timers::Timer;
use super::{Core, HANDSHAKE_TIMEOUT_MS};
use crate::dial::is_true;
use crate::event::Format;
use crate::perms::{event_type, every_event_name, AllowedApi, AllowedEvents, EventType};
use crate::util::{atoi, new_uuid};
use tokio::sync::oneshot;

fn uuid_or_empty(arg: &str, cmd: &Command) -> String {
    let shown = if arg.trim().is_empty() {
        cmd.header("session-id").unwrap_or("")
    } else {
        arg.trim()
    };
    shown.replace(['\r', '\n'], "")
}

/// A value for a header line: line breaks would end the header (or the frame).
fn header_value(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

/// The rest of a command line after its keyword.
fn arg_after<'a>(line: &'a str, keyword: &str) -> &'a str {
    line.get(keyword.len()..).unwrap_or("").trim()
}

/// A queued message as the PRIVATE_COMMAND event repeats it: `Command` holds the whole raw
/// message, then its headers.
fn message_headers(cmd: &Command) -> Vec<(String, String)> {
    let mut raw = format!("{}\n", cmd.line);
    for (name, value) in &cmd.headers {
        raw.push_str(&format!("{name}: {value}\n"));
    }
    raw.push('\n');
    let mut headers = vec![("Command".to_string(), raw)];
    headers.extend(cmd.headers.iter().cloned());
    headers
}

impl Core {
    /// Handles one client message. Returns a receiver when the reply is deferred (a blocking
    /// `api` or a sync outbound `sendmsg`): the connection reads nothing more until it fires.
    pub fn command(&mut self, conn: ConnId, cmd: Command) -> Option<oneshot::Receiver<()>> {
        self.log_command(&cmd);
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

    pub(super) fn dispatch(&mut self, conn: ConnId, cmd: &Command) {
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
            self.dispatch_unauthenticated(conn, &line, &lower);
            return;
        }
        if outbound && !connected {
            if lower.starts_with("connect") {
                self.connect_reply(conn);
            }
            // mod_event_socket drops the reply to any other first command
            return;
        }
        let arg_of = |prefix: &str| arg_after(&line, prefix).to_string();
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
            self.cmd_nolog(conn);
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

    /// Before authentication only `auth` and `userauth` work; every command read restarts
    /// the 25 s read timeout.
    fn dispatch_unauthenticated(&mut self, conn: ConnId, line: &str, lower: &str) {
        let read = self.conns.get_mut(&conn).map_or(0, |c| {
            c.commands_read += 1;
            c.commands_read
        });
        self.add_timer(
            HANDSHAKE_TIMEOUT_MS,
            Timer::AuthTimeout {
                conn,
                commands: read,
            },
        );
        if lower.starts_with("auth ") {
            if arg_after(line, "auth ") == self.cfg.password {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.authed = true;
                }
                self.reply(conn, "+OK accepted");
            } else {
                self.reply(conn, "-ERR invalid");
                self.disconnect(conn, true);
            }
        } else if lower.starts_with("userauth ") {
            self.cmd_userauth(conn, arg_after(line, "userauth "));
        } else {
            self.reply(conn, "-ERR command not found");
        }
    }

    /// `userauth user@domain:password` (or `user:password@domain`) against the registered
    /// directory users, with their permissions (mod_event_socket `parse_command`).
    pub(super) fn cmd_userauth(&mut self, conn: ConnId, credentials: &str) {
        let (mut user, mut domain, mut password) = (credentials, "", "");
        if let Some((u, d)) = user.split_once('@') {
            (user, domain) = (u, d);
        }
        if let Some((d, p)) = domain.split_once(':') {
            (domain, password) = (d, p);
        }
        if let Some((u, p)) = user.split_once(':') {
            (user, password) = (u, p);
        }
        let accepted = if user.is_empty() || domain.is_empty() {
            None
        } else {
            match self.users.get(&(user.to_string(), domain.to_string())) {
                Some(known) => (!known.password.is_empty() && known.password == password)
                    .then(|| known.clone()),
                // not in the directory: the simulator's password, no restrictions
                None => (password == self.cfg.password)
                    .then(|| crate::EslUser::new(user, domain, password)),
            }
        };
        let Some(granted) = accepted else {
            self.reply(conn, "-ERR invalid");
            self.disconnect(conn, true);
            return;
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            c.authed = true;
            c.allowed_events = granted.allowed_events.as_deref().map(AllowedEvents::parse);
            c.allowed_api = granted.allowed_api.as_deref().map(AllowedApi::parse);
            c.allow_log = granted.allowed_log;
        }
        let reply = format!(
            "Content-Type: command/reply\nReply-Text: +OK accepted\nAllowed-Events: {}\nAllowed-API: {}\nAllowed-LOG: {}\n\n",
            header_value(granted.allowed_events.as_deref().unwrap_or("all")),
            header_value(granted.allowed_api.as_deref().unwrap_or("all")),
            granted.allowed_log
        );
        self.send_raw(conn, reply.into_bytes());
    }

    pub(super) fn connect_reply(&mut self, conn: ConnId) {
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

    pub(super) fn start_async_park(&mut self, uuid: &str) {
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

    pub(super) fn cmd_filter(&mut self, conn: ConnId, arg: &str) {
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

    pub(super) fn cmd_resume(&mut self, conn: ConnId) {
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

    pub(super) fn cmd_getvar(&mut self, conn: ConnId, name: &str) {
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

    pub(super) fn cmd_myevents(&mut self, conn: ConnId, arg: &str) {
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

    /// `divert_events on|off` sets CF_DIVERT_EVENTS on the controlled channel: events queued
    /// to the session (`sendevent` with its `Unique-ID`) then go to this socket.
    pub(super) fn cmd_divert(&mut self, conn: ConnId, arg: &str) {
        let Some(uuid) = self.conn_session(conn) else {
            self.reply(conn, "-ERR not controlling a session.");
            return;
        };
        if arg.is_empty() {
            self.reply(conn, "-ERR missing value.");
            return;
        }
        let on = arg.eq_ignore_ascii_case("on");
        if let Some(chan) = self.chans.get_mut(&uuid) {
            chan.divert_events = on;
        }
        self.reply(
            conn,
            if on {
                "+OK events diverted"
            } else {
                "+OK events not diverted"
            },
        );
    }

    /// `linger [seconds]`: the number is read with `atoi` (so `linger x` lingers 0 s); none,
    /// or -1, lingers until the client exits.
    pub(super) fn cmd_linger(&mut self, conn: ConnId, arg: &str) {
        if self.conn_session(conn).is_none() {
            self.reply(conn, "-ERR not controlling a session");
            return;
        }
        let seconds = if arg.is_empty() { -1 } else { atoi(arg) };
        if let Some(c) = self.conns.get_mut(&conn) {
            c.linger = Some(seconds);
        }
        if seconds == -1 {
            self.reply(conn, "+OK will linger");
        } else {
            self.reply(conn, &format!("+OK will linger {seconds} seconds"));
        }
    }

    pub(super) fn cmd_nolinger(&mut self, conn: ConnId) {
        if self.conn_session(conn).is_none() {
            self.reply(conn, "-ERR not controlling a session");
            return;
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.linger = None;
        }
        self.reply(conn, "+OK will not linger");
    }

    /// `log [level]`: the reply repeats the level as typed (`+OK log level info [6]`, and
    /// `+OK log level  [7]` without one).
    pub(super) fn cmd_log(&mut self, conn: ConnId, arg: &str) {
        const LEVELS: [&str; 8] = [
            "console", "alert", "crit", "err", "warning", "notice", "info", "debug",
        ];
        if !self.conns.get(&conn).is_some_and(|c| c.allow_log) {
            self.reply(conn, "-ERR permission denied");
            return;
        }
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
                    c.log_level = Some(n as u8);
                }
                self.reply(conn, &format!("+OK log level {arg} [{n}]"));
            }
            None => self.reply(conn, "-ERR invalid log level"),
        }
    }

    pub(super) fn cmd_nolog(&mut self, conn: ConnId) {
        let was = self
            .conns
            .get_mut(&conn)
            .is_some_and(|c| c.log_level.take().is_some());
        self.reply(
            conn,
            if was {
                "+OK no longer logging"
            } else {
                "-ERR not loging"
            },
        );
    }

    /// `event [plain|json|xml] NAMES... [CUSTOM subclasses...]`. Unknown names are skipped; a
    /// name or subclass the user may not have ends the command with `-ERR permission denied`
    /// (the ones before it stay subscribed); without a format word the format is kept.
    pub(super) fn cmd_event(&mut self, conn: ConnId, line: &str) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let mut words = line.split(' ').skip(1).peekable();
        let format = match words.peek().map(|w| w.to_ascii_lowercase()).as_deref() {
            Some("plain") => Some(Format::Plain),
            Some("json") => Some(Format::Json),
            Some("xml") => Some(Format::Xml),
            _ => None,
        };
        if let Some(format) = format {
            c.format = format;
            words.next();
        }
        let mut names = 0;
        let mut after_custom = false;
        let mut denied = false;
        for word in words {
            if after_custom {
                if c.allowed_events
                    .as_ref()
                    .is_some_and(|a| !a.allows_subclass(word))
                {
                    denied = true;
                    break;
                }
                c.custom.insert(word.to_string());
                continue;
            }
            let Some(wanted) = event_type(word) else {
                continue;
            };
            if c.allowed_events.as_ref().is_some_and(|a| !a.allows(wanted)) {
                denied = true;
                break;
            }
            names += 1;
            match wanted {
                EventType::All => c.all_events = true,
                EventType::Custom => {
                    c.events.insert("CUSTOM".into());
                    after_custom = true;
                }
                EventType::Named(name) => {
                    c.events.insert(name.into());
                }
            }
        }
        let reply = if denied {
            "-ERR permission denied".to_string()
        } else if names == 0 {
            "-ERR no keywords supplied".to_string()
        } else {
            let name = match c.format {
                Format::Plain => "plain",
                Format::Json => "json",
                Format::Xml => "xml",
            };
            format!("+OK event listener enabled {name}")
        };
        self.reply(conn, &reply);
    }

    /// `nixevent NAMES... [CUSTOM subclasses...]`: after `event ALL`, nixing one type leaves
    /// every other single type subscribed (the ALL bit is replaced by all of them, so CUSTOM
    /// then needs its subclasses listed); `nixevent ALL` keeps the subclass list.
    pub(super) fn cmd_nixevent(&mut self, conn: ConnId, arg: &str) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let mut names = 0;
        let mut after_custom = false;
        for word in arg.split(' ') {
            if after_custom {
                c.custom.remove(word);
                continue;
            }
            match event_type(word) {
                None => continue,
                Some(EventType::Custom) => after_custom = true,
                Some(EventType::All) => {
                    c.all_events = false;
                    c.events.clear();
                }
                Some(EventType::Named(name)) => {
                    if std::mem::take(&mut c.all_events) {
                        c.events.extend(every_event_name().map(str::to_string));
                    }
                    c.events.remove(name);
                }
            }
            names += 1;
        }
        self.reply(
            conn,
            if names > 0 {
                "+OK events nixed"
            } else {
                "-ERR no keywords supplied"
            },
        );
    }

    /// `noevents`: drops every subscription; `myevents` stays in force (its flag is not reset).
    pub(super) fn cmd_noevents(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.subscribed() {
            c.all_events = false;
            c.events.clear();
            c.custom.clear();
            self.reply(conn, "+OK no longer listening for events");
        } else {
            self.reply(conn, "-ERR not listening for events");
        }
    }

    pub(super) fn cmd_sendevent(&mut self, conn: ConnId, name: &str, cmd: &Command) {
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
        let target = event
            .get("Unique-ID")
            .filter(|uuid| self.chan_up(uuid))
            .map(str::to_string);
        match target {
            // queued to that session instead of fired (switch_core_session_queue_event)
            Some(uuid) => self.divert_to_controller(&uuid, &event),
            None => self.deliver(&event),
        }
    }

    pub(super) fn cmd_sendmsg(&mut self, conn: ConnId, arg: &str, cmd: &Command) {
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
            "execute" => self.sendmsg_execute(conn, &uuid, cmd),
            "hangup" => {
                let cause = cmd
                    .header("hangup-cause")
                    .unwrap_or("NORMAL_CLEARING")
                    .trim()
                    .to_string();
                self.reply(conn, "+OK");
                let parked = self.chans.get(&uuid).is_some_and(|c| c.park_started);
                let message = message_headers(cmd);
                self.hangup(&uuid, &cause, parked.then_some(message.as_slice()));
            }
            _ => self.reply(conn, "+OK"),
        }
    }

    /// `sendmsg` with `call-command: execute`: runs the application inline (a sync outbound
    /// socket's own session: the reply waits for it) or queues it `loops` times.
    fn sendmsg_execute(&mut self, conn: ConnId, uuid: &str, cmd: &Command) {
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
                c.outbound && c.session.as_deref() == Some(uuid),
                c.async_mode,
            ),
            None => return,
        };
        let inline = is_own && !async_mode && !async_header;
        let park_started = self.chans.get(uuid).is_some_and(|c| c.park_started);
        let message = message_headers(cmd);
        let app_uuid = cmd.header("Event-UUID").map(str::to_string);
        let app_uuid_name = cmd.header("Event-UUID-Name").map(str::to_string);
        let event_lock = cmd.header("event-lock").is_some_and(is_true);
        for _ in 0..loops {
            let origin = if inline {
                AppOrigin::Inline(conn)
            } else {
                AppOrigin::Queued {
                    private_command: park_started.then(|| message.clone()),
                }
            };
            let call = AppCall {
                name: name.clone(),
                arg: arg.clone(),
                app_uuid: app_uuid.clone(),
                app_uuid_name: app_uuid_name.clone(),
                origin,
                event_lock,
            };
            if inline {
                // runs on the listener thread; the reply comes when the app ends
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.busy = true;
                }
                self.start_app(uuid, call);
                self.pump();
            } else if let Some(chan) = self.chans.get_mut(uuid) {
                chan.private.push_back(call);
            }
        }
        if !inline {
            self.reply(conn, "+OK");
            self.wake(uuid);
        }
    }
}
