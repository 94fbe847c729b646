//! esl4j engine: FreeSWITCH Event Socket protocol and connections.
//!
//! Layout:
//! - [`proto`]: sans-IO protocol. [`proto::FrameParser`] frames bytes split anywhere,
//!   [`proto::ServerMessage`] classifies frames, [`proto::Event`] decodes plain/JSON/XML
//!   events into one flat buffer, [`proto::command`] encodes every command and refuses
//!   CR/LF injection.
//! - [`error`]: [`EslError`] and its stable [`ErrorKind`].

pub mod error;
pub mod proto;

pub use error::{CommandError, ErrorKind, EslError, ProtocolError};
