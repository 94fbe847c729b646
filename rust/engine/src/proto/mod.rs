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
pub use frame::{
    push_span_table, span_entry_bytes, Frame, FrameLimits, FrameParser, HeaderSpan, SpanTable,
    NARROW_SPAN_DATA_MAX,
};
pub use message::{ApiResponse, DisconnectNotice, Disposition, LogLine, Reply, ServerMessage};
