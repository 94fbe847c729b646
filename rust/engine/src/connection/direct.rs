//! A blocking caller that reads its own reply (libesl's way), so the reply wakes that thread
//! and no other.
//!
//! The socket's read side is shared: whoever holds the *read turn* (the reader task, or one
//! blocking caller) reads and dispatches, so frames keep their wire order whoever reads them.
//! A blocking caller takes the turn when the reader task is not reading (it holds the turn only
//! while it reads and dispatches), tries the socket for [`READ_SPIN`], then blocks in `poll(2)`
//! in slices of [`READ_SLICE`] (so a close that fails its slot is seen within one), and
//! dispatches what arrives like the reader would: events go to the queue before any reply that
//! follows them is handed over, and it stops at its own reply. While the reader task holds the
//! turn (events flowing), the caller waits for its reply or for the turn, whichever comes first.
//!
//! The caller reads the descriptor directly rather than through tokio, whose readiness is set
//! only by the runtime's I/O driver: reading through it would wait for that thread's wake-up,
//! the hop this file exists to avoid. Reading behind tokio's back is safe: the reader task's
//! next read then finds nothing and waits for the next edge.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::oneshot::error::TryRecvError;
use tokio::sync::{Mutex as AsyncMutex, Notify};
use tracing::warn;

use super::driver::final_notice;
use super::state::{reply_slot_dropped, Ended, ReplyReceiver, Shared};
use super::Response;
use crate::error::EslError;
use crate::park::ThreadSignal;
use crate::proto::{FrameParser, ServerMessage};
use crate::queue::{Incoming, Overload};

/// Whether a blocking caller may read the socket itself (it needs `poll(2)`); elsewhere it
/// waits for the reader task.
const DIRECT_READS: bool = cfg!(unix);

/// How long a caller holding the read turn waits for bytes before it looks again at its slot
/// (failed by a close) and gives the reader task a chance at the turn.
const READ_SLICE: Duration = Duration::from_millis(10);

/// How long a caller holding the read turn keeps trying the socket (yielding its core between
/// tries) before it blocks in `poll(2)`: a reply on loopback or a LAN usually comes within
/// tens of microseconds, and a thread that is still running sees it without being woken.
const READ_SPIN: Duration = Duration::from_micros(100);

/// Bytes a caller reads at a time.
const CALLER_READ_CHUNK: usize = 16 * 1024;

/// How long a caller waiting behind the reader task yields its core before it parks: the
/// reader usually hands over the reply or the turn within microseconds, about what waking a
/// parked thread costs again.
const WAIT_SPIN: Duration = Duration::from_micros(50);

/// The read side of one socket.
#[derive(Debug)]
pub(crate) struct ReadSide {
    pub(super) socket: OwnedReadHalf,
    /// The read turn and the frames read but not yet dispatched.
    pub(super) turn: AsyncMutex<FrameParser>,
    /// Told by a caller that gives the turn back with bytes still buffered, so the reader task
    /// dispatches complete frames without waiting for more bytes to arrive, and watches a
    /// partial one (the stuck-frame rule).
    pub(super) returned: Notify,
    /// Set when a caller dispatched frames: progress for the reader task's stuck-frame check.
    pub(super) caller_progress: AtomicBool,
}

impl ReadSide {
    pub(super) fn new(socket: OwnedReadHalf, parser: FrameParser) -> ReadSide {
        ReadSide {
            socket,
            turn: AsyncMutex::new(parser),
            returned: Notify::new(),
            caller_progress: AtomicBool::new(false),
        }
    }
}

/// What one pass over the buffered frames came to.
enum Step {
    /// The caller's reply (or its failure) arrived.
    Answered(Result<Response, EslError>),
    /// More bytes are needed.
    NeedMore,
    /// The stream ended or a read failed: the reader task sees it too and ends the socket; the
    /// caller waits for its slot to be failed.
    Leave,
    /// The connection must end (protocol error, final disconnect notice, overload).
    Ended(Ended),
}

