//! Outbound mode: FreeSWITCH's `socket` application connects to our listener, one socket per
//! call. The listener sends `connect` first with a deadline, parses the channel data and hands
//! out [`Session`]s with the same command API as inbound.
//!
//! Admission has two separate limits, so that silent peers cannot refuse real calls: connections
//! still in the `connect` handshake count against `max_handshakes` only (when all of those are
//! taken the listener stops accepting and new connections wait in the listen backlog), and a
//! session takes one of `max_sessions` only once its handshake has succeeded.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tracing::{debug, info, info_span, warn, Instrument};

use crate::connection::{Connection, ConnectionConfig, Shared};
use crate::error::EslError;
use crate::handshake::connect;
use crate::log_limit::LogLimit;
use crate::proto::{Event, FrameParser};
use crate::queue::Incoming;

/// Batches waiting at once in a server's shared event route ([`Server::route`]); when it is
/// full, sessions keep their items in their own queues (and push back per their policy).
const ROUTED_BATCHES: usize = 1024;
/// Most items in one routed batch: a busy session cannot hold the route for long.
const ROUTED_BATCH_ITEMS: usize = 64;
/// Most frame bytes in one routed batch (at least one item): bounds the route to ~64 MiB.
const ROUTED_BATCH_BYTES: usize = 64 * 1024;
/// A warning repeated by many connections (failed handshakes, refusals over the cap) is logged
/// once per interval, then summarized.
const WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// Settings of the outbound listener.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind, e.g. `127.0.0.1:8084`; port 0 picks a free port.
    pub bind: String,
    /// Most sessions alive at once; further connections are closed at once (before the
    /// handshake while the cap is reached, or right after it if the last slot went meanwhile).
    /// Connections still in the handshake do not count.
    pub max_sessions: usize,
    /// Most connections in the `connect` handshake at once, apart from `max_sessions`. When all
    /// are taken the listener stops accepting until one ends, and new connections wait in the
    /// listen backlog: silent peers can delay a call by up to `handshake_timeout`, but cannot
    /// refuse it or take a session slot.
    pub max_handshakes: usize,
    /// Deadline for the `connect` reply.
    pub handshake_timeout: Duration,
    /// Listen backlog: connections the kernel completes and holds until they are accepted, so
    /// a burst of calls waits there instead of retrying its SYN a second later. Linux caps it
    /// at `net.core.somaxconn` (4096 since Linux 5.4, 128 before; raise it with `sysctl` for a
    /// larger burst).
    pub listen_backlog: u32,
    /// Command, queue and liveness settings of each session.
    pub connection: ConnectionConfig,
}

