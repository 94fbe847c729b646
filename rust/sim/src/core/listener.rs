//! Listeners: what a connection subscribed to, its filters, its bounded event queue, and
//! delivering events and log lines to every connection that wants them.

use super::connections::notice_frame;
use super::io::{Backlog, ConnId, ConnOutbox, Out};
use super::Core;
use crate::event::{Event, Format};
use crate::perms::{AllowedApi, AllowedEvents};
use crate::util::event_dates;
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Events a `myevents` listener gets (mod_event_socket.c:2104-2126).
pub(super) const MYEVENTS: [&str; 23] = [
    "CHANNEL_ANSWER",
    "CHANNEL_APPLICATION",
    "CHANNEL_BRIDGE",
    "CHANNEL_CREATE",
    "CHANNEL_DATA",
    "CHANNEL_DESTROY",
    "CHANNEL_EXECUTE",
    "CHANNEL_EXECUTE_COMPLETE",
    "CHANNEL_HANGUP",
    "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_ORIGINATE",
    "CHANNEL_UUID",
    "CHANNEL_OUTGOING",
    "CHANNEL_PARK",
    "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_STATE",
    "CHANNEL_UNBRIDGE",
    "CHANNEL_UNPARK",
    "DETECTED_SPEECH",
    "DTMF",
    "NOTALK",
    "TALK",
];

/// mod_event_socket's `MAX_QUEUE_LEN`: a listener's event queue holds this many events; while
/// it is full, new events for it are dropped.
pub(crate) const MAX_QUEUED_EVENTS: usize = 100_000;

/// mod_event_socket's `MAX_MISSED`: after this many events dropped in a row the listener is
/// killed ("killed listener because of lost events").
pub(crate) const MAX_MISSED_EVENTS: u32 = 500;

/// One event socket connection: inbound, or opened by the `socket` application.
pub(super) struct Conn {
    pub(super) outbox: mpsc::UnboundedSender<Out>,
    pub(super) backlog: Arc<Backlog>,
    /// Events dropped in a row because the queue was full (reset by the next one queued).
    pub(super) lost_events: u32,
    pub(super) authed: bool,
    pub(super) full: bool,
    pub(super) outbound: bool,
    pub(super) async_mode: bool,
    pub(super) connected: bool,
    pub(super) session: Option<String>,
    pub(super) format: Format,
    pub(super) all_events: bool,
    pub(super) events: HashSet<String>,
    pub(super) custom: HashSet<String>,
    pub(super) myevents: bool,
    pub(super) filters: Vec<(String, String)>,
    pub(super) busy: bool,
    pub(super) held: Vec<Arc<[u8]>>,
    pub(super) waiter: Option<oneshot::Sender<()>>,
    pub(super) linger: Option<i64>,
    pub(super) down_notified: bool,
    pub(super) closed: bool,
    /// `log <level>`: log lines up to this level are sent.
    pub(super) log_level: Option<u8>,
    /// Commands read on this connection (restarts the authentication timeout).
    pub(super) commands_read: u64,
    /// `userauth` with `esl-allowed-events` (LFLAG_AUTH_EVENTS); `None`: all allowed.
    pub(super) allowed_events: Option<AllowedEvents>,
    /// `userauth` with `esl-allowed-api`; `None`: all allowed.
    pub(super) allowed_api: Option<AllowedApi>,
    /// LFLAG_ALLOW_LOG: `log` is permitted.
    pub(super) allow_log: bool,
}

impl Conn {
    /// Queues an event frame like mod_event_socket's `event_handler`: while the queue is full
    /// the event is dropped; false when more than [`MAX_MISSED_EVENTS`] were dropped in a row,
    /// and the listener must be killed.
    pub(super) fn enqueue_event(&mut self, frame: Arc<[u8]>) -> bool {
        let waiting = if self.busy {
            self.held.len()
        } else {
            self.backlog.len()
        };
        if waiting >= MAX_QUEUED_EVENTS {
            self.lost_events += 1;
            return self.lost_events <= MAX_MISSED_EVENTS;
        }
        self.lost_events = 0;
        if self.busy {
            self.held.push(frame);
        } else {
            self.backlog.added(1);
            let _ = self.outbox.send(Out::Frame(frame));
        }
        true
    }

    pub(super) fn subscribed(&self) -> bool {
        self.all_events || !self.events.is_empty()
    }

    /// `channel` and `owner` are the event's `Unique-ID` and `Job-Owner-UUID`, looked up once
    /// per event by the caller: with thousands of outbound sessions, a header scan per
    /// connection made every event cost O(sessions) scans under the core lock.
    pub(super) fn accepts(
        &self,
        event: &Event,
        channel: Option<&str>,
        owner: Option<&str>,
    ) -> bool {
        if !self.authed || self.closed {
            return false;
        }
        // myevents first: it is the cheapest test and rejects almost every event at scale.
        if self.myevents {
            if let Some(session) = self.session.as_deref() {
                if channel != Some(session) && owner != Some(session) {
                    return false;
                }
            }
        }
        let name = event.name();
        // a CUSTOM event needs the CUSTOM type and, when it has a subclass, that subclass
        let wanted = self.all_events
            || (self.events.contains(name)
                && (name != "CUSTOM"
                    || event
                        .get("Event-Subclass")
                        .map_or(true, |s| self.custom.contains(s))));
        if !wanted {
            return false;
        }
        if !self.filters.is_empty() && !filters_pass(&self.filters, event) {
            return false;
        }
        true
    }
}

