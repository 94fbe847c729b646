//! The reader loop: reads a socket, dispatches its frames and decides when it has ended.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::{trace, warn};

use super::direct::ReadSide;
use super::state::{Ended, Shared};
use crate::outbox::Outbox;
use crate::proto::{Disposition, FrameParser, ServerMessage};
use crate::queue::{Incoming, Overload};

/// Bytes the reader first makes room for before a socket read. An idle call-control session
/// reads a few KiB at a time, and a buffer's pages stay resident once written, so buffers start
/// small: 10,000 outbound sessions with 64 KiB each would hold hundreds of MiB.
const FIRST_READ_CHUNK: usize = 4 * 1024;

/// The most the reader makes room for: a read that fills its chunk doubles the next one, so a
/// flood reaches this in a few reads; reads far below the chunk halve it again.
const READ_CHUNK: usize = 64 * 1024;

/// A socket whose writer task runs.
pub(super) struct Attached {
    reader: OwnedReadHalf,
    writer_task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Shared {
    /// Splits a fresh socket, starts its writer task and installs the writer, so commands
    /// can be queued as soon as this returns.
    pub(super) fn attach(&self, stream: TcpStream) -> Attached {
        let (reader, writer) = stream.into_split();
        let outbox = Arc::new(Outbox::new(writer));
        let queued = outbox.clone();
        let writer_task = tokio::spawn(async move { queued.write_queued().await });
        self.lock().writer = Some(outbox);
        Attached {
            reader,
            writer_task,
        }
    }

    /// Reads and dispatches frames until the socket ends; returns why it ended. A blocking
    /// caller may take the read turn meanwhile (see `direct.rs`): whoever holds it reads and
    /// dispatches, so frames keep their order.
    pub(super) async fn drive(
        &self,
        attached: Attached,
        parser: FrameParser,
        stop: &mut watch::Receiver<bool>,
    ) -> Ended {
        let Attached {
            reader,
            mut writer_task,
        } = attached;
        let side = Arc::new(ReadSide::new(reader, parser));
        self.lock().reader = Some(side.clone());
        let idle_timeout = self.config.idle_timeout;
        let mut read_chunk = FIRST_READ_CHUNK;
        let command_timeout = self.config.command_timeout;
        // A fresh socket: earlier timeouts say nothing about it.
        self.consecutive_timeouts.store(0, Ordering::Relaxed);
        self.broken.send_replace(None);
        let mut broken = self.broken.subscribe();
        // Liveness: a frame that stays incomplete while a command awaits its reply.
        let mut stuck = StuckFrame::default();
        // Frames that arrived together with the handshake.
        let mut parser = side.turn.lock().await;
        match self.dispatch_all(&mut parser).await {
            Ok(frames) => stuck.after_dispatch(frames, &parser, command_timeout),
            Err(ended) => return ended,
        }
        drop(parser);
        loop {
            if read_chunk == FIRST_READ_CHUNK {
                if let Ok(mut parser) = side.turn.try_lock() {
                    // Not flooded: hold no buffer while waiting; the next read takes a fresh one.
                    parser.release_idle_buffer();
                }
            }
            let idle = sleep_until_or_never(idle_timeout.map(|timeout| Instant::now() + timeout));
            let stuck_check = sleep_until_or_never(stuck.check_at);
            let ready = tokio::select! {
                biased;
                _ = stop.wait_for(|stopped| *stopped) => return "closed by client".to_owned().into(),
                ended = broken.wait_for(Option::is_some) => {
                    let ended = ended.ok().and_then(|ended| ended.clone());
                    return ended.unwrap_or_else(|| String::new().into());
                }
                outcome = &mut writer_task => {
                    return match outcome {
                        Ok(Err(error)) => format!("write failed: {error}"),
                        _ => "writer stopped".to_owned(),
                    }
                    .into();
                }
                ready = side.socket.readable() => Some(ready),
                // A blocking caller gave the turn back with bytes still buffered.
                () = side.returned.notified() => None,
                () = idle => {
                    return format!("no data for {idle_timeout:?}; peer presumed dead").into();
                }
                () = stuck_check => match self.check_stuck(&side, &mut stuck, command_timeout) {
                    Some(ended) => return ended,
                    None => continue,
                },
            };
            let mut parser = side.turn.lock().await;
            if let Some(ready) = ready {
                // The buffer is made room for only once bytes are there to read.
                let read =
                    ready.and_then(|()| side.socket.try_read_buf(parser.read_buffer(read_chunk)));
                match read {
                    Ok(0) => return "closed by peer".to_owned().into(),
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
                    Err(error) => return format!("read failed: {error}").into(),
                    Ok(read) => read_chunk = next_read_chunk(read_chunk, read),
                }
            }
            match self.dispatch_all(&mut parser).await {
                Ok(frames) => stuck.after_dispatch(frames, &parser, command_timeout),
                Err(ended) => return ended,
            }
        }
    }

    /// The stuck-frame check, when its time has come: the reason to end the connection, or
    /// None to go on (with the next check moved as the state calls for).
    fn check_stuck(
        &self,
        side: &ReadSide,
        stuck: &mut StuckFrame,
        command_timeout: Duration,
    ) -> Option<Ended> {
        // A blocking caller may have read and dispatched since (see `direct.rs`).
        if side.caller_progress.swap(false, Ordering::Relaxed) {
            stuck.check_at = Some(Instant::now() + 2 * command_timeout);
            return None;
        }
        match side.turn.try_lock() {
            // A caller is reading: look again soon.
            Err(_) => {
                stuck.check_at = Some(Instant::now() + command_timeout / 4);
                return None;
            }
            Ok(parser) if parser.buffered_len() == 0 => {
                stuck.check_at = None;
                return None;
            }
            Ok(_) => {}
        }
        if self.queue.reply_awaited() {
            return Some(
                format!(
                    "a frame stayed incomplete for twice the command timeout \
                     ({command_timeout:?}) while a command awaited its reply; peer \
                     presumed broken"
                )
                .into(),
            );
        }
        // Nothing awaited yet: look again soon, as a command may be sent any time.
        stuck.check_at = Some(Instant::now() + command_timeout / 4);
        None
    }

    /// The next complete frame as a message (undecodable events are skipped and logged);
    /// `Ok(None)` when no frame is complete, `Err` with the reason on a protocol error.
    pub(super) fn next_message(
        &self,
        parser: &mut FrameParser,
    ) -> Result<Option<ServerMessage>, String> {
        loop {
            let Some(frame) = parser
                .next_frame()
                .map_err(|error| format!("protocol error: {error}"))?
            else {
                return Ok(None);
            };
            trace!(
                content_type = %frame.content_type().unwrap_or_default(),
                body_bytes = frame.body().len(),
                "received"
            );
            match ServerMessage::from_frame(frame) {
                Ok(message) => return Ok(Some(message)),
                Err(error) => self.undecodable_events.hit(
                    || warn!(%error, "undecodable event skipped"),
                    |held_back| warn!(held_back, "more undecodable events skipped"),
                ),
            }
        }
    }

    /// Remembers where the event stream was, once per batch, for the gap report.
    pub(super) fn remember_last_event(&self, batch: &[Incoming]) {
        let last = batch.iter().rev().find_map(|item| match item {
            Incoming::Event(event) => Some(event),
            _ => None,
        });
        let Some(event) = last else {
            return;
        };
        let number = |name: &str| {
            event
                .header(name)
                .and_then(|value| value.parse::<u64>().ok())
        };
        if let Some(sequence) = number("Event-Sequence") {
            self.last_sequence.store(sequence, Ordering::Relaxed);
        }
        if let Some(timestamp) = number("Event-Date-Timestamp") {
            self.last_timestamp.store(timestamp, Ordering::Relaxed);
        }
    }

    /// Dispatches every complete frame; queue-bound items go to the queue as one batch.
    /// Returns how many frames were complete, or why the socket must end: a protocol error,
    /// a final disconnect notice (libesl ends the connection on it), an overloaded queue.
    pub(super) async fn dispatch_all(&self, parser: &mut FrameParser) -> Result<usize, Ended> {
        let mut batch = Vec::new();
        let mut frames = 0;
        let ending = loop {
            match self.next_message(parser) {
                Ok(Some(message)) => {
                    frames += 1;
                    let item = self.dispatch(message);
                    let ending = item.as_ref().and_then(final_notice);
                    batch.extend(item);
                    if ending.is_some() {
                        break ending;
                    }
                }
                Ok(None) => break None,
                Err(reason) => break Some(reason),
            }
        };
        let completed_waiters = frames > batch.len();
        self.remember_last_event(&batch);
        if !batch.is_empty() {
            if let Err(Overload(counts)) = self.queue.push_all(batch).await {
                return Err(Ended::overloaded(&counts));
            }
        }
        if completed_waiters {
            // A woken caller sits in this worker's LIFO slot, which other workers cannot
            // steal; under a flood this task would keep it waiting, so let it run now.
            tokio::task::yield_now().await;
        }
        match ending {
            Some(reason) => Err(reason.into()),
            None => Ok(frames),
        }
    }
}

/// Why the connection ends, when `item` is a disconnect notice without linger (libesl ends
/// the connection on it).
pub(super) fn final_notice(item: &Incoming) -> Option<String> {
    match item {
        Incoming::Disconnect(notice) if notice.disposition != Disposition::Linger => Some(format!(
            "disconnect notice from the server: {}",
            String::from_utf8_lossy(&notice.body).trim_end()
        )),
        _ => None,
    }
}

/// Sleeps until `at`, or forever when there is none (a `select!` arm that never fires).
async fn sleep_until_or_never(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// The next read's size after `read` bytes came into a `chunk`: a read that filled its chunk
/// doubles the next (a flood), up to [`READ_CHUNK`]; once the flood has passed, reads far below
/// the chunk halve it, down to [`FIRST_READ_CHUNK`] (and then to releasing the buffer).
fn next_read_chunk(chunk: usize, read: usize) -> usize {
    if read >= chunk {
        (chunk * 2).min(READ_CHUNK)
    } else if read < chunk / 4 {
        (chunk / 2).max(FIRST_READ_CHUNK)
    } else {
        chunk
    }
}

/// When the reader next checks for a frame stuck mid-read.
#[derive(Debug, Default)]
struct StuckFrame {
    check_at: Option<Instant>,
}

impl StuckFrame {
    /// A frame left incomplete is stuck once twice the command timeout passes without any
    /// frame completing (twice, so the command waiting for that frame times out first and
    /// says so); a frame that completed restarts the clock.
    fn after_dispatch(&mut self, frames: usize, parser: &FrameParser, timeout: Duration) {
        if parser.buffered_len() == 0 {
            self.check_at = None;
        } else if frames > 0 || self.check_at.is_none() {
            self.check_at = Some(Instant::now() + 2 * timeout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{next_read_chunk, FIRST_READ_CHUNK, READ_CHUNK};

    #[test]
    fn reads_grow_while_they_fill_and_shrink_once_the_flood_passes() {
        let mut chunk = FIRST_READ_CHUNK;
        let mut sizes = vec![chunk];
        while chunk < READ_CHUNK {
            chunk = next_read_chunk(chunk, chunk);
            sizes.push(chunk);
        }
        assert_eq!(sizes, [4096, 8192, 16384, 32768, 65536]);
        assert_eq!(
            next_read_chunk(READ_CHUNK, READ_CHUNK),
            READ_CHUNK,
            "capped"
        );
        assert_eq!(
            next_read_chunk(READ_CHUNK, READ_CHUNK / 2),
            READ_CHUNK,
            "half full: kept"
        );
        while chunk > FIRST_READ_CHUNK {
            chunk = next_read_chunk(chunk, 100);
        }
        assert_eq!(chunk, FIRST_READ_CHUNK);
        assert_eq!(
            next_read_chunk(FIRST_READ_CHUNK, 100),
            FIRST_READ_CHUNK,
            "floored"
        );
    }
}
