//! Sockets: the inbound listener, connections the `socket` application opens, and the
//! per-connection reader and writer tasks.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use esl4j_engine::proto::{Frame, FrameLimits, FrameParser};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::core::{Backlog, Command, ConnId, IoAction, Out};
use crate::Shared;

/// The writer's buffer: frames are coalesced into writes of up to this size.
const WRITE_BUFFER_BYTES: usize = 64 * 1024;
/// How long a killed connection's writer tries to get its disconnect notice out.
const LAST_WORDS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the `socket` application tries to reach an outbound server.
const OUTBOUND_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Client messages larger than this are refused (FreeSWITCH: 10 MiB headers, 16 MiB body).
const CLIENT_LIMITS: FrameLimits = FrameLimits {
    max_header_bytes: 1024 * 1024,
    max_body_bytes: 16 * 1024 * 1024,
};

pub(crate) async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let (outbox, rx) = mpsc::unbounded_channel();
                let backlog = Arc::new(Backlog::default());
                let id = shared.with(|core| core.add_conn(outbox, backlog.clone()));
                tokio::spawn(serve(shared.clone(), stream, id, rx, backlog));
            }
        }
    }
}

pub(crate) fn perform(shared: &Arc<Shared>, action: IoAction) {
    match action {
        IoAction::ConnectOutbound {
            uuid,
            host,
            port,
            async_mode,
            full,
        } => {
            let shared = shared.clone();
            shared.runtime.clone().spawn(async move {
                let connected = tokio::time::timeout(
                    OUTBOUND_CONNECT_TIMEOUT,
                    TcpStream::connect((host.as_str(), port)),
                )
                .await;
                match connected {
                    Ok(Ok(stream)) => {
                        let _ = stream.set_nodelay(true);
                        let (outbox, rx) = mpsc::unbounded_channel();
                        let backlog = Arc::new(Backlog::default());
                        let id = shared.with(|core| {
                            core.add_outbound_conn(&uuid, outbox, backlog.clone(), async_mode, full)
                        });
                        if let Some(id) = id {
                            serve(shared, stream, id, rx, backlog).await;
                        }
                    }
                    _ => shared.with(|core| core.socket_failed(&uuid)),
                }
            });
        }
    }
}

async fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    id: ConnId,
    outbox: mpsc::UnboundedReceiver<Out>,
    backlog: Arc<Backlog>,
) {
    let (mut reader, writer) = stream.into_split();
    let (closed_tx, mut closed_rx) = oneshot::channel::<()>();
    let writer_task = tokio::spawn(write_loop(writer, outbox, backlog, closed_tx));
    let mut parser = FrameParser::new(CLIENT_LIMITS);
    let mut buf = vec![0u8; 16 * 1024];
    'read: loop {
        let n = tokio::select! {
            _ = &mut closed_rx => break 'read,
            read = reader.read(&mut buf) => match read {
                Ok(0) | Err(_) => break 'read,
                Ok(n) => n,
            },
        };
        parser.feed(&buf[..n]);
        loop {
            let frame = match parser.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(_) => break 'read,
            };
            let line = String::from_utf8_lossy(frame.first_line()).into_owned();
            let headers = frame
                .command_headers()
                .map(|(n, v)| {
                    (
                        String::from_utf8_lossy(n).into_owned(),
                        String::from_utf8_lossy(v).into_owned(),
                    )
                })
                .collect();
            let body = Some(frame.body())
                .filter(|b| !b.is_empty())
                .map(|b| String::from_utf8_lossy(b).into_owned());
            let text = message_text(&frame);
            let command = Command {
                line,
                headers,
                body,
                text,
            };
            if let Some(done) = shared.with(|core| core.command(id, command)) {
                // A blocking command: like FreeSWITCH's listener thread, read nothing until it ends.
                tokio::select! {
                    _ = done => {}
                    _ = &mut closed_rx => break 'read,
                }
            }
        }
    }
    shared.with(|core| core.conn_gone(id));
    let _ = writer_task.await;
}

