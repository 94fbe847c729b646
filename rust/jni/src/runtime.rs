//! The one tokio runtime shared by every connection and server of the process.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use esl4j_engine::park::ThreadSignal;
use once_cell::sync::OnceCell;
use tokio::runtime::Runtime;

use crate::error::BridgeError;

static RUNTIME: OnceCell<Runtime> = OnceCell::new();

/// Worker count used when Java did not choose one (`-Desl4j.workers`): ESL is I/O bound and
/// telephony hosts are often small, so two workers are plenty.
const DEFAULT_WORKERS: usize = 2;

/// Builds the runtime with `workers` threads (0 = default) unless it already exists.
pub(crate) fn init(workers: usize) -> std::io::Result<()> {
    RUNTIME.get_or_try_init(|| build(workers)).map(|_| ())
}

/// The shared runtime, built with the default size on first use if `init` was never called.
pub(crate) fn get() -> std::io::Result<&'static Runtime> {
    RUNTIME.get_or_try_init(|| build(0))
}

fn build(workers: usize) -> std::io::Result<Runtime> {
    let workers = if workers == 0 {
        DEFAULT_WORKERS
    } else {
        workers
    };
    // esl4j-io-1, esl4j-io-2, ...: readable in thread dumps and log patterns (%thread).
    let next_thread = AtomicUsize::new(1);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name_fn(move || format!("esl4j-io-{}", next_thread.fetch_add(1, Ordering::Relaxed)))
        .enable_all()
        .build()
}

/// Blocks the calling Java thread on `future`.
///
/// Refuses instead of panicking when the caller is itself a runtime thread: tokio would panic
/// with "Cannot start a runtime from within a runtime".
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output, BridgeError> {
    refuse_runtime_thread()?;
    Ok(get()?.block_on(future))
}

/// How long a thread waiting for a command's reply keeps yielding its core before it parks. A
/// reply on a LAN or loopback usually comes within tens of microseconds, about what waking a
/// parked thread costs again; yielding leaves the core to the threads that produce the reply.
const REPLY_SPIN: Duration = Duration::from_micros(100);

/// Like [`block_on`], for a command the caller waits for: the future is polled on this thread,
/// and between polls the thread yields for up to [`REPLY_SPIN`] before it parks, so a quick
/// reply is seen without a wake-up. The future's timers work (the runtime is entered); its
/// deadline bounds the wait.
pub(crate) fn block_on_reply<F: Future>(future: F) -> Result<F::Output, BridgeError> {
    refuse_runtime_thread()?;
    let _context = get()?.enter();
    let signal = ThreadSignal::for_current_thread();
    let waker = Waker::from(signal.clone());
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return Ok(output);
        }
        signal.wait(REPLY_SPIN, None);
    }
}

/// Refuses a blocking call on a runtime thread, which would stall the tasks it runs.
pub(crate) fn refuse_runtime_thread() -> Result<(), BridgeError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(BridgeError::InvalidState(
            "a blocking esl4j call was made on an esl4j runtime thread".into(),
        ));
    }
    Ok(())
}