impl Shared {
    /// Waits for the reply of a command this thread just sent, reading the socket itself while
    /// the reader task is not; times out after `timeout` (counted for the liveness rule).
    pub(super) fn wait_reply_blocking(
        &self,
        mut receiver: ReplyReceiver,
        timeout: Duration,
    ) -> Result<Response, EslError> {
        let sent = Instant::now();
        let deadline = sent + timeout;
        let spin_until = sent + READ_SPIN;
        let signal = ThreadSignal::for_current_thread();
        let waker = Waker::from(signal.clone());
        let mut context = Context::from_waker(&waker);
        let side = self.lock().reader.clone().filter(|_| DIRECT_READS);
        let mut turn = side.as_ref().map(|side| Box::pin(side.turn.lock()));
        loop {
            if let Poll::Ready(outcome) = Pin::new(&mut receiver).poll(&mut context) {
                return outcome.unwrap_or_else(|_| Err(reply_slot_dropped()));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(self.reply_timed_out(timeout));
            }
            if let (Some(side), Some(lock)) = (&side, turn.as_mut()) {
                if let Poll::Ready(mut parser) = lock.as_mut().poll(&mut context) {
                    let until = deadline.min(now + READ_SLICE);
                    let step =
                        self.read_for_reply(side, &mut parser, &mut receiver, spin_until, until);
                    if parser.buffered_len() > 0 {
                        // Frames after the reply may be complete already, and a partial frame
                        // starts the reader task's stuck-frame clock.
                        side.returned.notify_one();
                    }
                    drop(parser);
                    turn = Some(Box::pin(side.turn.lock()));
                    match step {
                        Step::Leave => turn = None,
                        Step::Answered(outcome) => return outcome,
                        Step::Ended(ended) => {
                            // The reader task ends the socket and fails the pending commands.
                            self.broken.send_replace(Some(ended));
                            turn = None;
                        }
                        Step::NeedMore => {}
                    }
                    continue;
                }
            }
            signal.wait(WAIT_SPIN, Some(deadline));
        }
    }

    /// With the read turn: dispatches what is buffered and reads until the caller's reply
    /// arrives, the connection must end, or `until` (then the caller looks at its slot again).
    /// Tries the socket without blocking until `spin_until`, then waits in `poll(2)`.
    fn read_for_reply(
        &self,
        side: &ReadSide,
        parser: &mut FrameParser,
        receiver: &mut ReplyReceiver,
        spin_until: Instant,
        until: Instant,
    ) -> Step {
        let mut chunk = [0u8; CALLER_READ_CHUNK];
        loop {
            let buffered = parser.buffered_len();
            let step = self.dispatch_until_reply(parser, receiver, until);
            if parser.buffered_len() < buffered {
                side.caller_progress.store(true, Ordering::Relaxed);
            }
            match step {
                Step::NeedMore => {}
                step => return step,
            }
            let now = Instant::now();
            if now >= until {
                return Step::NeedMore;
            }
            // A failed wait or read, or the end of the stream, reaches the reader task too,
            // through its own readiness: it ends the socket with the right reason.
            if now >= spin_until {
                match wait_readable(&side.socket, until - now) {
                    Ok(true) => {}
                    Ok(false) => return Step::NeedMore,
                    Err(_) => return Step::Leave,
                }
            }
            match recv_now(&side.socket, &mut chunk) {
                Ok(0) => return Step::Leave,
                Ok(read) => parser.feed(&chunk[..read]),
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::yield_now();
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Step::Leave,
            }
        }
    }