async fn write_loop(
    writer: tokio::net::tcp::OwnedWriteHalf,
    mut outbox: mpsc::UnboundedReceiver<Out>,
    backlog: Arc<Backlog>,
    closed: oneshot::Sender<()>,
) {
    let mut writer = BufWriter::with_capacity(WRITE_BUFFER_BYTES, writer);
    match write_frames(&mut writer, &mut outbox, &backlog).await {
        WriterEnd::Done => {
            let _ = writer.flush().await;
        }
        // killed as a slow listener: the queued frames are dropped, only its last words go out
        WriterEnd::Killed { frame_boundary } => {
            if let Some(notice) = backlog.take_last_words().filter(|_| frame_boundary) {
                let _ = tokio::time::timeout(LAST_WORDS_TIMEOUT, async {
                    writer.write_all(&notice).await?;
                    writer.flush().await
                })
                .await;
            }
        }
    }
    let _ = writer.shutdown().await;
    backlog.writer_gone();
    let _ = closed.send(());
    // answer any later flush barrier so nobody waits on a closed connection
    outbox.close();
    while let Ok(out) = outbox.try_recv() {
        if let Out::Flush(done) = out {
            let _ = done.send(());
        }
    }
}

/// Why a writer stopped.
enum WriterEnd {
    /// `Out::Close`, the outbox closed or the socket failed.
    Done,
    /// [`Backlog::kill`]; `frame_boundary` is false when a frame was cut off mid-write.
    Killed { frame_boundary: bool },
}

async fn write_frames(
    writer: &mut BufWriter<tokio::net::tcp::OwnedWriteHalf>,
    outbox: &mut mpsc::UnboundedReceiver<Out>,
    backlog: &Backlog,
) -> WriterEnd {
    let killed = backlog.killed();
    tokio::pin!(killed);
    // What was taken from the outbox and not written yet: responses go out first, everything
    // else in the order it was queued.
    let mut responses: VecDeque<Arc<[u8]>> = VecDeque::new();
    let mut queued: VecDeque<Out> = VecDeque::new();
    let mut outbox_closed = false;
    loop {
        if backlog.is_killed() {
            return WriterEnd::Killed {
                frame_boundary: true,
            };
        }
        while !outbox_closed {
            match outbox.try_recv() {
                Ok(Out::Reply(bytes)) => responses.push_back(bytes),
                Ok(out) => queued.push_back(out),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => outbox_closed = true,
            }
        }
        let out = match responses.pop_front() {
            Some(bytes) => Some(Out::Frame(bytes)),
            None => match queued.pop_front() {
                Some(out) => Some(out),
                None if outbox_closed => None,
                // the wait for a kill is only raced where this task would sleep: polling it for
                // every frame would cost the flood a lock per frame
                None => tokio::select! {
                    biased;
                    _ = &mut killed => return WriterEnd::Killed { frame_boundary: true },
                    out = outbox.recv() => match out {
                        Some(Out::Reply(bytes)) => Some(Out::Frame(bytes)),
                        other => other,
                    },
                },
            },
        };
        let ok = match out {
            None | Some(Out::Close) => return WriterEnd::Done,
            Some(Out::Frame(bytes) | Out::Reply(bytes)) => {
                let written = if writer.buffer().len() + bytes.len() <= WRITE_BUFFER_BYTES {
                    // fits the buffer: copied without touching the socket
                    writer.write_all(&bytes).await
                } else {
                    tokio::select! {
                        biased;
                        // BufWriter takes a frame smaller than its buffer whole or not at all
                        _ = &mut killed => return WriterEnd::Killed {
                            frame_boundary: bytes.len() < WRITE_BUFFER_BYTES,
                        },
                        written = writer.write_all(&bytes) => written,
                    }
                };
                backlog.written();
                written.is_ok()
            }
            Some(Out::Flush(done)) => {
                let ok = writer.flush().await.is_ok();
                let _ = done.send(());
                ok
            }
        };
        let idle = responses.is_empty() && queued.is_empty() && outbox.is_empty();
        if !ok || (idle && writer.flush().await.is_err()) {
            return WriterEnd::Done;
        }
    }
}

/// A client message as text: its header block without the final line ending and, when there is
/// a body, a blank line and the body.
fn message_text(frame: &Frame) -> String {
    let head = frame.header_block();
    let head = head.strip_suffix(b"\n").unwrap_or(head);
    let head = head.strip_suffix(b"\r").unwrap_or(head);
    let mut text = String::from_utf8_lossy(head).into_owned();
    if !frame.body().is_empty() {
        text.push_str("\n\n");
        text.push_str(&String::from_utf8_lossy(frame.body()));
    }
    text
}
