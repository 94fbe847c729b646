//! The `bridge` application's outcome: established, failed, unbridged, or deferred while a
//! queued message runs nested in it.

use super::calls::{Action, Blocking, OriginateRequest, Owner, PendingBridge, Running};
use super::timers::Timer;
use super::Core;
use crate::dial::is_true;
use crate::model::{cause_number, dial_status};

impl Core {
    /// A queued message runs nested inside the bridge (its originate loop and its bridge loop
    /// call `switch_ivr_parse_all_events`): the bridge notices an outcome only once that
    /// message's application returned. True when `outcome` was kept for then.
    pub(super) fn defer_bridge_outcome(&mut self, uuid: &str, outcome: PendingBridge) -> bool {
        let Some(chan) = self.chans.get_mut(uuid) else {
            return false;
        };
        let nested = chan
            .stack
            .last()
            .is_some_and(|top| !matches!(top.kind, Blocking::Bridge | Blocking::Bridged));
        let in_bridge = chan
            .stack
            .iter()
            .any(|r| matches!(r.kind, Blocking::Bridge | Blocking::Bridged));
        if nested && in_bridge {
            chan.pending_bridge = Some(outcome);
        }
        nested && in_bridge
    }

    /// Applies a bridge outcome that waited for a nested application (see
    /// [`defer_bridge_outcome`](Self::defer_bridge_outcome)).
    pub(super) fn apply_pending_bridge(&mut self, uuid: &str, outcome: PendingBridge) {
        match outcome {
            PendingBridge::Established { peer, early } => {
                self.bridge_established(uuid, &peer, early)
            }
            PendingBridge::Failed { cause, causes } => self.bridge_failed(uuid, &cause, &causes),
            PendingBridge::Unbridged { cause } => self.unbridge(uuid, &cause),
        }
    }

    pub(super) fn bridge_established(&mut self, caller: &str, peer: &str, early: bool) {
        if !self.chan_up(caller) {
            self.actions
                .push_back(Action::Hangup(peer.to_string(), "ORIGINATOR_CANCEL".into()));
            return;
        }
        let outcome = PendingBridge::Established {
            peer: peer.to_string(),
            early,
        };
        if self.defer_bridge_outcome(caller, outcome) {
            return;
        }
        if !early {
            self.answer(caller);
        }
        let status = if early { "EARLY" } else { "SUCCESS" };
        if let Some(chan) = self.chans.get_mut(caller) {
            chan.ch.set_var("originate_disposition", "SUCCESS");
            chan.ch.set_var("DIALSTATUS", status);
            chan.ch.set_var("last_bridge_to", peer);
            chan.ch.set_var("bridge_to", peer);
            if let Some(Running { kind, .. }) = chan.stack.last_mut() {
                *kind = Blocking::Bridged;
            }
        }
        self.set_call_state(caller, if early { "EARLY" } else { "ACTIVE" });
        self.link_bridge(caller, peer);
        if early {
            let timeout = self
                .chans
                .get(caller)
                .and_then(|c| c.ch.var("bridge_answer_timeout"))
                .and_then(|v| v.parse::<u64>().ok());
            if let Some(t) = timeout.filter(|t| *t > 0) {
                let due = self.whole_seconds_from_now(t, true);
                self.add_timer_at(
                    due,
                    Timer::BridgeAnswerTimeout {
                        uuid: peer.to_string(),
                    },
                );
            }
        }
    }

    pub(super) fn link_bridge(&mut self, a: &str, b: &str) {
        let now = self.now_us();
        for (x, y) in [(a, b), (b, a)] {
            if let Some(chan) = self.chans.get_mut(x) {
                chan.bridged_with = Some(y.to_string());
                chan.bridged_as_callee = x == b;
                chan.ch.other_leg = Some(y.to_string());
                chan.ch.bridged_us = now;
                chan.ch.set_var("bridge_uuid", y);
            }
        }
        self.emit_with(
            a,
            "CHANNEL_BRIDGE",
            &[
                ("Bridge-A-Unique-ID", a.to_string()),
                ("Bridge-B-Unique-ID", b.to_string()),
            ],
        );
    }

