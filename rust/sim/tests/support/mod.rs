//! Test support: transcript loading, a raw ESL test client, and frame summaries.
#![allow(dead_code)] // each test binary uses a different part of this module

#[path = "../../../../tests/support/transcript.rs"]
mod transcript;
#[allow(unused_imports)] // as above: not every test binary replays transcripts
pub use transcript::{load, Dir, Record};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use esl4j_engine::proto::{Frame, FrameParser};
use esl4j_sim::{ClockMode, SimConfig, Simulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Every wait in these tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(10);

/// A simulator on the virtual clock (time moves only through `advance`), without heartbeats.
pub async fn virtual_sim() -> Simulator {
    Simulator::start(SimConfig {
        clock: ClockMode::Virtual,
        heartbeat: None,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// Binds a stand-in outbound server on an ephemeral port and routes the extension `ob` to it
/// with the `socket` flags given (e.g. `"async full"`).
pub async fn route_ob_to_listener(sim: &Simulator, flags: &str) -> TcpListener {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    sim.route_to_socket("ob", &format!("127.0.0.1:{port} {flags}"));
    listener
}

/// Parses all frames of a byte stream.
pub fn frames_of(bytes: &[u8]) -> Vec<Frame> {
    let mut parser = FrameParser::default();
    parser.feed(bytes);
    let mut out = Vec::new();
    while let Some(frame) = parser.next_frame().expect("valid frames") {
        out.push(frame);
    }
    out
}

/// A raw ESL connection that collects every frame it receives in a background task.
pub struct RawConn {
    writer: OwnedWriteHalf,
    pub frames: Arc<Mutex<Vec<Frame>>>,
    arrived: Arc<Notify>,
    pub closed: Arc<Mutex<bool>>,
}

impl RawConn {
    pub async fn connect(port: u16) -> RawConn {
        let stream = tokio::time::timeout(WAIT, TcpStream::connect(("127.0.0.1", port)))
            .await
            .expect("connect in time")
            .expect("connect");
        RawConn::from_stream(stream)
    }

    pub fn from_stream(stream: TcpStream) -> RawConn {
        let (mut reader, writer) = stream.into_split();
        let frames = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let closed = Arc::new(Mutex::new(false));
        let (f, a, c) = (frames.clone(), arrived.clone(), closed.clone());
        tokio::spawn(async move {
            let mut parser = FrameParser::default();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        parser.feed(&buf[..n]);
                        while let Ok(Some(frame)) = parser.next_frame() {
                            f.lock().expect("lock").push(frame);
                        }
                        a.notify_waiters();
                    }
                }
            }
            *c.lock().expect("lock") = true;
            a.notify_waiters();
        });
        RawConn {
            writer,
            frames,
            arrived,
            closed,
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("send");
    }

    /// Waits until `pred` holds for the frames received so far; panics after [`WAIT`].
    pub async fn wait_until(&self, what: &str, pred: impl Fn(&[Frame]) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // the predicate may look at this connection again: do not hold the lock for it
            let snapshot = self.frames.lock().expect("lock").clone();
            if pred(&snapshot) {
                return;
            }
            if *self.closed.lock().expect("lock") {
                panic!("connection closed while waiting for {what}");
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "timed out waiting for {what}; got {:?}",
                    summaries(&self.frames.lock().expect("lock"))
                );
            }
        }
    }

    /// Waits for the peer to close.
    pub async fn wait_closed(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if *self.closed.lock().expect("lock") {
                return;
            }
            tokio::time::timeout_at(deadline, notified)
                .await
                .expect("peer closes in time");
        }
    }

    pub fn count(&self) -> usize {
        self.frames.lock().expect("lock").len()
    }

    /// Sends a command and waits for its `command/reply` or `api/response`.
    pub async fn command(&mut self, text: &str) -> Frame {
        let replies_before = self.replies().len();
        let mut bytes = text.as_bytes().to_vec();
        bytes.extend_from_slice(b"\n\n");
        self.send(&bytes).await;
        self.wait_until(text, |frames| replies(frames).len() > replies_before)
            .await;
        self.replies()[replies_before].clone()
    }

    /// Sends each command of `table` in order and checks its reply: the body of an
    /// `api/response`, the `Reply-Text` of a `command/reply`. Reports every row that differs.
    pub async fn expect_replies<S: AsRef<str>>(&mut self, table: &[(S, S)]) {
        let mut wrong = Vec::new();
        for (command, expected) in table {
            let (command, expected) = (command.as_ref(), expected.as_ref());
            let reply = self.command(command).await;
            let got = match reply.content_type().as_deref() {
                Some("api/response") => String::from_utf8_lossy(reply.body()).into_owned(),
                _ => reply
                    .header("Reply-Text")
                    .map(|v| v.into_owned())
                    .unwrap_or_default(),
            };
            if got != expected {
                wrong.push(format!("{command:?}: got {got:?}, want {expected:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// Round trip: once the reply to a harmless command is here, every frame the simulator
    /// wrote before it has been received too.
    pub async fn sync(&mut self) {
        self.command("api global_getvar esl4j_sync_barrier").await;
    }

    pub fn replies(&self) -> Vec<Frame> {
        replies(&self.frames.lock().expect("lock"))
    }

    /// Inner events (plain) received so far.
    pub fn events(&self) -> Vec<Frame> {
        self.frames
            .lock()
            .expect("lock")
            .iter()
            .filter(|f| f.content_type().as_deref() == Some("text/event-plain"))
            .filter_map(|f| Frame::parse_one(f.body()).ok().flatten())
            .collect()
    }
}

/// Whether a frame answers a command (`command/reply` or `api/response`).
pub fn is_reply(frame: &Frame) -> bool {
    matches!(
        frame.content_type().as_deref(),
        Some("command/reply") | Some("api/response")
    )
}

pub fn replies(frames: &[Frame]) -> Vec<Frame> {
    frames.iter().filter(|f| is_reply(f)).cloned().collect()
}

/// A one-line description of a frame for messages.
pub fn summary(frame: &Frame) -> String {
    match frame.content_type().as_deref() {
        Some("text/event-plain") => {
            let inner = Frame::parse_one(frame.body()).ok().flatten();
            let name = inner
                .as_ref()
                .and_then(|e| e.header("Event-Name").map(|v| v.into_owned()))
                .unwrap_or_default();
            format!("event {name}")
        }
        Some("api/response") => format!(
            "api/response {}",
            String::from_utf8_lossy(frame.body()).trim_end()
        ),
        Some(ct) => format!("{ct} {}", frame.header("Reply-Text").unwrap_or_default()),
        None => "?".into(),
    }
}

pub fn summaries(frames: &[Frame]) -> Vec<String> {
    frames.iter().map(summary).collect()
}

/// URL-decodes a plain event value.
pub fn decode(value: &str) -> String {
    String::from_utf8_lossy(&esl4j_engine::proto::url::decode(value.as_bytes())).into_owned()
}
