//! Connection lifecycle: registering inbound and outbound sockets, replies and notices,
//! closing, and what a session's channel going down does to its sockets.

use super::calls::{Action, Blocking, Running};
use super::io::{Backlog, ConnId, Out};
use super::listener::Conn;
use super::timers::Timer;
use super::{Core, GOODBYE, HANDSHAKE_TIMEOUT_MS};
use crate::dial::is_true;
use crate::event::Format;
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A `text/disconnect-notice` frame; a session's names the session (send_disconnect).
pub(super) fn notice_frame(session: Option<&str>, text: &str, disposition: &str) -> Vec<u8> {
    match session {
        Some(session) => format!(
            "Content-Type: text/disconnect-notice\nControlled-Session-UUID: {session}\nContent-Disposition: {disposition}\nContent-Length: {}\n\n{text}",
            text.len()
        ),
        None => format!(
            "Content-Type: text/disconnect-notice\nContent-Length: {}\n\n{text}",
            text.len()
        ),
    }
    .into_bytes()
}

impl Core {
    pub(super) fn send_raw(&mut self, conn: ConnId, bytes: Vec<u8>) {
        self.queue_out(conn, Out::Frame(Arc::from(bytes)));
    }

    /// Queues a command's response ahead of the events waiting for this connection.
    pub(super) fn send_response(&mut self, conn: ConnId, bytes: Vec<u8>) {
        self.queue_out(conn, Out::Reply(Arc::from(bytes)));
    }

    pub(super) fn queue_out(&mut self, conn: ConnId, out: Out) {
        if let Some(c) = self.conns.get(&conn).filter(|c| !c.closed) {
            c.backlog.added(1);
            let _ = c.outbox.send(out);
        }
    }

    pub(super) fn reply(&mut self, conn: ConnId, text: &str) {
        let text = text.replace(['\r', '\n'], " ");
        self.send_response(
            conn,
            format!("Content-Type: command/reply\nReply-Text: {text}\n\n").into_bytes(),
        );
    }

    pub(super) fn api_response(&mut self, conn: ConnId, body: &str) {
        self.send_response(
            conn,
            format!(
                "Content-Type: api/response\nContent-Length: {}\n\n{body}",
                body.len()
            )
            .into_bytes(),
        );
    }

