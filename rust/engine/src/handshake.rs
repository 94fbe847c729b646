//! The exchanges before a connection's reader task exists: the inbound `auth`, the outbound
//! `connect`, and the whole-message reads they and a reconnect's subscription replay use.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::trace;

use crate::error::{EslError, ProtocolError};
use crate::proto::command;
use crate::proto::{Event, FrameLimits, FrameParser, ServerMessage};

/// Bytes made room for before each socket read during a handshake (a connect reply with its
/// channel data is 3-8 KiB: the buffer grows once at most).
const HANDSHAKE_READ_CHUNK: usize = 4 * 1024;

/// Reads until one complete server message is available, before the reader task exists
/// (handshakes); `None` when the peer closed first.
pub(crate) async fn read_message(
    stream: &mut TcpStream,
    parser: &mut FrameParser,
) -> Result<Option<ServerMessage>, EslError> {
    loop {
        if let Some(frame) = parser.next_frame()? {
            return Ok(Some(ServerMessage::from_frame(frame)?));
        }
        if stream
            .read_buf(parser.read_buffer(HANDSHAKE_READ_CHUNK))
            .await?
            == 0
        {
            return Ok(None);
        }
    }
}

/// Writes a command before the reader task exists, with the same TRACE wire line (password
/// redacted) that the outbox gives every later command.
pub(crate) async fn send(stream: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    trace!(command = %command::redacted(bytes), "sent");
    stream.write_all(bytes).await
}

/// Inbound: waits for `auth/request`, then sends `auth` (or `userauth` when `user` is set) and
/// checks the reply.
pub(crate) async fn authenticate(
    stream: &mut TcpStream,
    parser: &mut FrameParser,
    user: Option<&str>,
    password: &str,
) -> Result<(), EslError> {
    match read_message(stream, parser).await? {
        Some(ServerMessage::AuthRequest) => {}
        other => return Err(closed_before("auth/request", other)),
    }
    let auth = match user {
        Some(user) => command::userauth(user, password)?,
        None => command::auth(password)?,
    };
    send(stream, &auth).await?;
    match read_message(stream, parser).await? {
        Some(ServerMessage::CommandReply(reply)) if reply.is_ok() => Ok(()),
        Some(ServerMessage::CommandReply(reply)) => {
            Err(EslError::Auth(reply.text().trim_end().to_owned()))
        }
        other => Err(closed_before("the auth reply", other)),
    }
}

/// The error for a handshake that got `message` instead of what it waited for (`what`).
fn closed_before(what: &str, message: Option<ServerMessage>) -> EslError {
    match message {
        Some(ServerMessage::RudeRejection(body)) => {
            EslError::Rejected(String::from_utf8_lossy(&body).trim_end().to_owned())
        }
        Some(ServerMessage::DisconnectNotice(notice)) => EslError::ConnectionClosed(format!(
            "server disconnected before {what}: {}",
            String::from_utf8_lossy(&notice.body).trim_end()
        )),
        None => EslError::ConnectionClosed(format!("server closed the connection before {what}")),
        Some(_) => EslError::Protocol(ProtocolError::UnexpectedFrame {
            expected: "auth/request or the auth reply",
        }),
    }
}

/// Outbound: sends `connect` and reads the channel data reply.
pub(crate) async fn connect(
    stream: &mut TcpStream,
    limits: FrameLimits,
) -> Result<(FrameParser, Event), EslError> {
    stream.set_nodelay(true)?;
    send(stream, &command::connect()).await?;
    let mut parser = FrameParser::new(limits);
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
