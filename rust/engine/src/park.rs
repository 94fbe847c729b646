//! Waiting on a plain thread (not a runtime thread) for a future or a flag.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Wake;
use std::thread::Thread;
use std::time::{Duration, Instant};

/// A waker that unparks the thread that made it; [`wait`](Self::wait) returns once it was woken.
#[derive(Debug)]
pub struct ThreadSignal {
    woken: AtomicBool,
    thread: Thread,
}

impl ThreadSignal {
    /// A signal for the calling thread (turn it into a `Waker` with `Waker::from`).
    pub fn for_current_thread() -> Arc<ThreadSignal> {
        Arc::new(ThreadSignal {
            woken: AtomicBool::new(false),
            thread: std::thread::current(),
        })
    }

    /// Waits until woken or `deadline`: yields the core for up to `spin` first (a wake-up that
    /// comes meanwhile costs no park and unpark), then parks.
    pub fn wait(&self, spin: Duration, deadline: Option<Instant>) {
        let spin_until = Instant::now() + spin;
        while !self.woken.swap(false, Ordering::Acquire) {
            let now = Instant::now();
            if deadline.is_some_and(|deadline| now >= deadline) {
                return;
            }
            if now < spin_until {
                std::thread::yield_now();
            } else if let Some(deadline) = deadline {
                // Spurious wake-ups only cost another look at the flag.
                std::thread::park_timeout(deadline - now);
            } else {
                std::thread::park();
            }
        }
    }
}

impl Wake for ThreadSignal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}