    /// Ends a blocking command: the reply was just sent, now the events held meanwhile.
    pub(super) fn unblock(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.busy = false;
            let held = std::mem::take(&mut c.held);
            c.backlog.added(held.len());
            for frame in held {
                let _ = c.outbox.send(Out::Frame(frame));
            }
            if let Some(waiter) = c.waiter.take() {
                let _ = waiter.send(());
            }
        }
    }

    pub(super) fn send_notice(&mut self, conn: ConnId, text: &str, disposition: &str) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let frame = notice_frame(c.session.as_deref(), text, disposition);
        self.send_raw(conn, frame);
    }

    /// Registers an inbound connection and greets it with `auth/request`.
    pub fn add_conn(
        &mut self,
        outbox: mpsc::UnboundedSender<Out>,
        backlog: Arc<Backlog>,
    ) -> ConnId {
        let id = self.register_conn(outbox, backlog);
        if self.cfg.reject_inbound {
            // the ACL is checked before the greeting (mod_event_socket `listener_run`)
            const DENIED: &str = "Access Denied, go away.\n";
            self.send_raw(
                id,
                format!(
                    "Content-Type: text/rude-rejection\nContent-Length: {}\n\n{DENIED}",
                    DENIED.len()
                )
                .into_bytes(),
            );
            self.disconnect(id, true);
            return id;
        }
        self.send_raw(id, b"Content-Type: auth/request\n\n".to_vec());
        self.add_timer(
            HANDSHAKE_TIMEOUT_MS,
            Timer::AuthTimeout {
                conn: id,
                commands: 0,
            },
        );
        id
    }

    pub(super) fn register_conn(
        &mut self,
        outbox: mpsc::UnboundedSender<Out>,
        backlog: Arc<Backlog>,
    ) -> ConnId {
        let id = self.id();
        self.conns.insert(
            id,
            Conn {
                outbox,
                backlog,
                lost_events: 0,
                authed: false,
                full: true,
                outbound: false,
                async_mode: false,
                connected: false,
                session: None,
                format: Format::Plain,
                all_events: false,
                events: HashSet::new(),
                custom: HashSet::new(),
                myevents: false,
                filters: Vec::new(),
                busy: false,
                held: Vec::new(),
                waiter: None,
                linger: None,
                down_notified: false,
                closed: false,
                log_level: None,
                commands_read: 0,
                allowed_events: None,
                allowed_api: None,
                allow_log: true,
            },
        );
        id
    }

    /// Registers the connection the `socket` application opened to an outbound server.
    pub fn add_outbound_conn(
        &mut self,
        uuid: &str,
        outbox: mpsc::UnboundedSender<Out>,
        backlog: Arc<Backlog>,
        async_mode: bool,
        full: bool,
    ) -> Option<ConnId> {
        let up = self.chans.get(uuid).is_some_and(|c| !c.ch.is_down());
        if !up {
            return None;
        }
        // outbound listeners are pre-authed and send no greeting
        let id = self.register_conn(outbox, backlog);
        if let Some(c) = self.conns.get_mut(&id) {
            c.authed = true;
            c.full = full;
            c.outbound = true;
            c.async_mode = async_mode;
            c.session = Some(uuid.to_string());
        }
        self.add_timer(HANDSHAKE_TIMEOUT_MS, Timer::ConnectTimeout { conn: id });
        if let Some(chan) = self.chans.get_mut(uuid) {
            chan.locks += 1;
            if let Some(Running {
                kind: Blocking::Socket { conn, .. },
                ..
            }) = chan.stack.last_mut()
            {
                *conn = Some(id);
            }
        }
        Some(id)
    }

    pub fn socket_failed(&mut self, uuid: &str) {
        let is_socket = self
            .chans
            .get(uuid)
            .and_then(|c| c.stack.last())
            .is_some_and(|r| matches!(r.kind, Blocking::Socket { conn: None, .. }));
        if is_socket {
            self.complete_top(uuid, Some("_none_"));
            self.wake(uuid);
        }
    }

    /// The peer closed the TCP connection.
    pub fn conn_gone(&mut self, conn: ConnId) {
        if self.conns.get(&conn).is_some_and(|c| !c.closed) {
            self.close_conn(conn);
        }
        self.conns.remove(&conn);
    }

    pub(super) fn disconnect(&mut self, conn: ConnId, goodbye: bool) {
        if !self.conns.get(&conn).is_some_and(|c| !c.closed) {
            return;
        }
        if goodbye {
            self.send_notice(conn, GOODBYE, "disconnect");
        }
        self.close_conn(conn);
    }

    pub(super) fn close_conn(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.closed {
            return;
        }
        c.closed = true;
        c.busy = false;
        c.held.clear();
        let _ = c.outbox.send(Out::Close);
        if let Some(waiter) = c.waiter.take() {
            let _ = waiter.send(());
        }
        let outbound = c.outbound;
        let Some(session) = c.session.clone() else {
            return;
        };
        let Some(chan) = self.chans.get_mut(&session) else {
            return;
        };
        chan.locks = chan.locks.saturating_sub(1);
        let socket_top = matches!(chan.stack.last(), Some(Running { kind: Blocking::Socket { conn: Some(id), .. }, .. }) if *id == conn);
        if outbound && socket_top {
            if chan.ch.is_down() {
                self.complete_top(&session, None);
            } else if chan.ch.var("socket_resume").is_some_and(is_true) {
                self.unpark_if_parked(&session);
                self.complete_top(&session, None);
            } else {
                self.actions
                    .push_back(Action::Hangup(session.clone(), "NORMAL_CLEARING".into()));
            }
        }
        self.wake(&session);
    }

    /// No `connect` within 25 s: the listener gives up ("Socket Error!"). An async session is
    /// left parked with nobody controlling it; a sync one returns to its dialplan.
    pub(super) fn connect_timed_out(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if c.connected || c.closed {
            return;
        }
        let (async_mode, session) = (c.async_mode, c.session.clone());
        if let Some(uuid) = session {
            if async_mode {
                if let Some(chan) = self.chans.get_mut(&uuid) {
                    if let Some(top) = chan.stack.last_mut() {
                        top.kind = Blocking::Park;
                    }
                    chan.park_started = true;
                }
                self.emit(&uuid, "CHANNEL_PARK");
            } else {
                self.complete_top(&uuid, None);
            }
        }
        self.close_conn(conn);
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

    pub(super) fn conn_session(&self, conn: ConnId) -> Option<String> {
        self.conns.get(&conn).and_then(|c| c.session.clone())
    }
}