/// mod_event_socket's filter rule: positive matches are OR'ed, a negative match vetoes,
/// so a set of only negative filters blocks everything.
fn filters_pass(filters: &[(String, String)], event: &Event) -> bool {
    let mut send = false;
    for (header, wanted) in filters {
        let Some(actual) = event.get(header) else {
            continue;
        };
        if wanted.starts_with('/') {
            // `/regex/flags`: switch_regex_perform; a pattern that does not compile never matches
            if crate::regex::Regex::from_filter(wanted).is_some_and(|re| re.is_match(actual)) {
                send = true;
            }
            continue;
        }
        let (negative, value) = match wanted.as_bytes().first() {
            Some(b'-') => (true, &wanted[1..]),
            Some(b'+') => (false, &wanted[1..]),
            _ => (false, wanted.as_str()),
        };
        if actual.eq_ignore_ascii_case(value) {
            if negative {
                return false;
            }
            send = true;
        }
    }
    send
}

impl Core {
    /// Outboxes of every open connection, for a flush barrier or a flood.
    pub fn outboxes(&self, subscribed_only: bool) -> Vec<ConnOutbox> {
        self.conns
            .iter()
            .filter(|(_, c)| !c.closed && (!subscribed_only || (c.authed && c.subscribed())))
            .map(|(id, c)| ConnOutbox {
                conn: *id,
                outbox: c.outbox.clone(),
                backlog: c.backlog.clone(),
            })
            .collect()
    }

    /// A listener lost more than [`MAX_MISSED_EVENTS`] events in a row: mod_event_socket kills
    /// it with a disconnect notice.
    pub fn kill_slow_listener(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get(&conn).filter(|c| !c.closed) else {
            return;
        };
        let notice = notice_frame(
            c.session.as_deref(),
            "killed listener because of lost events\n",
            "disconnect",
        );
        c.backlog.kill(notice);
        self.close_conn(conn);
    }

    pub(super) fn deliver(&mut self, event: &Event) {
        let mut frames: [Option<Arc<[u8]>>; 3] = [None, None, None];
        let mut killed = Vec::new();
        let channel = event.get("Unique-ID");
        let owner = event.get("Job-Owner-UUID");
        for (&id, conn) in self.conns.iter_mut() {
            if !conn.accepts(event, channel, owner) {
                continue;
            }
            let slot = conn.format as usize;
            let frame = frames[slot]
                .get_or_insert_with(|| Arc::from(conn.format.frame(event)))
                .clone();
            if !conn.enqueue_event(frame) {
                killed.push(id);
            }
        }
        for id in killed {
            self.kill_slow_listener(id);
        }
    }

    /// A `log/data` frame for every connection logging at `level` or more verbosely.
    pub(super) fn log_line(&mut self, level: u8, site: (&str, &str, u32), uuid: &str, text: &str) {
        const NAMES: [&str; 8] = [
            "CONSOLE", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG",
        ];
        let (file, function, line) = site;
        let (local, _) = event_dates(self.epoch_ms());
        let micros = (self.now_us()) % 1_000_000;
        let name = NAMES.get(usize::from(level)).copied().unwrap_or("DEBUG");
        let body = format!("{local}.{micros:06} [{name}] {file}:{line} {text}\n");
        let frame: Arc<[u8]> = Arc::from(
            format!(
                "Content-Type: log/data\nContent-Length: {}\nLog-Level: {level}\nText-Channel: 3\nLog-File: {file}\nLog-Func: {function}\nLog-Line: {line}\nUser-Data: {uuid}\n\n{body}",
                body.len()
            )
            .into_bytes(),
        );
        for conn in self.conns.values_mut() {
            if !conn.authed || conn.closed || conn.log_level.map_or(true, |max| level > max) {
                continue;
            }
            // the log queue drops lines while it is full (mod_event_socket `socket_logger`)
            let waiting = if conn.busy {
                conn.held.len()
            } else {
                conn.backlog.len()
            };
            if waiting >= MAX_QUEUED_EVENTS {
                continue;
            }
            if conn.busy {
                conn.held.push(frame.clone());
            } else {
                conn.backlog.added(1);
                let _ = conn.outbox.send(Out::Frame(frame.clone()));
            }
        }
    }