    pub(super) fn bridge_failed(&mut self, caller: &str, cause: &str, causes: &[(String, String)]) {
        let outcome = PendingBridge::Failed {
            cause: cause.to_string(),
            causes: causes.to_vec(),
        };
        if self.defer_bridge_outcome(caller, outcome) {
            return;
        }
        let Some(chan) = self.chans.get_mut(caller) else {
            return;
        };
        let listed: Vec<String> = causes
            .iter()
            .filter(|(u, _)| !u.is_empty())
            .map(|(u, c)| format!("{u};{c}"))
            .collect();
        chan.ch.set_var("originate_disposition", cause);
        chan.ch.set_var("DIALSTATUS", dial_status(cause));
        if !listed.is_empty() {
            let value = if listed.len() == 1 {
                listed[0].clone()
            } else {
                format!("ARRAY::{}", listed.join("|:"))
            };
            chan.ch.set_var("originate_causes", value);
        }
        chan.ch.set_var("originate_failed_cause", cause);
        chan.ch.set_var("last_bridge_hangup_cause", cause);
        let keep = match chan.ch.var("continue_on_fail") {
            Some(v) if is_true(v) => true,
            Some(list) => list.split(',').map(str::trim).any(|c| {
                c.eq_ignore_ascii_case(cause)
                    || cause_number(cause).is_some_and(|n| c == n.to_string())
            }),
            None => false,
        } || matches!(
            cause,
            "NO_ANSWER" | "NO_USER_RESPONSE" | "ORIGINATOR_CANCEL"
        );
        let back_to = if chan.ch.is_answered() {
            "ACTIVE"
        } else if chan.ch.answer_state == "early" {
            "EARLY"
        } else {
            "RINGING"
        };
        self.set_call_state(caller, back_to);
        if keep {
            self.complete_top(caller, None);
            self.wake(caller);
        } else {
            self.hangup(caller, cause, None);
        }
    }

    pub(super) fn unbridge(&mut self, uuid: &str, cause: &str) {
        let outcome = PendingBridge::Unbridged {
            cause: cause.to_string(),
        };
        if self.defer_bridge_outcome(uuid, outcome) {
            return;
        }
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        let other = chan.ch.other_leg.clone().unwrap_or_default();
        chan.ch.set_var("bridge_hangup_cause", cause);
        chan.ch.set_var("last_bridge_hangup_cause", cause);
        self.emit_with(
            uuid,
            "CHANNEL_UNBRIDGE",
            &[
                ("Bridge-A-Unique-ID", uuid.to_string()),
                ("Bridge-B-Unique-ID", other),
            ],
        );
        let Some(chan) = self.chans.get_mut(uuid) else {
            return;
        };
        chan.ch.other_leg = None;
        chan.bridged_with = None;
        let bridge_app = matches!(
            chan.stack.last(),
            Some(Running {
                kind: Blocking::Bridged,
                ..
            })
        );
        let hangup_after = chan
            .ch
            .var("hangup_after_bridge")
            .is_some_and(|v| is_true(v) || v == "explicit");
        if chan.ch.is_down() {
            return;
        }
        if hangup_after || !bridge_app {
            self.hangup(uuid, "NORMAL_CLEARING", None);
        } else {
            self.complete_top(uuid, None);
            self.wake(uuid);
        }
    }

    pub(super) fn start_bridge(&mut self, uuid: &str, dial: &str) {
        self.start_originate(OriginateRequest {
            owner: Owner::Bridge {
                caller: uuid.to_string(),
            },
            dial_string: dial.to_string(),
            after: Vec::new(),
            base_timeout_s: 0,
            caller: Some(uuid.to_string()),
            extra_globals: Vec::new(),
        });
    }
}
