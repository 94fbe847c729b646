//! `api` / `bgapi`: running an API command for a connection, its `API` event and the
//! `BACKGROUND_JOB` of `bgapi`; the commands themselves are in `mod_commands`.

use super::calls::{ApiOutput, Owner};
use super::io::{Command, ConnId};
use super::Core;
use crate::util::new_uuid;
use tokio::sync::oneshot;

/// `api <cmd> <args>`: the command word and the raw rest.
pub(super) fn split_command(text: &str) -> (String, String) {
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
}
