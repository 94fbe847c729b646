//! Property tests: random splits, random header order, garbage, command injection.

use esl4j_engine::proto::command;
use esl4j_engine::proto::url;
use esl4j_engine::proto::{Event, Frame, FrameLimits, FrameParser, ServerMessage};
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
