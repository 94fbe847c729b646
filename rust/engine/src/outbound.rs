//! Outbound mode: FreeSWITCH's `socket` application connects to our listener, one socket per
//! call. The listener caps concurrent sessions, sends `connect` first with a deadline, parses
//! the channel data and hands out [`Session`]s with the same command API as inbound.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tracing::{debug, info, info_span, warn, Instrument};

use crate::connection::{read_message, Connection, ConnectionConfig, Shared};
use crate::error::{EslError, ProtocolError};
use crate::proto::command;
use crate::proto::{Event, FrameParser, ServerMessage};
use crate::queue::Incoming;

/// Batches waiting at once in a server's shared event route ([`Server::route`]); when it is
/// full, sessions keep their items in their own queues (and push back per their policy).
const ROUTED_BATCHES: usize = 1024;
/// Most items in one routed batch: a busy session cannot hold the route for long.
const ROUTED_BATCH_ITEMS: usize = 64;
/// Most frame bytes in one routed batch (at least one item): bounds the route to ~64 MiB.
const ROUTED_BATCH_BYTES: usize = 64 * 1024;

/// Settings of the outbound listener.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind, e.g. `127.0.0.1:8084`; port 0 picks a free port.
    pub bind: String,
    /// Most sessions alive at once; further connections are closed at once, so FreeSWITCH
    /// fails over to the next host of the `socket` application.
    pub max_sessions: usize,
    /// Deadline for the `connect` reply.
    pub handshake_timeout: Duration,
    /// Command, queue and liveness settings of each session.
    pub connection: ConnectionConfig,
}

impl ServerConfig {
    /// Defaults: 1024 sessions, 5 s handshake.
    pub fn new(bind: impl Into<String>) -> ServerConfig {
        ServerConfig {
            bind: bind.into(),
            max_sessions: 1024,
            handshake_timeout: Duration::from_secs(5),
            connection: ConnectionConfig::default(),
        }
    }
}

/// How the `socket` application runs the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketMode {
    /// `socket ... async`: `sendmsg` is queued and events flow while apps run.
    Async,
    /// Without `async` (`Socket-Mode: static`): an app on the own channel runs inline and
    /// its reply comes only when it finishes.
    Static,
}

/// One outbound call session. Derefs to [`Connection`] for the command API.
#[derive(Debug, Clone)]
pub struct Session {
    connection: Connection,
    channel_data: Arc<Event>,
}

impl Session {
    /// The channel data from the `connect` reply (`CHANNEL_DATA` headers, decoded).
    pub fn channel_data(&self) -> &Event {
        &self.channel_data
    }

    /// The controlled channel's `Unique-ID`.
    pub fn uuid(&self) -> Option<String> {
        self.channel_data
            .header("Unique-ID")
            .map(|v| v.into_owned())
    }

    /// `Socket-Mode` of the connect reply.
    pub fn socket_mode(&self) -> SocketMode {
        match self.channel_data.header_bytes("Socket-Mode") {
            Some(b"async") => SocketMode::Async,
            _ => SocketMode::Static,
        }
    }

    /// `true` for `socket ... full` (`Control: full`): without it `api`, `event`, `linger`
    /// and most other commands answer `-ERR command not found`.
    pub fn is_full_control(&self) -> bool {
        self.channel_data.header_bytes("Control") == Some(b"full")
    }

    /// The command API.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }
}

impl std::ops::Deref for Session {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.connection
    }
}

/// The next items of one routed session, from [`Server::recv_routed`].
#[derive(Debug)]
pub struct RoutedItems {
    /// The key the session was routed under.
    pub key: u64,
    /// The session's next items, in its order; empty when only its end is reported.
    pub items: Vec<Incoming>,
    /// The session has ended and every item it queued was handed over before this.
    pub ended: bool,
}

/// Listener counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Sessions handed out by `accept`.
    pub sessions: u64,
    /// Connections closed at once because the session cap was reached.
    pub rejected_over_cap: u64,
    /// Connections whose handshake failed or timed out.
    pub handshake_failures: u64,
}

#[derive(Debug, Default)]
struct Counters {
    sessions: AtomicU64,
    rejected_over_cap: AtomicU64,
    handshake_failures: AtomicU64,
}

