//! The core scheduler's API tasks: `sched_api` adds one, `sched_del` removes them. A task runs
//! its command at a whole epoch second; the scheduler says so with ADD_SCHEDULE,
//! RE_SCHEDULE (a recurring task, like the heartbeat's) and DEL_SCHEDULE (switch_scheduler.c;
//! the line numbers of ADD / DEL are not recorded, so none is claimed).

use super::api::split_command;
use super::timers::Timer;
use super::Core;
use crate::util::atoi;

/// A `sched_api` task.
pub(super) struct SchedTask {
    group: String,
    command: String,
    /// `@N`: runs every N seconds.
    recur_s: u64,
    /// The epoch second it runs at next.
    runtime_s: u64,
}

/// The first id the simulator hands out: task 1 is the heartbeat.
pub(super) const FIRST_TASK_ID: u32 = 2;

impl Core {
    /// `sched_api [+@]<time> <group_name> <command_string>[&]`: `+N` runs in N seconds, `@N`
    /// every N seconds, a plain number at that epoch second.
    pub(super) fn api_sched_api(&mut self, arg: &str) -> String {
        const USAGE: &str =
            "-ERR Invalid syntax. USAGE: [+@]<time> <group_name> <command_string>[&]\n";
        let Some((time, rest)) = arg.split_once(' ') else {
            return USAGE.into();
        };
        let Some((group, command)) = rest.split_once(' ') else {
            return USAGE.into();
        };
        let now_s = self.epoch_ms() / 1000;
        let seconds = |text: &str| u64::try_from(atoi(text)).unwrap_or(0);
        let (runtime_s, recur_s) = match time.as_bytes().first() {
            Some(b'+') => (now_s + seconds(&time[1..]), 0),
            Some(b'@') => (now_s + seconds(&time[1..]), seconds(&time[1..])),
            _ => (seconds(time), 0),
        };
        // `&` asks for a thread of its own: the simulator runs every task in order anyway
        let command = command.strip_suffix('&').unwrap_or(command).to_string();
        let id = self.next_task_id;
        self.next_task_id += 1;
        let task = SchedTask {
            group: group.to_string(),
            command,
            recur_s,
            runtime_s,
        };
        self.sched_tasks.insert(id, task);
        self.schedule_event("ADD_SCHEDULE", "switch_scheduler_add_task", 0, id);
        self.arm_task(id);
        format!("+OK Added: {id}\n")
    }

    /// `sched_del <task_id|group_name>`.
    pub(super) fn api_sched_del(&mut self, arg: &str) -> String {
        let ids: Vec<u32> = if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit()) {
            arg.parse().into_iter().collect()
        } else {
            self.sched_tasks
                .iter()
                .filter(|(_, t)| t.group == arg)
                .map(|(id, _)| *id)
                .collect()
        };
        let deleted = ids.iter().filter(|id| self.delete_task(**id)).count();
        format!("+OK Deleted: {deleted}\n")
    }

    /// Runs a task that is due; a recurring one is re-armed.
    pub(super) fn run_task(&mut self, id: u32) {
        let now_ms = self.epoch_ms();
        let Some(task) = self.sched_tasks.get_mut(&id) else {
            return;
        };
        if task.runtime_s * 1000 > now_ms {
            return;
        }
        let (name, arg) = split_command(&task.command);
        if task.recur_s > 0 {
            task.runtime_s = now_ms / 1000 + task.recur_s;
        }
        let recurring = task.recur_s > 0;
        self.api_exec(&name, &arg);
        self.api_event(&name, &arg);
        if recurring {
            self.schedule_event("RE_SCHEDULE", "switch_scheduler_execute", 73, id);
            self.arm_task(id);
        } else {
            self.delete_task(id);
        }
    }

    fn delete_task(&mut self, id: u32) -> bool {
        if !self.sched_tasks.contains_key(&id) {
            return false;
        }
        self.schedule_event("DEL_SCHEDULE", "task_thread_loop", 0, id);
        self.sched_tasks.remove(&id);
        true
    }

    fn arm_task(&mut self, id: u32) {
        let Some(task) = self.sched_tasks.get(&id) else {
            return;
        };
        let due = (task.runtime_s * 1000).saturating_sub(self.cfg.epoch_base_ms);
        self.add_timer_at(due.max(self.now_ms), Timer::SchedTask { id });
    }

    fn schedule_event(&mut self, name: &str, function: &str, line: u32, id: u32) {
        let Some(task) = self.sched_tasks.get(&id) else {
            return;
        };
        let (group, runtime) = (task.group.clone(), task.runtime_s.to_string());
        let mut event = self.base_event(name, "switch_scheduler.c", function, line);
        event
            .add("Task-ID", id.to_string())
            .add("Task-Desc", "sched_api_function")
            .add("Task-Group", group)
            .add("Task-Runtime", runtime);
        self.deliver(&event);
    }
}