    /// Dispatches the complete frames in `parser` until the caller's reply has been handed
    /// over. Events read before a reply reach the queue before the reply is handed over, so the
    /// queue never has to wait for room (it does not while a reply is awaited); frames after
    /// the caller's reply stay buffered for the reader task.
    fn dispatch_until_reply(
        &self,
        parser: &mut FrameParser,
        receiver: &mut ReplyReceiver,
        until: Instant,
    ) -> Step {
        let mut batch = Vec::new();
        let step = loop {
            match self.next_message(parser) {
                Ok(None) => break Step::NeedMore,
                Err(reason) => break Step::Ended(reason.into()),
                Ok(Some(
                    message @ (ServerMessage::CommandReply(_) | ServerMessage::ApiResponse(_)),
                )) => {
                    if let Err(ended) = self.push_now(std::mem::take(&mut batch), until) {
                        return Step::Ended(ended);
                    }
                    self.dispatch(message);
                    match receiver.try_recv() {
                        Ok(outcome) => break Step::Answered(outcome),
                        Err(TryRecvError::Closed) => {
                            break Step::Answered(Err(reply_slot_dropped()))
                        }
                        Err(TryRecvError::Empty) => {}
                    }
                }
                Ok(Some(message)) => {
                    let item = self.dispatch(message);
                    let ending = item.as_ref().and_then(final_notice);
                    batch.extend(item);
                    if let Some(reason) = ending {
                        break Step::Ended(reason.into());
                    }
                }
            }
        };
        match self.push_now(batch, until) {
            Ok(()) => step,
            Err(ended) => Step::Ended(ended),
        }
    }

    /// Queues items read by a blocking caller. It never waits while a command awaits its reply,
    /// which holds until the caller's own reply is handed over, unless the connection was torn
    /// down meanwhile; then, under `Block` with a full queue, it waits for room like the reader
    /// would, but only until `until`: what is left then is dropped with a warning.
    fn push_now(&self, items: Vec<Incoming>, until: Instant) -> Result<(), Ended> {
        if items.is_empty() {
            return Ok(());
        }
        self.remember_last_event(&items);
        let count = items.len();
        let signal = ThreadSignal::for_current_thread();
        let waker = Waker::from(signal.clone());
        let mut context = Context::from_waker(&waker);
        let mut push = pin!(self.queue.push_all(items));
        loop {
            match push.as_mut().poll(&mut context) {
                Poll::Ready(Ok(())) => return Ok(()),
                Poll::Ready(Err(Overload(counts))) => return Err(Ended::overloaded(&counts)),
                Poll::Pending if Instant::now() >= until => {
                    warn!(
                        read = count,
                        "events read by a blocking caller while the connection was torn down \
                         dropped: the queue stayed full"
                    );
                    return Ok(());
                }
                Poll::Pending => signal.wait(WAIT_SPIN, Some(until)),
            }
        }
    }
}

/// Waits up to `wait` for bytes (or the end) on the socket.
#[cfg(unix)]
#[allow(unsafe_code)]
fn wait_readable(socket: &OwnedReadHalf, wait: Duration) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    let mut poll = libc::pollfd {
        fd: socket.as_ref().as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = i32::try_from(wait.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
    // SAFETY: one valid pollfd for the call's duration; the descriptor stays open while
    // `socket` is borrowed.
    match unsafe { libc::poll(&mut poll, 1, millis) } {
        -1 => match std::io::Error::last_os_error() {
            // A signal (the JVM sends some to its threads): the caller looks again.
            error if error.kind() == std::io::ErrorKind::Interrupted => Ok(false),
            error => Err(error),
        },
        0 => Ok(false),
        _ => Ok(true),
    }
}

/// Reads what the socket holds now, without waiting.
#[cfg(unix)]
#[allow(unsafe_code)]
fn recv_now(socket: &OwnedReadHalf, buffer: &mut [u8]) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    // SAFETY: `buffer` is valid for writes of its length for the call's duration; the
    // descriptor stays open while `socket` is borrowed.
    let read = unsafe {
        libc::recv(
            socket.as_ref().as_raw_fd(),
            buffer.as_mut_ptr().cast(),
            buffer.len(),
            libc::MSG_DONTWAIT,
        )
    };
    usize::try_from(read).map_err(|_| std::io::Error::last_os_error())
}

#[cfg(not(unix))]
fn wait_readable(_socket: &OwnedReadHalf, _wait: Duration) -> std::io::Result<bool> {
    Ok(false)
}

#[cfg(not(unix))]
fn recv_now(_socket: &OwnedReadHalf, _buffer: &mut [u8]) -> std::io::Result<usize> {
    Ok(0)
}