    /// An event queued to a session reaches the sockets controlling it only while
    /// `divert_events on`, and then regardless of their subscriptions' names and filters
    /// (read_packet moves it straight into the socket's queue); otherwise the session consumes it.
    pub(super) fn divert_to_controller(&mut self, uuid: &str, event: &Event) {
        if !self.chans.get(uuid).is_some_and(|c| c.divert_events) {
            return;
        }
        let mut killed = Vec::new();
        for (&id, conn) in self.conns.iter_mut() {
            let controls = conn.session.as_deref() == Some(uuid);
            if !controls || conn.closed || !conn.subscribed() {
                continue;
            }
            let frame = Arc::from(conn.format.frame(event));
            if !conn.enqueue_event(frame) {
                killed.push(id);
            }
        }
        for id in killed {
            self.kill_slow_listener(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::sync::mpsc;

    use super::{filters_pass, MAX_MISSED_EVENTS, MAX_QUEUED_EVENTS};
    use crate::core::io::{Backlog, Command, ConnId, Out};
    use crate::core::tests::test_core;
    use crate::core::Core;
    use crate::event::Event;

    /// A listener subscribed to everything whose writer never drains (nobody reads `frames`).
    fn stalled_listener(core: &mut Core) -> (ConnId, mpsc::UnboundedReceiver<Out>) {
        let (outbox, frames) = mpsc::unbounded_channel();
        let conn = core.add_conn(outbox, Arc::new(Backlog::default()));
        for line in ["auth pw", "event plain ALL"] {
            core.command(
                conn,
                Command {
                    line: line.into(),
                    ..Command::default()
                },
            );
        }
        (conn, frames)
    }

    /// Frames handed to the writer so far, and whether a close followed.
    fn drain(frames: &mut mpsc::UnboundedReceiver<Out>) -> (usize, bool) {
        let (mut count, mut closed) = (0, false);
        while let Ok(out) = frames.try_recv() {
            match out {
                Out::Frame(_) | Out::Reply(_) => count += 1,
                Out::Close => closed = true,
                Out::Flush(_) => {}
            }
        }
        (count, closed)
    }

    #[test]
    fn a_full_queue_drops_events_then_kills_the_listener_after_500_in_a_row() {
        let mut core = test_core();
        let (conn, mut frames) = stalled_listener(&mut core);
        let backlog = core.conns[&conn].backlog.clone();
        let (greeting, _) = drain(&mut frames);
        let mut event = Event::named("CUSTOM");
        event.add("Event-Subclass", "load::test");
        // the queue fills (the greeting and replies count as unwritten too), then drops
        let room = MAX_QUEUED_EVENTS - greeting;
        for _ in 0..room + MAX_MISSED_EVENTS as usize {
            core.fire_custom(&event);
        }
        let (queued, closed) = drain(&mut frames);
        assert_eq!(queued, room, "exactly the queue's room was queued");
        assert!(!closed, "{MAX_MISSED_EVENTS} drops in a row are tolerated");
        core.fire_custom(&event);
        let (count, closed) = drain(&mut frames);
        assert!(closed, "the next drop kills the listener");
        assert_eq!(count, 0, "nothing more is queued");
        let last_words = backlog.take_last_words().expect("a disconnect notice");
        assert!(String::from_utf8_lossy(&last_words)
            .ends_with("\n\nkilled listener because of lost events\n"));
        // later events are not queued for it any more
        core.fire_custom(&event);
        assert!(frames.try_recv().is_err());
    }

    #[test]
    fn a_queued_event_resets_the_run_of_drops() {
        let mut core = test_core();
        let (conn, mut frames) = stalled_listener(&mut core);
        let mut event = Event::named("CUSTOM");
        event.add("Event-Subclass", "load::test");
        let backlog = core.conns[&conn].backlog.clone();
        let room = MAX_QUEUED_EVENTS - backlog.len();
        for _ in 0..room + MAX_MISSED_EVENTS as usize {
            core.fire_custom(&event);
        }
        // the writer catches up by one frame: the next event is queued, the run restarts
        backlog.written();
        core.fire_custom(&event);
        for _ in 0..MAX_MISSED_EVENTS {
            core.fire_custom(&event);
        }
        let (_, closed) = drain(&mut frames);
        assert!(!closed, "the drops before the queued event do not count");
        assert_eq!(core.conns[&conn].lost_events, MAX_MISSED_EVENTS);
    }

    #[test]
    fn filters_are_ored_and_negative_only_blocks() {
        let mut event = Event::named("CHANNEL_ANSWER");
        event.add("Unique-ID", "u1");
        let f = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        assert!(filters_pass(
            &f(&[("Unique-ID", "u1"), ("Unique-ID", "u2")]),
            &event
        ));
        assert!(!filters_pass(&f(&[("Unique-ID", "u2")]), &event));
        assert!(!filters_pass(&f(&[("Unique-ID", "-u2")]), &event));
        assert!(filters_pass(
            &f(&[("Event-Name", "/^CHANNEL_(ANSWER|HANGUP)$/")]),
            &event
        ));
        assert!(!filters_pass(
            &f(&[("Event-Name", "/^CHANNEL_ANS$/")]),
            &event
        ));
        assert!(filters_pass(&f(&[("Event-Name", "/answer/i")]), &event));
        assert!(!filters_pass(&f(&[("Event-Name", "/(broken/")]), &event));
        assert!(!filters_pass(
            &f(&[("Event-Name", "CHANNEL_ANSWER"), ("Unique-ID", "-u1")]),
            &event
        ));
        assert!(filters_pass(
            &f(&[("Event-Name", "channel_answer")]),
            &event
        ));
    }
}
