//! `api` / `bgapi` and the API commands the simulator implements.

use super::calls::{ApiOutput, Owner};
use super::io::{Command, ConnId};
use super::{Core, VERSION};
use crate::event::Event;
use crate::model::Channel;
use crate::util::new_uuid;
use tokio::sync::oneshot;

/// `api <cmd> <args>`: the command word and the raw rest.
fn split_command(text: &str) -> (String, String) {
    let text = text.trim();
    match text.split_once(' ') {
        Some((name, arg)) => (name.to_string(), arg.trim().to_string()),
        None => (text.to_string(), String::new()),
    }
}

pub(super) fn uptime_text(ms: u64) -> String {
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

impl Core {
    pub(super) fn cmd_api(&mut self, conn: ConnId, text: &str) {
        let (name, arg) = split_command(text);
        if !self.api_permitted(conn, &name, &arg) {
            return;
        }
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

    /// An API command without a connection (no permissions apply): its output, or for
    /// `originate` a receiver of it. Fires the `API` event like `api` does.
    pub fn api_direct(&mut self, text: &str) -> ApiOutput {
        let (name, arg) = split_command(text);
        if name == "originate" {
            let (result, output) = oneshot::channel();
            let owner = Owner::Direct {
                result,
                arg: arg.clone(),
            };
            return match self.api_originate(owner, &arg) {
                Ok(()) => ApiOutput::Pending(output),
                Err(usage) => {
                    self.api_event(&name, &arg);
                    ApiOutput::Ready(usage)
                }
            };
        }
        let output = self.api_exec(&name, &arg);
        self.api_event(&name, &arg);
        ApiOutput::Ready(output)
    }

    pub(super) fn cmd_bgapi(&mut self, conn: ConnId, text: &str, cmd: &Command) {
        let (name, arg) = split_command(text);
        if !self.api_permitted(conn, &name, &arg) {
            return;
        }
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

    /// `esl-allowed-api` of a `userauth` user: a refused command gets a `command/reply`
    /// `-ERR permission denied` (not an `api/response`).
    pub(super) fn api_permitted(&mut self, conn: ConnId, name: &str, arg: &str) -> bool {
        let allowed = self
            .conns
            .get(&conn)
            .and_then(|c| c.allowed_api.as_ref())
            .map_or(true, |allowed| allowed.allows(name, arg));
        if !allowed {
            self.reply(conn, "-ERR permission denied");
        }
        allowed
    }

    pub(super) fn api_event(&mut self, name: &str, arg: &str) {
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

    pub(super) fn background_job(
        &mut self,
        conn: ConnId,
        job: &str,
        name: &str,
        arg: &str,
        output: &str,
    ) {
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
                    self.hangup(&uuid, &cause, None);
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
            "uuid_exists" => match words.first() {
                Some(uuid) => self.chans.contains_key(*uuid).to_string(),
                None => "-USAGE: <uuid>\n".into(),
            },
            "uuid_break" => match words.first().filter(|u| self.chan_up(u)) {
                Some(uuid) => {
                    let uuid = uuid.to_string();
                    self.break_media(&uuid);
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
                    self.hangup(&uuid, &cause, None);
                }
                format!("+OK hangup all channels with cause {cause}\n")
            }
            "show" => self.show(&words),
            // mod_commands `expand`: variables first, then the command (not originate, which
            // only `api`/`bgapi` run)
            "expand" => {
                let (inner, inner_arg) = split_command(&self.expand_globals(arg));
                self.api_exec(&inner, &inner_arg)
            }
            "eval" => self.expand_globals(arg),
            _ => format!("-ERR {name} Command not found!\n"),
        };
        if output.is_empty() {
            "-ERR no reply\n".into()
        } else {
            output
        }
    }

    /// `${name}` and `$${name}` replaced by global variables (unset ones by nothing).
    pub(super) fn expand_globals(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start + 2..].find('}') else {
                break;
            };
            let name = &rest[start + 2..start + 2 + len];
            let prefix = &rest[..start];
            out.push_str(prefix.strip_suffix('$').unwrap_or(prefix));
            if let Some((_, value)) = self.globals.iter().find(|(n, _)| n == name) {
                out.push_str(value);
            }
            rest = &rest[start + 3 + len..];
        }
        out.push_str(rest);
        out
    }

    pub(super) fn status_text(&self) -> String {
        format!(
            "UP {}\nFreeSWITCH (Version 1.11.3-dev git cc93a68 2026-08-21 14:10:14Z 64bit) is ready\n{} session(s) since startup\n{} session(s) - peak {}, last 5min {} \n0 session(s) per Sec out of max 200, peak 0, last 5min 0 \n1000 session(s) max\nmin idle cpu 0.00/100.00\nCurrent Stack Size/Max 240K/8192K\n",
            uptime_text(self.now_ms),
            self.session_count,
            self.chans.len(),
            self.session_count,
            self.session_count
        )
    }

    pub(super) fn show(&self, words: &[&str]) -> String {
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
}
