//! Inbound mode: connect to FreeSWITCH's event socket (port 8021) and authenticate.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};
use tracing::{debug, info_span, Instrument};

use crate::connection::{Connection, ConnectionConfig, Reconnect, ReconnectPolicy};
use crate::error::EslError;
use crate::handshake;
use crate::proto::FrameParser;

/// A password that never appears in `Debug` output, logs or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Password {
        Password(password.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Settings of an inbound connection.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `host:port`, e.g. `127.0.0.1:8021`.
    pub address: String,
    /// The event socket password.
    pub password: Password,
    /// `user@domain` for `userauth`; `None` uses `auth`.
    pub user: Option<String>,
    /// Deadline for the TCP connect.
    pub connect_timeout: Duration,
    /// Deadline for `auth/request` and for the reply to `auth`.
    pub auth_timeout: Duration,
    /// Reconnect after an unexpected disconnect; `None` ends the client instead.
    pub reconnect: Option<ReconnectPolicy>,
    /// Command, queue and liveness settings.
    pub connection: ConnectionConfig,
    /// A name for this server in log lines (span field `server`, next to `address`).
    pub server_name: Option<String>,
}

impl ClientConfig {
    /// Defaults: 5 s connect, 10 s auth, no reconnect.
    pub fn new(address: impl Into<String>, password: Password) -> ClientConfig {
        ClientConfig {
            address: address.into(),
            password,
            user: None,
            connect_timeout: Duration::from_secs(5),
            auth_timeout: Duration::from_secs(10),
            reconnect: None,
            connection: ConnectionConfig::default(),
            server_name: None,
        }
    }
}

async fn with_deadline<T>(
    what: &'static str,
    after: Duration,
    work: impl std::future::Future<Output = Result<T, EslError>>,
) -> Result<T, EslError> {
    tokio::time::timeout(after, work)
        .await
        .map_err(|_| EslError::Timeout { what, after })?
}

/// Connects to the first resolved address that accepts, with the receive buffer capped (before
/// the handshake, so the advertised window matches) when asked.
async fn connect_stream(address: &str, receive_buffer: Option<u32>) -> std::io::Result<TcpStream> {
    let Some(size) = receive_buffer else {
        return refuse_self_connection(TcpStream::connect(address).await?);
    };
    let mut last_error = None;
    for target in tokio::net::lookup_host(address).await? {
        let socket = if target.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_recv_buffer_size(size)?;
        match socket.connect(target).await {
            Ok(stream) => return refuse_self_connection(stream),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolved to nothing",
        )
    }))
}

/// Linux lets a connect to a local port in the ephemeral range that nobody listens on pick that
/// same port as its source and connect to itself (TCP simultaneous open). A reconnect loop would
/// then wait for an auth/request that never comes while holding the port the server needs to
/// restart on, so treat it as the refusal it really is.
fn refuse_self_connection(stream: TcpStream) -> std::io::Result<TcpStream> {
    if stream.local_addr()? == stream.peer_addr()? {
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connected to itself: nothing listens on that port",
        ));
    }
    Ok(stream)
}

/// Connects and authenticates; returns the socket and the parser holding any bytes that
/// arrived after the auth reply.
pub(crate) async fn establish(config: &ClientConfig) -> Result<(TcpStream, FrameParser), EslError> {
    let connect = async {
        connect_stream(&config.address, config.connection.receive_buffer_size)
            .await
            .map_err(|error| {
                if error.kind() == std::io::ErrorKind::ConnectionRefused {
                    EslError::Refused(config.address.clone())
                } else {
                    EslError::Io(error)
                }
            })
    };
    let mut stream = with_deadline("connect", config.connect_timeout, connect).await?;
    stream.set_nodelay(true)?;
    let mut parser = FrameParser::new(config.connection.frame_limits);
    let authenticate = handshake::authenticate(
        &mut stream,
        &mut parser,
        config.user.as_deref(),
        config.password.expose(),
    );
    with_deadline("authentication", config.auth_timeout, authenticate).await?;
    Ok((stream, parser))
}

/// An authenticated inbound connection. Derefs to [`Connection`] for the command API.
#[derive(Debug, Clone)]
pub struct Client {
    connection: Connection,
}

impl Client {
    /// Connects, authenticates and starts the reader. Errors: [`EslError::Refused`],
    /// [`EslError::Timeout`], [`EslError::Auth`], [`EslError::Rejected`], ...
    pub async fn connect(config: ClientConfig) -> Result<Client, EslError> {
        let span = info_span!(
            "esl_inbound",
            address = %config.address,
            server = tracing::field::Empty
        );
        if let Some(name) = &config.server_name {
            span.record("server", name.as_str());
        }
        debug!(parent: &span, "connecting");
        let (stream, parser) = establish(&config).instrument(span.clone()).await?;
        let reconnect = config.reconnect.clone().map(|policy| {
            let config = Arc::new(config.clone());
            Reconnect {
                policy,
                establish: Box::new(move || {
                    let config = config.clone();
                    Box::pin(async move { establish(&config).await })
                }),
            }
        });
        let connection = Connection::start(
            stream,
            parser,
            config.connection.clone(),
            None,
            reconnect,
            None,
            span,
        );
        Ok(Client { connection })
    }

    /// The command API.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }
}

impl std::ops::Deref for Client {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.connection
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let mut config = ClientConfig::new("127.0.0.1:8021", Password::new("s3cret-pw"));
        config.user = Some("1000@default".to_owned());
        let printed = format!("{config:?}");
        assert!(!printed.contains("s3cret-pw"), "{printed}");
        assert!(printed.contains("Password(***)"));
    }

    #[tokio::test]
    async fn a_socket_connected_to_itself_is_refused_and_a_real_peer_is_not() -> std::io::Result<()>
    {
        // Binding the source port first and connecting to it forces the simultaneous open that
        // an unlucky ephemeral pick produces.
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let own_address = socket.local_addr()?;
        let looped = socket.connect(own_address).await?;
        let refused = refuse_self_connection(looped).map(|_| ());
        assert_eq!(
            refused.map_err(|error| error.kind()),
            Err(std::io::ErrorKind::ConnectionRefused)
        );

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let peer = TcpStream::connect(listener.local_addr()?).await?;
        assert!(refuse_self_connection(peer).is_ok());
        Ok(())
    }
}
