//! Sans-IO Event Socket protocol: framing, message classification, events and command
//! encoding. Nothing here does I/O or depends on tokio.

pub mod command;
mod event;
mod frame;
mod json;
mod message;
pub mod url;
mod xml;

pub use event::{split_array, Event, EventFormat, HeaderIndex, ARRAY_PREFIX, INDEXED_HEADERS};
pub use frame::{Frame, FrameLimits, FrameParser, HeaderSpan};
pub use message::{ApiResponse, DisconnectNotice, Disposition, LogLine, Reply, ServerMessage};
