//! Sockets: the inbound listener, connections the `socket` application opens, and the
//! per-connection reader and writer tasks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use esl4j_engine::proto::{Frame, FrameLimits, FrameParser};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::core::{Command, ConnId, IoAction, Out};
use crate::Shared;

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
                let queued = Arc::new(AtomicUsize::new(0));
                let id = shared.with(|core| core.add_conn(outbox, queued.clone()));
                tokio::spawn(serve(shared.clone(), stream, id, rx, queued));
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
                        let queued = Arc::new(AtomicUsize::new(0));
                        let id = shared.with(|core| {
                            core.add_outbound_conn(&uuid, outbox, queued.clone(), async_mode, full)
                        });
                        if let Some(id) = id {
                            serve(shared, stream, id, rx, queued).await;
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
    queued: Arc<AtomicUsize>,
) {
    let (mut reader, writer) = stream.into_split();
    let (closed_tx, mut closed_rx) = oneshot::channel::<()>();
    let writer_task = tokio::spawn(write_loop(writer, outbox, queued, closed_tx));
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
    queued: Arc<AtomicUsize>,
    closed: oneshot::Sender<()>,
) {
    let mut writer = BufWriter::with_capacity(64 * 1024, writer);
    while let Some(out) = outbox.recv().await {
        let keep_going = match out {
            Out::Frame(bytes) => {
                let ok = writer.write_all(&bytes).await.is_ok();
                queued.fetch_sub(1, Ordering::Relaxed);
                ok
            }
            Out::Flush(done) => {
                let ok = writer.flush().await.is_ok();
                let _ = done.send(());
                ok
            }
            Out::Close => false,
        };
        if !keep_going {
            break;
        }
        if outbox.is_empty() && writer.flush().await.is_err() {
            break;
        }
    }
    let _ = writer.flush().await;
    let _ = writer.shutdown().await;
    let _ = closed.send(());
    // answer any later flush barrier so nobody waits on a closed connection
    outbox.close();
    while let Ok(out) = outbox.try_recv() {
        if let Out::Flush(done) = out {
            let _ = done.send(());
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
