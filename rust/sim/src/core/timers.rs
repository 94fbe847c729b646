//! The clock and the timers: what is due when, and what firing it does.

use super::calls::Action;
use super::io::ConnId;
use super::Core;
use crate::model::Signal;
use crate::util::whole_second_deadline;

/// Something due at a point of (real or virtual) time.
#[derive(Debug, Clone)]
pub(super) enum Timer {
    AppDone {
        uuid: String,
        token: u64,
    },
    Remote {
        uuid: String,
        signal: Signal,
    },
    OriginateTimeout {
        id: u64,
        round: u64,
    },
    ProgressTimeout {
        id: u64,
        round: u64,
    },
    /// A group of an `originate_retries` attempt starts after `originate_retry_sleep_ms`.
    RetryGroup {
        id: u64,
    },
    LegTimeout {
        uuid: String,
    },
    /// Leg `leg` of group round `round` starts after its `leg_delay_start`.
    LegStart {
        id: u64,
        round: u64,
        leg: usize,
        delay_s: u64,
    },
    /// `leg_progress_timeout`: no 180/183/answer on that leg yet.
    LegProgressTimeout {
        uuid: String,
    },
    /// `bridge_answer_timeout`: the bridged peer is still unanswered.
    BridgeAnswerTimeout {
        uuid: String,
    },
    Linger {
        conn: ConnId,
    },
    AsyncPark {
        uuid: String,
    },
    Heartbeat,
    /// A `sched_api` task is due.
    SchedTask {
        id: u32,
    },
    /// An outbound server must send `connect` within 25 s.
    ConnectTimeout {
        conn: ConnId,
    },
    /// mod_event_socket reads with a 25 s timeout until the client authenticates.
    AuthTimeout {
        conn: ConnId,
        commands: u64,
    },
}

impl Core {
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Real clock: moves to `now_ms` and fires what is due.
    pub fn run_until(&mut self, now_ms: u64) {
        while let Some((&(due, key), _)) = self.timers.iter().next() {
            if due > now_ms {
                break;
            }
            if let Some(timer) = self.timers.remove(&(due, key)) {
                self.now_ms = self.now_ms.max(due);
                self.actions.push_back(Action::Timer(timer));
                self.pump();
            }
        }
        self.now_ms = self.now_ms.max(now_ms);
        self.pump();
    }

    pub fn next_deadline(&self) -> Option<u64> {
        self.timers.keys().next().map(|(due, _)| *due)
    }

    pub(super) fn add_timer(&mut self, delay_ms: u64, timer: Timer) {
        self.add_timer_at(self.now_ms + delay_ms, timer);
    }

    pub(super) fn add_timer_at(&mut self, due_ms: u64, timer: Timer) {
        let key = self.id();
        self.timers.insert((due_ms, key), timer);
    }

    /// Sim time (ms) of a whole-second deadline counted from now.
    pub(super) fn whole_seconds_from_now(&self, seconds: u64, inclusive: bool) -> u64 {
        self.whole_seconds_after(self.now_ms, seconds, inclusive)
    }

    /// Sim time (ms) of a whole-second deadline counted from `start_ms` (sim time).
    pub(super) fn whole_seconds_after(&self, start_ms: u64, seconds: u64, inclusive: bool) -> u64 {
        let start_epoch = self.cfg.epoch_base_ms + start_ms;
        whole_second_deadline(start_epoch, seconds, inclusive) - self.cfg.epoch_base_ms
    }

    /// Delay before a session thread acts on something another thread did (the park that
    /// follows an outbound `connect`).
    pub(super) fn thread_latency_ms(&self) -> u64 {
        self.cfg.thread_latency_ms
    }

    pub(super) fn fire_timer(&mut self, timer: Timer) {
        match timer {
            Timer::AppDone { uuid, token } => {
                let Some(chan) = self.chans.get_mut(&uuid) else {
                    return;
                };
                match chan.stack.iter().position(|r| r.token == token) {
                    Some(i) if i + 1 == chan.stack.len() => {
                        self.complete_top(&uuid, None);
                        self.wake(&uuid);
                    }
                    // a queued message runs nested: the loop notices its time is up after it
                    Some(i) => chan.stack[i].expired = true,
                    None => {}
                }
            }
            Timer::Remote { uuid, signal } => self.remote_signal(&uuid, signal),
            Timer::OriginateTimeout { id, round } => {
                self.originate_timeout(id, round, "NO_ANSWER", false)
            }
            Timer::ProgressTimeout { id, round } => {
                self.originate_timeout(id, round, "PROGRESS_TIMEOUT", true)
            }
            Timer::RetryGroup { id } => self.start_group(id),
            Timer::LegStart {
                id,
                round,
                leg,
                delay_s,
            } => self.delayed_leg_due(id, round, leg, delay_s),
            Timer::LegTimeout { uuid } => self.leg_timeout(&uuid),
            Timer::LegProgressTimeout { uuid } => self.leg_progress_timeout(&uuid),
            Timer::BridgeAnswerTimeout { uuid } => self.bridge_answer_timeout(&uuid),
            Timer::Linger { conn } => self.disconnect(conn, true),
            Timer::AsyncPark { uuid } => self.start_async_park(&uuid),
            Timer::ConnectTimeout { conn } => self.connect_timed_out(conn),
            Timer::AuthTimeout { conn, commands } => {
                let idle = self
                    .conns
                    .get(&conn)
                    .is_some_and(|c| !c.authed && c.commands_read == commands);
                if idle {
                    self.disconnect(conn, true);
                }
            }
            Timer::SchedTask { id } => self.run_task(id),
            Timer::Heartbeat => {
                self.heartbeat();
                if let Some(every) = self.cfg.heartbeat_ms {
                    self.add_timer(every, Timer::Heartbeat);
                }
            }
        }
    }

    pub(super) fn schedule(&mut self, delay_ms: u64, timer: Timer) {
        if delay_ms == 0 {
            self.actions.push_back(Action::Timer(timer));
        } else {
            self.add_timer(delay_ms, timer);
        }
    }

    /// `leg_timeout`: a leg still pending is hung up with ALLOTTED_TIMEOUT.
    fn leg_timeout(&mut self, uuid: &str) {
        let pending = self
            .chans
            .get(uuid)
            .is_some_and(|c| c.originate.is_some() && !c.ch.is_down());
        if pending {
            self.hangup(uuid, "ALLOTTED_TIMEOUT", None);
        }
    }

    /// `leg_progress_timeout`: a pending leg without ringing, early media or answer.
    fn leg_progress_timeout(&mut self, uuid: &str) {
        let silent = self.chans.get(uuid).is_some_and(|c| {
            c.originate.is_some()
                && !c.ch.is_down()
                && c.ch.progress_us == 0
                && c.ch.progress_media_us == 0
                && !c.ch.is_answered()
        });
        if silent {
            self.hangup(uuid, "PROGRESS_TIMEOUT", None);
        }
    }

    /// `bridge_answer_timeout`: the bridged peer is still unanswered.
    fn bridge_answer_timeout(&mut self, uuid: &str) {
        let unanswered = self
            .chans
            .get(uuid)
            .is_some_and(|c| !c.ch.is_down() && !c.ch.is_answered());
        if unanswered {
            self.hangup(uuid, "ALLOTTED_TIMEOUT", None);
        }
    }
}
