//! Rate limit for a warning that can repeat thousands of times a second (a flood of failed
//! handshakes, unsolicited replies): the first occurrence is logged, the next ones within the
//! interval are only counted, and one summary line per interval reports how many were held
//! back. The counters that callers keep next to the warning stay exact; only the lines are cut.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument;

/// One repeated warning's limit. Share it (`Arc`) between every place that logs that warning.
#[derive(Debug)]
pub(crate) struct LogLimit {
    interval: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// End of the interval opened by the last logged occurrence.
    quiet_until: Option<Instant>,
    /// Occurrences held back since then.
    suppressed: u64,
}

impl LogLimit {
    /// At most one line per `interval`, plus one summary line.
    pub(crate) fn new(interval: Duration) -> Arc<LogLimit> {
        Arc::new(LogLimit {
            interval,
            state: Mutex::new(State::default()),
        })
    }

    /// Reports one occurrence: runs `log` when it is the first of an interval; otherwise counts
    /// it, and the first one held back schedules `summary(held_back)` for the interval's end.
    /// Must be called within the tokio runtime.
    pub(crate) fn hit(
        self: &Arc<Self>,
        log: impl FnOnce(),
        summary: impl FnOnce(u64) + Send + 'static,
    ) {
        let now = Instant::now();
        let summary_at = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            match state.quiet_until {
                Some(end) if state.suppressed > 0 || now < end => {
                    state.suppressed += 1;
                    (state.suppressed == 1).then_some(end)
                }
                _ => {
                    state.quiet_until = Some(now + self.interval);
                    drop(state);
                    log();
                    return;
                }
            }
        };
        if let Some(end) = summary_at {
            let limit = self.clone();
            tokio::spawn(
                async move {
                    tokio::time::sleep_until(end).await;
                    let held_back = std::mem::take(
                        &mut limit
                            .state
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .suppressed,
                    );
                    summary(held_back);
                }
                .in_current_span(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// Counts logged lines and collects summaries.
    #[derive(Default)]
    struct Lines {
        logged: AtomicU64,
        summaries: Mutex<Vec<u64>>,
    }

    fn hit(limit: &Arc<LogLimit>, lines: &Arc<Lines>) {
        let summaries = lines.clone();
        limit.hit(
            || {
                lines.logged.fetch_add(1, Ordering::Relaxed);
            },
            move |held_back| summaries.summaries.lock().expect("lock").push(held_back),
        );
    }

    async fn let_summaries_run() {
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn logs_the_first_then_one_summary_per_interval() {
        let limit = LogLimit::new(Duration::from_secs(10));
        let lines = Arc::new(Lines::default());
        for _ in 0..2_000 {
            hit(&limit, &lines);
        }
        assert_eq!(lines.logged.load(Ordering::Relaxed), 1);
        assert!(lines.summaries.lock().expect("lock").is_empty());
        tokio::time::advance(Duration::from_secs(10)).await;
        let_summaries_run().await;
        assert_eq!(*lines.summaries.lock().expect("lock"), vec![1_999]);
        // After the summary, the next occurrence opens a new interval and is logged again.
        hit(&limit, &lines);
        hit(&limit, &lines);
        assert_eq!(lines.logged.load(Ordering::Relaxed), 2);
        tokio::time::advance(Duration::from_secs(10)).await;
        let_summaries_run().await;
        assert_eq!(*lines.summaries.lock().expect("lock"), vec![1_999, 1]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_isolated_occurrence_is_logged_without_a_summary() {
        let limit = LogLimit::new(Duration::from_secs(10));
        let lines = Arc::new(Lines::default());
        hit(&limit, &lines);
        tokio::time::advance(Duration::from_secs(11)).await;
        let_summaries_run().await;
        hit(&limit, &lines);
        assert_eq!(lines.logged.load(Ordering::Relaxed), 2);
        assert!(lines.summaries.lock().expect("lock").is_empty());
    }
}
