//! Errors: [`ProtocolError`] (bad bytes from the peer), [`CommandError`] (a command that cannot
//! be encoded safely) and [`EslError`], the one error type of the connection API, whose
//! [`kind`](EslError::kind) is the small stable classification the JNI layer maps to Java.

use std::time::Duration;

/// The peer sent bytes that cannot be framed or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The header block grew past [`FrameLimits::max_header_bytes`](crate::proto::FrameLimits).
    #[error("header block larger than {limit} bytes")]
    HeaderTooLarge {
        /// The configured cap.
        limit: usize,
    },
    /// `Content-Length` announced more than [`FrameLimits::max_body_bytes`](crate::proto::FrameLimits).
    #[error("body of {length} bytes exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The announced length.
        length: usize,
        /// The configured cap.
        limit: usize,
    },
    /// `Content-Length` is not a non-negative decimal number.
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// Two `Content-Length` headers with different values: the frame length is ambiguous.
    #[error("conflicting Content-Length headers")]
    ConflictingContentLength,
    /// A frame arrived that the protocol does not allow at this point.
    #[error("unexpected frame: expected {expected}")]
    UnexpectedFrame {
        /// What was expected instead.
        expected: &'static str,
    },
    /// An event body (JSON or XML) could not be decoded.
    #[error("malformed {format} event: {reason}")]
    MalformedEvent {
        /// `json` or `xml`.
        format: &'static str,
        /// What was wrong, without echoing the data.
        reason: &'static str,
    },
}

/// A command could not be encoded without changing its meaning on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// A `\r` or `\n` where it would end the line or the message (command injection).
    #[error("{part} must not contain CR or LF")]
    LineBreak {
        /// Which part of the command.
        part: &'static str,
    },
    /// A NUL byte: the server reads the message as a C string and would cut it there.
    #[error("{part} must not contain a NUL byte")]
    Nul {
        /// Which part of the command.
        part: &'static str,
    },
    /// A part that must be one word contains whitespace.
    #[error("{part} must not contain whitespace")]
    Whitespace {
        /// Which part of the command.
        part: &'static str,
    },
    /// A required part is empty.
    #[error("{part} must not be empty")]
    Empty {
        /// Which part of the command.
        part: &'static str,
    },
    /// A part is longer than the server accepts.
    #[error("{part} is longer than {max} bytes")]
    TooLong {
        /// Which part of the command.
        part: &'static str,
        /// The maximum length.
        max: usize,
    },
    /// A header that the encoder manages itself (such as `Content-Length`) was given.
    #[error("header {name} is set by the encoder")]
    ReservedHeader {
        /// The header name.
        name: &'static str,
    },
}

/// Stable classification of [`EslError`]; the JNI layer maps it to Java exception types.
/// Keep in sync with the Java `EslException.Kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Socket error other than the ones below.
    Io,
    /// The TCP connection was refused.
    Refused,
    /// A deadline passed (connect, auth, command, handshake, liveness).
    Timeout,
    /// Wrong password or user.
    Auth,
    /// The server rejected the connection (ACL: `text/rude-rejection`).
    Rejected,
    /// The connection is closed; the outcome of a pending command is unknown.
    ConnectionClosed,
    /// The peer violated the protocol.
    Protocol,
    /// The command was refused before sending (injection, empty or malformed part).
    InvalidCommand,
    /// The server answered `-ERR ...`, or the awaited work failed (channel hung up).
    CommandFailed,
    /// A local limit was reached (too many commands in flight, session cap).
    Overloaded,
}

/// Error of every connection operation.
#[derive(Debug, thiserror::Error)]
pub enum EslError {
    /// Socket error.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The server refused the TCP connection.
    #[error("connection refused by {0}")]
    Refused(String),
    /// A deadline passed.
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// What was being waited for.
        what: &'static str,
        /// The deadline that passed.
        after: Duration,
    },
    /// The server did not accept the credentials; carries the server's reply text.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The server rejected the connection; carries the server's message.
    #[error("connection rejected by server: {0}")]
    Rejected(String),
    /// The connection closed; a pending command's outcome is unknown.
    #[error("connection closed, outcome unknown: {0}")]
    ConnectionClosed(String),
    /// The peer broke the protocol.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The command was not sent because it could not be encoded safely.
    #[error("invalid command: {0}")]
    InvalidCommand(#[from] CommandError),
    /// The server answered with an error, or the awaited work failed.
    #[error("command failed: {0}")]
    CommandFailed(String),
    /// A local limit was reached.
    #[error("overloaded: {0}")]
    Overloaded(&'static str),
}

impl EslError {
    /// The stable classification of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EslError::Io(_) => ErrorKind::Io,
            EslError::Refused(_) => ErrorKind::Refused,
            EslError::Timeout { .. } => ErrorKind::Timeout,
            EslError::Auth(_) => ErrorKind::Auth,
            EslError::Rejected(_) => ErrorKind::Rejected,
            EslError::ConnectionClosed(_) => ErrorKind::ConnectionClosed,
            EslError::Protocol(_) => ErrorKind::Protocol,
            EslError::InvalidCommand(_) => ErrorKind::InvalidCommand,
            EslError::CommandFailed(_) => ErrorKind::CommandFailed,
            EslError::Overloaded(_) => ErrorKind::Overloaded,
        }
    }
}
