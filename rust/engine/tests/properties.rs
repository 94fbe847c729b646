//! Property tests: random splits, random header order, garbage, command injection.

use esl4j_engine::proto::command;
use esl4j_engine::proto::url;
use esl4j_engine::proto::{
    Event, Frame, FrameLimits, FrameParser, HeaderIndex, ServerMessage, INDEXED_HEADERS,
};
use proptest::prelude::*;

/// A frame with headers in the given order and a body; returns the bytes and the body.
fn frame_bytes(headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (name, value) in headers {
        bytes.extend_from_slice(format!("{name}: {value}\n").as_bytes());
    }
    bytes.push(b'\n');
    bytes.extend_from_slice(body);
    bytes
}

fn header_name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_-]{0,20}"
        .prop_filter("reserved", |n| !n.eq_ignore_ascii_case("content-length"))
}

fn header_value() -> impl Strategy<Value = String> {
    "[ -~]{0,40}".prop_map(|v| v.trim().to_owned())
}

/// Frames with random headers, a Content-Length at a random position and a random body.
fn any_frame() -> impl Strategy<Value = (Vec<(String, String)>, Vec<u8>)> {
    (
        prop::collection::vec((header_name(), header_value()), 1..8),
        prop::collection::vec(any::<u8>(), 0..300),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut headers, body, position)| {
            if !body.is_empty() {
                let at = position.index(headers.len() + 1);
                headers.insert(at, ("Content-Length".to_owned(), body.len().to_string()));
            }
            (headers, body)
        })
}

fn parse_in_chunks(
    bytes: &[u8],
    sizes: &[usize],
) -> Result<Vec<Frame>, esl4j_engine::ProtocolError> {
    let mut parser = FrameParser::default();
    let mut frames = Vec::new();
    let mut rest = bytes;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        let size = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
        parser.feed(&rest[..size]);
        rest = &rest[size..];
        while let Some(frame) = parser.next_frame()? {
            frames.push(frame);
        }
    }
    Ok(frames)
}

/// What a plain event's text holds, by the plainest reading of esl-protocol.md §1.4: lines up to
/// `\n` (a `\r` before it dropped), each split at its first `:` with spaces trimmed around it
/// (a line without `:` carries nothing), until a blank line; after it a body, if the headers have a
/// `Content-Length`. Values stay as stored (URL-encoded).
type PlainModel = (Vec<(Vec<u8>, Vec<u8>)>, Option<Vec<u8>>);

fn plain_model(text: &[u8]) -> PlainModel {
    let mut headers = Vec::new();
    let mut body = None;
    let mut rest = text;
    while !rest.is_empty() {
        let (line, after) = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => (&rest[..end], Some(&rest[end + 1..])),
            None => (rest, None),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() && after.is_some() {
            body = after;
            break;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let mut name = &line[..colon];
            while let Some(trimmed) = name.strip_suffix(b" ") {
                name = trimmed;
            }
            let mut value = &line[colon + 1..];
            while let Some(trimmed) = value.strip_prefix(b" ") {
                value = trimmed;
            }
            headers.push((name.to_vec(), value.to_vec()));
        }
        rest = after.unwrap_or_default();
    }
    let has_length = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case(b"content-length"));
    (headers, body.filter(|_| has_length).map(<[u8]>::to_vec))
}

/// The raw headers and the body of an event, in the model's shape.
fn raw_event(event: &Event) -> PlainModel {
    let (data, spans, body) = event.raw_parts();
    let headers = spans
        .iter()
        .map(|span| {
            let name = &data[span.name_start as usize..span.name_end as usize];
            let value = &data[span.value_start as usize..span.value_end as usize];
            (name.to_vec(), value.to_vec())
        })
        .collect();
    (headers, body.map(|range| data[range].to_vec()))
}

