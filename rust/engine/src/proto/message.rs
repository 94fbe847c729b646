//! Classification of server frames by `Content-Type` into [`ServerMessage`].

use std::borrow::Cow;

use super::event::Event;
use super::frame::Frame;
use crate::error::ProtocolError;

/// Reply to a command (`command/reply`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    text: String,
    frame: Frame,
    channel_data: Option<Event>,
}

impl Reply {
    /// The `Reply-Text`, URL-decoded for the outbound `connect` reply (which reads `+OK\n`).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// `true` when the text starts with `+OK`.
    pub fn is_ok(&self) -> bool {
        self.text.starts_with("+OK")
    }

    /// A header of the reply envelope (`Job-UUID`, `Allowed-Events`, ...), raw.
    pub fn header(&self, name: &str) -> Option<Cow<'_, str>> {
        self.frame.header(name)
    }

    /// `Job-UUID` of a `bgapi` reply.
    pub fn job_uuid(&self) -> Option<Cow<'_, str>> {
        self.header("Job-UUID")
    }

    /// The channel data (`CHANNEL_DATA` event) carried by the reply to `connect`.
    pub fn channel_data(&self) -> Option<&Event> {
        self.channel_data.as_ref()
    }

    /// Takes the channel data out of the reply.
    pub fn into_channel_data(self) -> Option<Event> {
        self.channel_data
    }

    /// The frame as received.
    pub fn frame(&self) -> &Frame {
        &self.frame
    }
}

/// Output of an `api` command (`api/response`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    body: Vec<u8>,
}

impl ApiResponse {
    /// Creates a response from its body.
    pub fn new(body: Vec<u8>) -> ApiResponse {
        ApiResponse { body }
    }

    /// Exact output bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Output as text (invalid UTF-8 replaced).
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// `false` when the output starts with `-ERR` (`-ERR no reply`, unknown command, ...).
    pub fn is_ok(&self) -> bool {
        !self.body.starts_with(b"-ERR")
    }

    /// Takes the output bytes.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }
}

/// What a disconnect notice announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The socket is about to close (`Content-Disposition: disconnect`, or none).
    Disconnect,
    /// The channel is gone but the socket stays open (`Content-Disposition: linger`).
    Linger,
}

/// `text/disconnect-notice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisconnectNotice {
    /// Disconnect or linger.
    pub disposition: Disposition,
    /// `Linger-Time` in seconds; `-1` means forever.
    pub linger_time: Option<i64>,
    /// `Controlled-Session-UUID`: the channel this socket controlled.
    pub controlled_session_uuid: Option<String>,
    /// `Channel-Name` (linger notices).
    pub channel_name: Option<String>,
    /// The message, e.g. `Disconnected, goodbye.\n...`.
    pub body: Vec<u8>,
}

/// `log/data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `Log-Level` (0 = console ... 7 = debug).
    pub level: Option<u8>,
    /// `Log-File`.
    pub file: Option<String>,
    /// `Log-Func`.
    pub function: Option<String>,
    /// `Log-Line`.
    pub line: Option<u32>,
    /// `User-Data` (often the channel UUID).
    pub user_data: Option<String>,
    /// The log text.
    pub body: Vec<u8>,
}

/// One classified server frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// `auth/request`: the server waits for `auth`.
    AuthRequest,
    /// `command/reply`.
    CommandReply(Reply),
    /// `api/response`.
    ApiResponse(ApiResponse),
    /// `text/event-plain`, `text/event-json` or `text/event-xml`.
    Event(Event),
    /// `text/disconnect-notice`.
    DisconnectNotice(DisconnectNotice),
    /// `text/rude-rejection` (ACL deny); carries the message.
    RudeRejection(Vec<u8>),
    /// `log/data`.
    Log(LogLine),
    /// Any other or missing content type, surfaced untouched.
    Unknown(Frame),
}

fn owned_header(frame: &Frame, name: &str) -> Option<String> {
    frame.header(name).map(Cow::into_owned)
}

