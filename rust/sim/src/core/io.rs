//! What crosses the core's lock: frames for the writer tasks, their backlog, the commands
//! read, and the I/O the core asks for.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

pub(crate) type ConnId = u64;

/// What a connection's writer task receives.
pub(crate) enum Out {
    Frame(Arc<[u8]>),
    /// A command's reply or api response: written before frames still queued, because
    /// mod_event_socket writes it right after running the command, while its events wait in
    /// the listener's queue (they are written only while no command is pending, MES:1375).
    Reply(Arc<[u8]>),
    Flush(oneshot::Sender<()>),
    Close,
}

/// The frames handed to one connection's writer and not yet written to its socket, with a
/// wake-up for a flood waiting for the writer to catch up (so the flood never polls).
#[derive(Default)]
pub(crate) struct Backlog {
    frames: AtomicUsize,
    writer_gone: AtomicBool,
    drained: Notify,
    kill_flag: AtomicBool,
    kill: Notify,
    /// The frame a killed connection still writes (its disconnect notice).
    last_words: std::sync::Mutex<Option<Vec<u8>>>,
}

impl Backlog {
    /// Frames waiting for the writer.
    pub fn len(&self) -> usize {
        self.frames.load(Ordering::Relaxed)
    }

    pub fn added(&self, count: usize) {
        self.frames.fetch_add(count, Ordering::Relaxed);
    }

    /// The writer wrote one frame; wakes a waiting flood when the backlog falls below its
    /// low-water mark.
    pub fn written(&self) {
        if self.frames.fetch_sub(1, Ordering::Relaxed) == FLOOD_LOW_WATER {
            self.drained.notify_one();
        }
    }

    /// The writer stopped: nothing will drain the backlog any more.
    pub fn writer_gone(&self) {
        self.writer_gone.store(true, Ordering::Relaxed);
        self.drained.notify_one();
    }

    /// Kills the connection at once: the writer drops what is queued, writes `last_words`
    /// and closes (mod_event_socket's `kill_listener`).
    pub fn kill(&self, last_words: Vec<u8>) {
        if let Ok(mut slot) = self.last_words.lock() {
            *slot = Some(last_words);
        }
        self.kill_flag.store(true, Ordering::Relaxed);
        self.kill.notify_waiters();
    }

    pub fn is_killed(&self) -> bool {
        self.kill_flag.load(Ordering::Relaxed)
    }

    /// Resolves once [`kill`](Self::kill) was called.
    pub async fn killed(&self) {
        loop {
            // a `Notified` receives `notify_waiters` from its creation on, so none is missed
            let killed = self.kill.notified();
            if self.is_killed() {
                return;
            }
            killed.await;
        }
    }

    pub fn take_last_words(&self) -> Option<Vec<u8>> {
        self.last_words.lock().ok().and_then(|mut slot| slot.take())
    }

    /// Waits until fewer than [`FLOOD_LOW_WATER`] frames wait, or the writer is gone.
    pub async fn drained(&self) {
        loop {
            let drained = self.drained.notified();
            if self.len() < FLOOD_LOW_WATER || self.writer_gone.load(Ordering::Relaxed) {
                return;
            }
            // `notify_one` keeps a permit when nobody waits yet, so no wake-up is lost here
            drained.await;
        }
    }
}

/// What a flood or a flush barrier needs of one connection.
pub(crate) struct ConnOutbox {
    pub conn: ConnId,
    pub outbox: mpsc::UnboundedSender<Out>,
    pub backlog: Arc<Backlog>,
}

/// An unpaced flood stops when a connection has this many frames unwritten ...
pub(crate) const FLOOD_HIGH_WATER: usize = 4096;

/// ... and goes on once it has fewer than this: refilling in bursts costs one wake-up per
/// burst instead of one per frame.
pub(crate) const FLOOD_LOW_WATER: usize = FLOOD_HIGH_WATER / 2;

/// I/O the core asks for; performed outside the lock.
pub(crate) enum IoAction {
    ConnectOutbound {
        uuid: String,
        host: String,
        port: u16,
        async_mode: bool,
        full: bool,
    },
}

/// A client → server message: the command line, headers, optional body.
#[derive(Debug, Clone, Default)]
pub(crate) struct Command {
    pub line: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The whole message as received: the header block (first line included) and, after a
    /// blank line, the body.
    pub text: String,
}

impl Command {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