impl ServerConfig {
    /// Defaults: 1024 sessions, 1024 handshakes at once, 5 s handshake, backlog 4096.
    pub fn new(bind: impl Into<String>) -> ServerConfig {
        ServerConfig {
            bind: bind.into(),
            max_sessions: 1024,
            max_handshakes: 1024,
            handshake_timeout: Duration::from_secs(5),
            listen_backlog: 4096,
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

    /// Splits the session into its command API and its channel data, for a holder that keeps
    /// the channel data elsewhere (the JNI bridge hands it to Java): the connection then holds
    /// no copy of it, which is most of what an idle session costs. The data is copied only if
    /// a clone of this session still shares it.
    pub fn into_parts(self) -> (Connection, Event) {
        let channel_data =
            Arc::try_unwrap(self.channel_data).unwrap_or_else(|shared| (*shared).clone());
        (self.connection, channel_data)
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

    /// Takes over a socket that FreeSWITCH's `socket` application connected to an accept loop
    /// of the caller's own (libesl's `esl_attach_handle`): sends `connect` within
    /// `handshake_timeout` and starts the session on it. The socket is closed when the session
    /// ends. Must be called within the tokio runtime.
    pub async fn adopt(
        socket: std::net::TcpStream,
        config: ConnectionConfig,
        handshake_timeout: Duration,
    ) -> Result<Session, EslError> {
        let peer = socket.peer_addr()?;
        socket.set_nonblocking(true)?;
        let mut stream = TcpStream::from_std(socket)?;
        let span = info_span!("esl_session", %peer);
        let (parser, channel_data) =
            tokio::time::timeout(handshake_timeout, connect(&mut stream, config.frame_limits))
                .instrument(span.clone())
                .await
                .map_err(|_| EslError::Timeout {
                    what: "connect reply",
                    after: handshake_timeout,
                })??;
        Ok(Session::start(
            stream,
            parser,
            channel_data,
            config,
            None,
            span,
        ))
    }

    /// Starts the reader and writer of an established session.
    fn start(
        stream: TcpStream,
        parser: FrameParser,
        channel_data: Event,
        config: ConnectionConfig,
        guard: Option<Box<dyn Send>>,
        span: tracing::Span,
    ) -> Session {
        let channel = channel_data.header("Unique-ID").map(|v| v.into_owned());
        debug!(
            parent: &span,
            uuid = channel.as_deref().unwrap_or("unknown"),
            "outbound session started"
        );
        let connection = Connection::start(stream, parser, config, channel, None, guard, span);
        Session {
            connection,
            channel_data: Arc::new(channel_data),
        }
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
    /// Connections closed because the session cap was reached.
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
    handshake_permits: Arc<Semaphore>,
    max_handshakes: usize,
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
        let listener = listen(&config.bind, config.listen_backlog).await?;
        let local_addr = listener.local_addr()?;
        let max_sessions = config.max_sessions.max(1);
        let permits = Arc::new(Semaphore::new(max_sessions));
        let max_handshakes = config.max_handshakes.max(1);
        let handshake_permits = Arc::new(Semaphore::new(max_handshakes));
        let (ready_sender, ready) = mpsc::channel(max_sessions);
        let stop_accepting = watch::Sender::new(false);
        let live = Arc::new(Mutex::new(Vec::new()));
        let counters = Arc::new(Counters::default());
        let accept = AcceptLoop {
            listener,
            permits: permits.clone(),
            handshake_permits: handshake_permits.clone(),
            stop: stop_accepting.subscribe(),
            handshake: Handshake {
                config,
                permits: permits.clone(),
                ready: ready_sender,
                live: live.clone(),
                counters: counters.clone(),
                warnings: Warnings {
                    accept_failed: LogLimit::new(WARNING_INTERVAL),
                    over_cap: LogLimit::new(WARNING_INTERVAL),
                    handshake_failed: LogLimit::new(WARNING_INTERVAL),
                },
            },
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
            handshake_permits,
            max_handshakes,
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

    /// From now on, `session`'s items (a [`Session`]'s connection) go to [`recv_routed`](Self::recv_routed) tagged with
    /// `key`, in order, followed by an end marker once it has ended, so one consumer can serve
    /// every session instead of one waiting reader each. Do not also receive from the session.
    /// The route does not keep the session open. Must be called within the tokio runtime.
    pub fn route(&self, session: &Connection, key: u64) {
        let shared = session.shared().clone();
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

    /// Stops accepting, then waits up to `drain` for handshakes and live sessions to end;
    /// sessions still alive after that are closed. Returns how many had to be closed.
    pub async fn shutdown(&self, drain: Duration) -> usize {
        self.stop_accepting.send_replace(true);
        let deadline = tokio::time::Instant::now() + drain;
        let every = |slots: usize| u32::try_from(slots).unwrap_or(u32::MAX);
        // Every slot free again means every handshake, then every session, has ended. A
        // handshake that succeeds takes its session slot before it frees its handshake slot.
        let drained = async {
            let handshakes = self
                .handshake_permits
                .acquire_many(every(self.max_handshakes))
                .await;
            let sessions = self.permits.acquire_many(every(self.max_sessions)).await;
            handshakes.is_ok() && sessions.is_ok()
        };
        if let Ok(true) = tokio::time::timeout_at(deadline, drained).await {
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

/// Binds `bind` (the first of its addresses that binds) with an explicit listen backlog.
async fn listen(bind: &str, backlog: u32) -> Result<TcpListener, EslError> {
    let mut last_error = None;
    for address in tokio::net::lookup_host(bind).await? {
        let socket = if address.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // As `TcpListener::bind` does: a restarted server can bind while old sockets linger.
        socket.set_reuseaddr(true)?;
        match socket.bind(address).and_then(|()| socket.listen(backlog)) {
            Ok(listener) => return Ok(listener),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error
        .unwrap_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{bind} resolves to no address"),
            )
        })
        .into())
}

/// The per-server warning limits.
#[derive(Clone)]
struct Warnings {
    accept_failed: Arc<LogLimit>,
    over_cap: Arc<LogLimit>,
    handshake_failed: Arc<LogLimit>,
}

struct AcceptLoop {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    handshake_permits: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
    /// The template each accepted connection's handshake is cloned from.
    handshake: Handshake,
}

impl AcceptLoop {
    async fn run(mut self) {
        let mut backoff = Duration::from_millis(10);
        loop {
            // Only as many connections as handshake slots are taken from the backlog.
            let handshake_slot = tokio::select! {
                _ = self.stop.wait_for(|stopped| *stopped) => break,
                slot = self.handshake_permits.clone().acquire_owned() => slot,
            };
            let Ok(handshake_slot) = handshake_slot else {
                break;
            };
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
                    self.handshake.warnings.accept_failed.hit(
                        || warn!(%error, "accept failed"),
                        |held_back| warn!(held_back, interval = ?WARNING_INTERVAL, "accept kept failing"),
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            };
            if self.permits.available_permits() == 0 {
                self.handshake.reject_over_cap(stream, peer);
                continue;
            }
            let span = info_span!("esl_session", %peer);
            let handshake = self.handshake.clone();
            tokio::spawn(
                handshake
                    .run(stream, peer, handshake_slot, span.clone())
                    .instrument(span),
            );
        }
        debug!("listener stopped accepting");
    }
}

#[derive(Clone)]
struct Handshake {
    config: ServerConfig,
    permits: Arc<Semaphore>,
    ready: mpsc::Sender<Session>,
    live: Arc<Mutex<Vec<Weak<Shared>>>>,
    counters: Arc<Counters>,
    warnings: Warnings,
}

impl Handshake {
    async fn run(
        self,
        mut stream: TcpStream,
        peer: SocketAddr,
        handshake_slot: OwnedSemaphorePermit,
        span: tracing::Span,
    ) {
        let timeout = self.config.handshake_timeout;
        let limits = self.config.connection.frame_limits;
        let outcome = tokio::time::timeout(timeout, connect(&mut stream, limits)).await;
        // On failure the counter is updated before `stream` drops, so a peer that sees the
        // close also sees the count.
        let (parser, channel_data) = match outcome {
            Ok(Ok(established)) => established,
            Ok(Err(error)) => {
                self.handshake_failed(move || warn!(%peer, %error, "outbound handshake failed"));
                return;
            }
            Err(_) => {
                self.handshake_failed(move || {
                    warn!(%peer, timeout_ms = timeout.as_millis(), "outbound handshake timed out")
                });
                return;
            }
        };
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            // The last session slot went while this connection was in its handshake.
            self.reject_over_cap(stream, peer);
            return;
        };
        drop(handshake_slot);
        let session = Session::start(
            stream,
            parser,
            channel_data,
            self.config.connection.clone(),
            Some(Box::new(permit)),
            span,
        );
        {
            let mut live = self
                .live
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            live.retain(|shared| shared.strong_count() > 0);
            live.push(Arc::downgrade(session.connection.shared()));
        }
        self.counters.sessions.fetch_add(1, Ordering::Relaxed);
        if self.ready.send(session).await.is_err() {
            debug!("listener gone; session dropped");
        }
    }

    fn handshake_failed(&self, log: impl FnOnce()) {
        self.counters
            .handshake_failures
            .fetch_add(1, Ordering::Relaxed);
        self.warnings.handshake_failed.hit(log, |held_back| {
            warn!(
                held_back,
                interval = ?WARNING_INTERVAL,
                "more outbound handshakes failed (see handshake_failures)"
            );
        });
    }

    /// Closes a connection because the session cap is reached, so FreeSWITCH's call fails
    /// at once instead of waiting on a listener that cannot take it.
    fn reject_over_cap(&self, stream: TcpStream, peer: SocketAddr) {
        self.counters
            .rejected_over_cap
            .fetch_add(1, Ordering::Relaxed);
        drop(stream);
        let max_sessions = self.config.max_sessions;
        self.warnings.over_cap.hit(
            || warn!(%peer, max_sessions, "session cap reached; connection closed"),
            |held_back| {
                warn!(
                    held_back,
                    interval = ?WARNING_INTERVAL,
                    "more connections closed at the session cap (see rejected_over_cap)"
                );
            },
        );
    }
}