fn parsed_header<T: std::str::FromStr>(frame: &Frame, name: &str) -> Option<T> {
    frame
        .header(name)
        .and_then(|value| value.trim().parse().ok())
}

impl ServerMessage {
    /// Classifies a frame. Fails only when an event body in JSON or XML is malformed; the
    /// stream itself stays usable.
    pub fn from_frame(frame: Frame) -> Result<ServerMessage, ProtocolError> {
        // A `text/event-plain` frame: the parser split its event's lines already.
        let frame = match Event::from_plain_frame(frame) {
            Ok(event) => return Ok(ServerMessage::Event(event)),
            Err(frame) => frame,
        };
        let Some(content_type) = frame.header_bytes("Content-Type") else {
            return Ok(ServerMessage::Unknown(frame));
        };
        let message = match content_type {
            b"text/event-json" => ServerMessage::Event(Event::from_json(frame.body())?),
            b"text/event-xml" => ServerMessage::Event(Event::from_xml(frame.body())?),
            b"command/reply" => ServerMessage::CommandReply(reply(frame)),
            b"api/response" => ServerMessage::ApiResponse(ApiResponse::new(frame.into_body())),
            b"auth/request" => ServerMessage::AuthRequest,
            b"text/disconnect-notice" => {
                let disposition = match frame.header_bytes("Content-Disposition") {
                    Some(value) if value.eq_ignore_ascii_case(b"linger") => Disposition::Linger,
                    _ => Disposition::Disconnect,
                };
                ServerMessage::DisconnectNotice(DisconnectNotice {
                    disposition,
                    linger_time: parsed_header(&frame, "Linger-Time"),
                    controlled_session_uuid: owned_header(&frame, "Controlled-Session-UUID"),
                    channel_name: owned_header(&frame, "Channel-Name"),
                    body: frame.into_body(),
                })
            }
            b"text/rude-rejection" => ServerMessage::RudeRejection(frame.into_body()),
            b"log/data" => ServerMessage::Log(LogLine {
                level: parsed_header(&frame, "Log-Level"),
                file: owned_header(&frame, "Log-File"),
                function: owned_header(&frame, "Log-Func"),
                line: parsed_header(&frame, "Log-Line"),
                user_data: owned_header(&frame, "User-Data"),
                body: frame.into_body(),
            }),
            _ => ServerMessage::Unknown(frame),
        };
        Ok(message)
    }
}