/// Text of a plain event built mostly from the bytes its parse looks at, with lines long
/// enough to cross the scanner's blocks.
fn plain_event_text() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => Just(b'a'),
        2 => Just(b':'),
        2 => Just(b' '),
        2 => Just(b'\n'),
        1 => Just(b'\r'),
        1 => Just(b'%'),
        1 => any::<u8>(),
    ];
    let line = prop_oneof![
        3 => "[A-Za-z-]{1,16}: [ -~]{0,90}\n".prop_map(String::into_bytes),
        1 => Just(b"Content-Length: 3\n".to_vec()),
        1 => Just(b"Multi: ARRAY::a|:b\n".to_vec()),
        1 => prop::sample::select(vec!["Event-Name", "unique-id", "Job-UUID", "EVENT-SUBCLASS", "Job-UUIDs"])
            .prop_map(|name| format!("{name}: x\n").into_bytes()),
        1 => Just(b"\n".to_vec()),
        2 => prop::collection::vec(byte, 0..140),
    ];
    prop::collection::vec(line, 0..24).prop_map(|lines| lines.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn frames_survive_any_split_and_header_order(
        frames in prop::collection::vec(any_frame(), 1..6),
        sizes in prop::collection::vec(1usize..64, 1..16),
    ) {
        let stream: Vec<u8> = frames.iter().flat_map(|(h, b)| frame_bytes(h, b)).collect();
        let parsed = parse_in_chunks(&stream, &sizes).expect("valid frames");
        prop_assert_eq!(parsed.len(), frames.len());
        for (frame, (headers, body)) in parsed.iter().zip(&frames) {
            prop_assert_eq!(frame.body(), &body[..]);
            let got: Vec<(String, String)> = frame
                .headers()
                .map(|(n, v)| (String::from_utf8_lossy(n).into_owned(), String::from_utf8_lossy(v).into_owned()))
                .collect();
            prop_assert_eq!(&got, headers);
        }
    }

    #[test]
    fn garbage_never_panics_and_memory_stays_bounded(
        garbage in prop::collection::vec(any::<u8>(), 0..4096),
        sizes in prop::collection::vec(1usize..512, 1..8),
    ) {
        let limits = FrameLimits { max_header_bytes: 1024, max_body_bytes: 2048 };
        let mut parser = FrameParser::new(limits);
        let mut rest = &garbage[..];
        let mut sizes = sizes.iter().cycle();
        while !rest.is_empty() {
            let size = (*sizes.next().unwrap_or(&1)).min(rest.len());
            parser.feed(&rest[..size]);
            rest = &rest[size..];
            loop {
                match parser.next_frame() {
                    Ok(Some(frame)) => {
                        // Classification must not panic either.
                        let _ = ServerMessage::from_frame(frame);
                    }
                    Ok(None) => break,
                    Err(_) => {
                        // Typed error; the parser stays failed.
                        prop_assert!(parser.next_frame().is_err());
                        return Ok(());
                    }
                }
            }
            prop_assert!(parser.buffered_len() <= 1024 + 2048 + 512 + 2);
        }
    }

    /// The reader splits a plain event's lines straight from its read buffer while it completes
    /// the frame; whatever the text and wherever the reads split it, the event must hold what
    /// the model reads in it, and the same as `Event::from_plain`.
    #[test]
    fn plain_events_split_by_the_parser_hold_what_their_text_says(
        text in plain_event_text(),
        sizes in prop::collection::vec(1usize..200, 1..8),
    ) {
        let mut stream = format!(
            "Content-Length: {}\nContent-Type: text/event-plain\n\n",
            text.len()
        )
        .into_bytes();
        stream.extend_from_slice(&text);
        stream.extend_from_slice(b"Content-Type: command/reply\nReply-Text: +OK\n\n");
        let frames = parse_in_chunks(&stream, &sizes).expect("valid frames");
        prop_assert_eq!(frames.len(), 2);
        let mut frames = frames.into_iter();
        let frame = frames.next().expect("event frame");
        prop_assert_eq!(frame.headers().count(), 2, "the envelope shows its own headers only");
        let ServerMessage::Event(event) = ServerMessage::from_frame(frame).expect("event") else {
            panic!("not an event");
        };
        let expected = plain_model(&text);
        prop_assert_eq!(raw_event(&event), expected.clone());
        prop_assert_eq!(raw_event(&Event::from_plain(&text)), expected.clone());
        let arrays = expected.0.iter().any(|(_, value)| value.starts_with(b"ARRAY"));
        prop_assert_eq!(event.may_hold_arrays(), arrays);
        let first = |indexed: &[u8]| {
            expected.0.iter().position(|(name, _)| name.eq_ignore_ascii_case(indexed))
        };
        let index = INDEXED_HEADERS.map(|indexed| first(indexed).map_or(-1, |at| at as i32));
        prop_assert_eq!(event.header_index(), HeaderIndex(index));
        for indexed in ["EVENT-NAME", "Unique-ID", "job-uuid", "Event-Subclass", "Job-UUIDs"] {
            let value = first(indexed.as_bytes()).map(|at| url::decode(&expected.0[at].1));
            prop_assert_eq!(event.header_bytes(indexed), value.as_deref(), "{}", indexed);
        }
        let reply = frames.next().expect("reply frame");
        prop_assert_eq!(reply.header_bytes("Reply-Text"), Some(&b"+OK"[..]));
    }

    #[test]
    fn event_decoders_never_panic(text in prop::collection::vec(any::<u8>(), 0..2048)) {
        let plain = Event::from_plain(&text);
        let _ = plain.header_values("x");
        let _ = Event::from_json(&text);
        let _ = Event::from_xml(&text);
    }

    #[test]
    fn url_encoding_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        prop_assert_eq!(url::decode(url::encode(&bytes).as_bytes()), bytes);
    }

    #[test]
    fn plain_events_round_trip(
        headers in prop::collection::vec(("[A-Za-z][A-Za-z0-9_-]{0,12}", prop::collection::vec(any::<u8>(), 0..40)), 1..10),
        body in prop::option::of(prop::collection::vec(any::<u8>(), 1..100)),
    ) {
        let headers: Vec<(String, Vec<u8>)> = headers
            .into_iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length"))
            .collect();
        let event = Event::from_pairs(headers.iter().map(|(n, v)| (n, v)), body.as_deref(), esl4j_engine::proto::EventFormat::Plain);
        let decoded = Event::from_plain(&event.to_plain());
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = decoded
            .headers()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(b"content-length"))
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect();
        let expected: Vec<(Vec<u8>, Vec<u8>)> = headers.iter().map(|(n, v)| (n.as_bytes().to_vec(), v.clone())).collect();
        prop_assert_eq!(pairs, expected);
        prop_assert_eq!(decoded.body(), body.as_deref());
    }

    #[test]
    fn single_line_commands_cannot_be_injected(text in "\\PC{0,20}[\r\n]?\\PC{0,20}") {
        let encodings = [
            command::api(&text),
            command::bgapi(&text, None),
            command::filter("Event-Name", &text),
            command::getvar(&text),
            command::log(&text),
        ];
        for bytes in encodings.into_iter().flatten() {
            prop_assert!(bytes.ends_with(b"\n\n"));
            let line = &bytes[..bytes.len() - 2];
            prop_assert!(!line.contains(&b'\n') && !line.contains(&b'\r'));
        }
        if let Ok(bytes) = command::SendMsg::execute("playback", Some(&text)).encode() {
            let blank = bytes.windows(2).position(|w| w == b"\n\n").expect("terminator");
            let head = &bytes[..blank + 1];
            prop_assert!(!head.contains(&b'\r'));
            // Only the announced body follows the header block.
            let frame = Frame::parse_one(&bytes).expect("valid").expect("complete");
            prop_assert_eq!(frame.header_block().len() + 1 + frame.body().len(), bytes.len());
        }
    }
}
