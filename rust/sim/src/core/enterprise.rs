//! Enterprise originate (`a:_:b`): every branch an originate of its own, the first success wins.

use super::calls::{Action, Enterprise, OriginateRequest, Owner};
use super::Core;
use crate::dial::DialString;

/// `SWITCH_ENT_ORIGINATE_DELIM`: separates the branches of an enterprise originate.
pub(super) const ENTERPRISE_DELIMITER: &str = ":_:";

impl Core {
    /// `<vars>dial1:_:dial2...`: every branch is an originate of its own, run at the same
    /// time with the `<>` variables and `ignore_early_media=true`; the first to succeed wins
    /// and the others are cancelled with LOSE_RACE (switch_ivr_enterprise_originate).
    pub(super) fn start_enterprise(&mut self, request: OriginateRequest) -> u64 {
        let mut extra_globals = request.extra_globals;
        let mut rest = request.dial_string.trim_start();
        while rest.starts_with('<') {
            let Some(end) = rest.find('>') else {
                break;
            };
            // parsed like a `{}` block (the leg name only completes the dial string)
            if let Some(block) = DialString::parse(&format!("{}x", &rest[..=end])) {
                extra_globals.extend(block.globals);
            }
            rest = rest[end + 1..].trim_start();
        }
        extra_globals.push(("ignore_early_media".into(), "true".into()));
        let id = self.id();
        let branches: Vec<String> = rest
            .split(ENTERPRISE_DELIMITER)
            .map(str::to_string)
            .collect();
        self.enterprises.insert(
            id,
            Enterprise {
                owner: request.owner,
                after: request.after,
                branches: Vec::new(),
                outcomes: vec![None; branches.len()],
                causes: Vec::new(),
            },
        );
        for (index, branch) in branches.iter().enumerate() {
            let child = self.start_originate(OriginateRequest {
                owner: Owner::Branch { parent: id, index },
                dial_string: branch.clone(),
                after: Vec::new(),
                base_timeout_s: request.base_timeout_s,
                caller: request.caller.clone(),
                extra_globals: extra_globals.clone(),
            });
            match self.enterprises.get_mut(&id) {
                Some(enterprise) => enterprise.branches.push(child),
                None => break,
            }
        }
        id
    }

    pub(super) fn branch_failed(
        &mut self,
        parent: u64,
        index: usize,
        cause: &str,
        causes: Vec<(String, String)>,
    ) {
        let Some(enterprise) = self.enterprises.get_mut(&parent) else {
            return;
        };
        if let Some(outcome) = enterprise.outcomes.get_mut(index) {
            *outcome = Some(cause.to_string());
        }
        enterprise.causes.extend(causes);
        if enterprise.outcomes.iter().any(Option::is_none) {
            return;
        }
        if let Some(enterprise) = self.enterprises.remove(&parent) {
            // in branch order, the last cause that is not LOSE_RACE or NO_PICKUP
            let cause = enterprise
                .outcomes
                .iter()
                .flatten()
                .rfind(|c| *c != "LOSE_RACE" && *c != "NO_PICKUP")
                .cloned()
                .unwrap_or_else(|| "NO_ANSWER".into());
            self.report_failure(enterprise.owner, &cause, enterprise.causes);
        }
    }

    pub(super) fn branch_succeeded(&mut self, parent: u64, winner: &str, early: bool) {
        let Some(enterprise) = self.enterprises.remove(&parent) else {
            return;
        };
        for branch in &enterprise.branches {
            let Some(losing) = self.originates.remove(branch) else {
                continue;
            };
            for leg in losing.legs {
                if let Some(chan) = self.chans.get_mut(&leg) {
                    chan.originate = None;
                }
                self.actions
                    .push_back(Action::Hangup(leg, "LOSE_RACE".into()));
            }
        }
        self.report_success(enterprise.owner, winner, early, enterprise.after);
    }
}
