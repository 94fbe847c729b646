//! The write side of a connection's socket.
//!
//! A command is written by the thread that sends it, while it registers its reply slot, when the
//! socket takes it at once: a blocking caller then pays no hop to another thread before its
//! command is on the wire. What the socket does not take at once waits here for the writer task,
//! and every later command queues behind it, so the wire order stays the order of
//! [`Outbox::push`] calls (which the connection makes under its state lock, in reply-slot order).

use std::collections::VecDeque;
use std::io;
use std::sync::{Mutex, MutexGuard};

use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;
use tracing::trace;

use crate::proto::command::redacted;

/// A socket's write half with the bytes it has not taken yet.
#[derive(Debug)]
pub(crate) struct Outbox {
    socket: OwnedWriteHalf,
    backlog: Mutex<Backlog>,
    /// Wakes the writer task when bytes were queued or the outbox closed.
    wake: Notify,
}

#[derive(Debug, Default)]
pub(crate) struct Backlog {
    queued: VecDeque<Vec<u8>>,
    /// Bytes of the front entry already written.
    written: usize,
    /// Why writing stopped: a write failed, or the connection was torn down.
    stopped: Option<Stop>,
}

#[derive(Debug)]
enum Stop {
    Failed(io::Error),
    Closed,
}

/// Whether the socket took everything queued.
enum Flushed {
    All,
    WouldBlock,
}

impl Outbox {
    pub(crate) fn new(socket: OwnedWriteHalf) -> Self {
        Outbox {
            socket,
            backlog: Mutex::new(Backlog::default()),
            wake: Notify::new(),
        }
    }

    /// Locks the backlog. The connection takes this lock before it releases its state lock, so
    /// pushes happen in the order reply slots were registered.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Backlog> {
        // Every critical section leaves the backlog consistent, so a poisoned lock is usable.
        self.backlog
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes `bytes` now if nothing waits ahead of them and the socket takes them; queues the
    /// rest for the writer task. A write error is kept for the writer task, which ends with it,
    /// and so ends the connection (failing the pending replies).
    pub(crate) fn push(&self, backlog: &mut Backlog, bytes: Vec<u8>) {
        trace!(command = %redacted(&bytes), "sent");
        backlog.queued.push_back(bytes);
        if backlog.queued.len() > 1 {
            return; // the writer task is already working through the backlog
        }
        match backlog.flush(&self.socket) {
            Ok(Flushed::All) => {}
            Ok(Flushed::WouldBlock) => self.wake.notify_one(),
            Err(error) => {
                backlog.fail(error);
                self.wake.notify_one();
            }
        }
    }

    /// Stops writing for good: what is still queued is dropped (its commands have failed) and
    /// the writer task ends.
    pub(crate) fn close(&self) {
        let mut backlog = self.lock();
        backlog.queued.clear();
        backlog.stopped.get_or_insert(Stop::Closed);
        drop(backlog);
        self.wake.notify_one();
    }

    /// The writer task: writes what [`push`](Self::push) could not, waiting for the socket to
    /// take it. Ends with the write error, or `Ok` once closed; dropping the last reference to
    /// the outbox shuts the socket's write half.
    pub(crate) async fn write_queued(&self) -> io::Result<()> {
        loop {
            self.wake.notified().await;
            loop {
                let flushed = {
                    let mut backlog = self.lock();
                    match &backlog.stopped {
                        Some(Stop::Failed(error)) => return Err(copy(error)),
                        Some(Stop::Closed) => return Ok(()),
                        None => {}
                    }
                    match backlog.flush(&self.socket) {
                        Ok(flushed) => flushed,
                        Err(error) => return Err(backlog.fail(error)),
                    }
                };
                match flushed {
                    Flushed::All => break,
                    Flushed::WouldBlock => {
                        if let Err(error) = self.socket.writable().await {
                            return Err(self.lock().fail(error));
                        }
                    }
                }
            }
        }
    }
}

impl Backlog {
    /// `Some(reason)` once nothing more can be written.
    pub(crate) fn stopped(&self) -> Option<String> {
        match &self.stopped {
            None => None,
            Some(Stop::Failed(error)) => Some(format!("write failed: {error}")),
            Some(Stop::Closed) => Some("connection closed".to_owned()),
        }
    }

    /// Records a write failure (later pushes are refused) and returns it.
    fn fail(&mut self, error: io::Error) -> io::Error {
        let returned = copy(&error);
        self.stopped = Some(Stop::Failed(error));
        returned
    }

    /// Writes queued bytes until the queue is empty or the socket would block. Needs no
    /// runtime context, so any thread may call it.
    fn flush(&mut self, socket: &OwnedWriteHalf) -> io::Result<Flushed> {
        while let Some(front) = self.queued.front() {
            match socket.try_write(&front[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.written += n;
                    if self.written == front.len() {
                        self.queued.pop_front();
                        self.written = 0;
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(Flushed::WouldBlock)
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        Ok(Flushed::All)
    }
}

/// `io::Error` is not `Clone`; its kind and text are what the connection reports.
fn copy(error: &io::Error) -> io::Error {
    io::Error::new(error.kind(), error.to_string())
}