/// The outbound listener.
pub struct Server {
    local_addr: SocketAddr,
    ready: tokio::sync::Mutex<mpsc::Receiver<Session>>,
    stop_accepting: watch::Sender<bool>,
    permits: Arc<Semaphore>,
    max_sessions: usize,
    live: Arc<Mutex<Vec<Weak<Shared>>>>,
    counters: Arc<Counters>,
    route: mpsc::Sender<RoutedItems>,
    routed: tokio::sync::Mutex<mpsc::Receiver<RoutedItems>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

impl Server {
    /// Binds and starts accepting.
    pub async fn bind(config: ServerConfig) -> Result<Server, EslError> {
        let listener = TcpListener::bind(&config.bind).await?;
        let local_addr = listener.local_addr()?;
        let max_sessions = config.max_sessions.max(1);
        let permits = Arc::new(Semaphore::new(max_sessions));
        let (ready_sender, ready) = mpsc::channel(max_sessions);
        let stop_accepting = watch::Sender::new(false);
        let live = Arc::new(Mutex::new(Vec::new()));
        let counters = Arc::new(Counters::default());
        let accept = AcceptLoop {
            listener,
            config,
            permits: permits.clone(),
            ready: ready_sender,
            stop: stop_accepting.subscribe(),
            live: live.clone(),
            counters: counters.clone(),
        };
        tokio::spawn(
            accept
                .run()
                .instrument(info_span!("esl_outbound", %local_addr)),
        );
        info!(%local_addr, "outbound listener bound");
        let (route, routed) = mpsc::channel(ROUTED_BATCHES);
        Ok(Server {
            local_addr,
            ready: tokio::sync::Mutex::new(ready),
            stop_accepting,
            permits,
            max_sessions,
            live,
            counters,
            route,
            routed: tokio::sync::Mutex::new(routed),
        })
    }

    /// The bound address (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next session whose handshake completed; `Err(ConnectionClosed)` after shutdown.
    pub async fn accept(&self) -> Result<Session, EslError> {
        self.ready
            .lock()
            .await
            .recv()
            .await
            .ok_or_else(|| EslError::ConnectionClosed("listener shut down".to_owned()))
    }

    /// Like [`accept`](Self::accept), giving up after `timeout` (`Ok(None)`).
    pub async fn accept_timeout(&self, timeout: Duration) -> Result<Option<Session>, EslError> {
        match tokio::time::timeout(timeout, self.accept()).await {
            Err(_) => Ok(None),
            Ok(session) => session.map(Some),
        }
    }

    /// From now on, `session`'s items go to [`recv_routed`](Self::recv_routed) tagged with
    /// `key`, in order, followed by an end marker once it has ended, so one consumer can serve
    /// every session instead of one waiting reader each. Do not also receive from the session.
    /// The route does not keep the session open. Must be called within the tokio runtime.
    pub fn route(&self, session: &Session, key: u64) {
        let shared = session.connection.shared().clone();
        let route = self.route.clone();
        tokio::spawn(async move {
            loop {
                let (items, ended) = match shared
                    .recv_batch_bytes(ROUTED_BATCH_ITEMS, ROUTED_BATCH_BYTES, None)
                    .await
                {
                    Ok(items) => (items, false),
                    Err(_) => (Vec::new(), true),
                };
                // A send fails only when the server is gone: nobody is left to tell.
                if route.send(RoutedItems { key, items, ended }).await.is_err() || ended {
                    return;
                }
            }
        });
    }

    /// The next items of any routed session, waiting up to `timeout`; `None` on timeout.
    pub async fn recv_routed(&self, timeout: Duration) -> Option<RoutedItems> {
        let mut routed = self.routed.lock().await;
        tokio::time::timeout(timeout, routed.recv())
            .await
            .ok()
            .flatten()
    }

    /// Sessions handed out and not yet ended.
    pub fn active_sessions(&self) -> usize {
        self.live_sessions().len()
    }

    fn live_sessions(&self) -> Vec<Arc<Shared>> {
        self.live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|shared| !shared.is_finished())
            .collect()
    }