/// A `command/reply`; the one that carries `Event-Name` is the outbound `connect` reply,
/// whose whole header block is a URL-encoded `CHANNEL_DATA` event.
fn reply(frame: Frame) -> Reply {
    if frame.header_bytes("Event-Name").is_some() {
        let channel_data = Event::from_encoded_spans(frame.data(), frame.spans());
        let text = channel_data
            .header("Reply-Text")
            .map(Cow::into_owned)
            .unwrap_or_default();
        return Reply {
            text,
            frame,
            channel_data: Some(channel_data),
        };
    }
    let text = frame
        .header("Reply-Text")
        .map(Cow::into_owned)
        .unwrap_or_default();
    Reply {
        text,
        frame,
        channel_data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::FrameParser;

    fn classify(bytes: &[u8]) -> ServerMessage {
        let frame = Frame::parse_one(bytes).expect("valid").expect("complete");
        ServerMessage::from_frame(frame).expect("classifiable")
    }

    #[test]
    fn connect_reply_is_decoded() {
        let message = classify(
            b"Event-Name: CHANNEL_DATA\nUnique-ID: abc\nCaller-Caller-ID-Name: A%20B\n\
              Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\n\
              Control: full\n\n",
        );
        let ServerMessage::CommandReply(reply) = message else {
            panic!("expected a reply, got {message:?}");
        };
        assert_eq!(reply.text(), "+OK\n");
        assert!(reply.is_ok());
        let data = reply.channel_data().expect("channel data");
        assert_eq!(data.header("caller-caller-id-name").as_deref(), Some("A B"));
        assert_eq!(data.header("Socket-Mode").as_deref(), Some("async"));
    }

    /// The parser splits a plain event's lines while it completes the frame: every byte of the
    /// stream fed alone, the event must be the one its text describes.
    #[test]
    fn plain_event_split_at_every_byte() {
        let body = b"Event-Name: CUSTOM\nTime: 12:30:00\nURL: http%3A//x%3A80/a%20b\n\
            Empty:\nSpaces:   \nColon::x\nPercent: 100%\nContent-Length: 4\n\nab:\n";
        let mut stream = format!(
            "Content-Length: {}\nContent-Type: text/event-plain\n\n",
            body.len()
        )
        .into_bytes();
        stream.extend_from_slice(body);
        let mut parser = FrameParser::default();
        let mut frames = Vec::new();
        for byte in &stream {
            parser.feed(std::slice::from_ref(byte));
            frames.extend(parser.next_frame().expect("valid"));
        }
        assert_eq!(frames.len(), 1);
        let frame = frames.pop().expect("frame");
        assert_eq!(frame.body(), body);
        let ServerMessage::Event(event) = ServerMessage::from_frame(frame).expect("event") else {
            panic!("not an event");
        };
        let headers: Vec<(&[u8], &[u8])> = event.headers().collect();
        assert_eq!(
            headers,
            [
                (&b"Event-Name"[..], &b"CUSTOM"[..]),
                (b"Time", b"12:30:00"),
                (b"URL", b"http://x:80/a b"),
                (b"Empty", b""),
                (b"Spaces", b""),
                (b"Colon", b":x"),
                (b"Percent", b"100%"),
                (b"Content-Length", b"4"),
            ]
        );
        assert_eq!(event.body(), Some(&b"ab:\n"[..]));
        assert!(!event.may_hold_arrays());
    }

    /// A plain event is recognised by the envelope's first `Content-Type`, as the classification
    /// reads it; an empty one is an event without headers.
    #[test]
    fn plain_event_envelopes() {
        let empty = classify(b"Content-Type: text/event-plain\nContent-Length: 0\n\n");
        let ServerMessage::Event(event) = empty else {
            panic!("expected an event, got {empty:?}");
        };
        assert!(event.is_empty());
        assert_eq!(event.body(), None);
        let no_length = classify(b"Content-Type: text/event-plain\n\n");
        assert!(matches!(no_length, ServerMessage::Event(event) if event.is_empty()));
        let second = classify(
            b"Content-Type: text/whatever\nContent-Type: text/event-plain\nContent-Length: 9\n\n\
              A: b\nC: d",
        );
        let ServerMessage::Unknown(frame) = second else {
            panic!("expected an unknown frame, got {second:?}");
        };
        assert_eq!(
            frame.headers().count(),
            3,
            "the body's lines are no envelope headers"
        );
        assert_eq!(frame.body(), b"A: b\nC: d");
        let mut parser = FrameParser::default();
        parser
            .feed(b"Content-Type: text/event-plain\nContent-Length: 2\nContent-Length: 3\n\nA: b");
        assert_eq!(
            parser.next_frame(),
            Err(crate::error::ProtocolError::ConflictingContentLength)
        );
    }

    #[test]
    fn linger_notice() {
        let message = classify(
            b"Content-Type: text/disconnect-notice\nControlled-Session-UUID: u1\n\
              Content-Disposition: linger\nChannel-Name: loopback/x\nLinger-Time: -1\n\
              Content-Length: 0\n\n",
        );
        let ServerMessage::DisconnectNotice(notice) = message else {
            panic!("expected a notice, got {message:?}");
        };
        assert_eq!(notice.disposition, Disposition::Linger);
        assert_eq!(notice.linger_time, Some(-1));
        assert_eq!(notice.controlled_session_uuid.as_deref(), Some("u1"));
    }

    #[test]
    fn unknown_content_type_is_surfaced() {
        assert!(matches!(
            classify(b"Content-Type: text/whatever\n\n"),
            ServerMessage::Unknown(_)
        ));
        assert!(matches!(classify(b"X: y\n\n"), ServerMessage::Unknown(_)));
    }
}
