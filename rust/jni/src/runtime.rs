//! The one tokio runtime shared by every connection and server of the process.

use std::sync::atomic::{AtomicUsize, Ordering};

use once_cell::sync::OnceCell;
use tokio::runtime::Runtime;

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
pub(crate) fn block_on<F: std::future::Future>(
    future: F,
) -> Result<F::Output, crate::error::BridgeError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(crate::error::BridgeError::InvalidState(
            "a blocking esl4j call was made on an esl4j runtime thread".into(),
        ));
    }
    Ok(get()?.block_on(future))
}