    /// Counters.
    pub fn stats(&self) -> ServerStats {
        ServerStats {
            sessions: self.counters.sessions.load(Ordering::Relaxed),
            rejected_over_cap: self.counters.rejected_over_cap.load(Ordering::Relaxed),
            handshake_failures: self.counters.handshake_failures.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting, then waits up to `drain` for live sessions (and handshakes) to end;
    /// sessions still alive after that are closed. Returns how many had to be closed.
    pub async fn shutdown(&self, drain: Duration) -> usize {
        self.stop_accepting.send_replace(true);
        let all = u32::try_from(self.max_sessions).unwrap_or(u32::MAX);
        // Every slot free again means every session has ended.
        if let Ok(Ok(_all_free)) = tokio::time::timeout(drain, self.permits.acquire_many(all)).await
        {
            return 0;
        }
        let live = self.live_sessions();
        for shared in &live {
            shared.force_close();
        }
        warn!(
            closed = live.len(),
            "drain deadline passed; sessions closed"
        );
        live.len()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_accepting.send_replace(true);
    }
}

struct AcceptLoop {
    listener: TcpListener,
    config: ServerConfig,
    permits: Arc<Semaphore>,
    ready: mpsc::Sender<Session>,
    stop: watch::Receiver<bool>,
    live: Arc<Mutex<Vec<Weak<Shared>>>>,
    counters: Arc<Counters>,
}

impl AcceptLoop {
    async fn run(mut self) {
        let mut backoff = Duration::from_millis(10);
        loop {
            let accepted = tokio::select! {
                _ = self.stop.wait_for(|stopped| *stopped) => break,
                accepted = self.listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => {
                    backoff = Duration::from_millis(10);
                    accepted
                }
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    warn!(%error, "accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            };
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                self.counters
                    .rejected_over_cap
                    .fetch_add(1, Ordering::Relaxed);
                warn!(%peer, "session cap reached; connection closed");
                drop(stream);
                continue;
            };
            let span = info_span!("esl_session", %peer);
            let handshake = Handshake {
                config: self.config.clone(),
                ready: self.ready.clone(),
                live: self.live.clone(),
                counters: self.counters.clone(),
            };
            tokio::spawn(handshake.run(stream, permit, span.clone()).instrument(span));
        }
        debug!("listener stopped accepting");
    }
}

struct Handshake {
    config: ServerConfig,
    ready: mpsc::Sender<Session>,
    live: Arc<Mutex<Vec<Weak<Shared>>>>,
    counters: Arc<Counters>,
}

impl Handshake {
    async fn run(self, mut stream: TcpStream, permit: OwnedSemaphorePermit, span: tracing::Span) {
        let timeout = self.config.handshake_timeout;
        let outcome = tokio::time::timeout(timeout, self.connect(&mut stream)).await;
        // On failure the counter is updated before `stream` drops, so a peer that sees the
        // close also sees the count.
        let (parser, channel_data) = match outcome {
            Ok(Ok(established)) => established,
            Ok(Err(error)) => {
                self.counters
                    .handshake_failures
                    .fetch_add(1, Ordering::Relaxed);
                warn!(%error, "outbound handshake failed");
                return;
            }
            Err(_) => {
                self.counters
                    .handshake_failures
                    .fetch_add(1, Ordering::Relaxed);
                warn!(
                    timeout_ms = timeout.as_millis(),
                    "outbound handshake timed out"
                );
                return;
            }
        };
        let channel = channel_data.header("Unique-ID").map(|v| v.into_owned());
        debug!(
            uuid = channel.as_deref().unwrap_or("unknown"),
            "outbound session started"
        );
        let connection = Connection::start(
            stream,
            parser,
            self.config.connection.clone(),
            channel,
            None,
            Some(Box::new(permit)),
            span,
        );
        {
            let mut live = self
                .live
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            live.retain(|shared| shared.strong_count() > 0);
            live.push(Arc::downgrade(connection.shared()));
        }
        let session = Session {
            connection,
            channel_data: Arc::new(channel_data),
        };
        self.counters.sessions.fetch_add(1, Ordering::Relaxed);
        if self.ready.send(session).await.is_err() {
            debug!("listener gone; session dropped");
        }
    }

    /// Sends `connect` and reads the channel data reply.
    async fn connect(&self, stream: &mut TcpStream) -> Result<(FrameParser, Event), EslError> {
        stream.set_nodelay(true)?;
        stream.write_all(&command::connect()).await?;
        let mut parser = FrameParser::new(self.config.connection.frame_limits);
        match read_message(stream, &mut parser).await? {
            Some(ServerMessage::CommandReply(reply)) if reply.is_ok() => {
                match reply.into_channel_data() {
                    Some(data) => Ok((parser, data)),
                    None => Err(EslError::CommandFailed(
                        "connect reply without channel data".to_owned(),
                    )),
                }
            }
            Some(ServerMessage::CommandReply(reply)) => {
                Err(EslError::CommandFailed(reply.text().trim_end().to_owned()))
            }
            Some(_) => Err(EslError::Protocol(ProtocolError::UnexpectedFrame {
                expected: "the connect reply",
            })),
            None => Err(EslError::ConnectionClosed(
                "peer closed before the connect reply".to_owned(),
            )),
        }
    }
}
