//! Every frame of every recorded transcript parses, whole and split at every byte boundary,
//! and decodes to the headers the transcript holds.

mod support;

use esl4j_engine::proto::{Event, Frame, FrameParser, ServerMessage};
use support::{load, naive_headers, transcript_names, Dir, Record};

/// Header block and body of a recorded frame, split without the parser.
fn naive_split(bytes: &[u8]) -> (&[u8], &[u8]) {
    let end = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .expect("recorded frames have a blank line");
    (&bytes[..end + 1], &bytes[end + 2..])
}

fn frame_pairs(frame: &Frame) -> Vec<(Vec<u8>, Vec<u8>)> {
    frame
        .headers()
        .map(|(n, v)| (n.to_vec(), v.to_vec()))
        .collect()
}

fn event_pairs(event: &Event) -> Vec<(Vec<u8>, Vec<u8>)> {
    event
        .headers()
        .map(|(n, v)| (n.to_vec(), v.to_vec()))
        .collect()
}

fn check_frame(name: &str, index: usize, record: &Record, frame: &Frame) {
    let (head, body) = naive_split(&record.bytes);
    let context = format!("{name} frame {index}");
    assert_eq!(frame.header_block(), head, "{context}: header block");
    assert_eq!(frame.body(), body, "{context}: body");
    assert_eq!(
        frame_pairs(frame),
        naive_headers(head, false),
        "{context}: headers"
    );
    if record.dir == Dir::ToServer {
        let first = head.split(|&b| b == b'\n').next().expect("a line");
        assert_eq!(frame.first_line(), first, "{context}: command line");
        return;
    }
    let message = ServerMessage::from_frame(frame.clone())
        .unwrap_or_else(|e| panic!("{context}: classification failed: {e}"));
    match message {
        ServerMessage::Event(event)
            if frame.header("Content-Type").as_deref() == Some("text/event-plain") =>
        {
            let (inner_head, inner_body) = match body.windows(2).position(|w| w == b"\n\n") {
                Some(end) => (&body[..end + 1], &body[end + 2..]),
                None => (body, &body[body.len()..]),
            };
            assert_eq!(
                event_pairs(&event),
                naive_headers(inner_head, true),
                "{context}: event"
            );
            let has_length = event.header("Content-Length").is_some();
            assert_eq!(
                event.body(),
                has_length.then_some(inner_body),
                "{context}: event body"
            );
            assert!(event.name().is_some(), "{context}: Event-Name");
        }
        ServerMessage::Event(event) => {
            assert!(
                event.name().is_some(),
                "{context}: Event-Name of {:?}",
                event.format()
            );
            if let Some(length) = event.header("Content-Length") {
                let length: usize = length.parse().expect("numeric inner length");
                assert_eq!(
                    event.body().map(<[u8]>::len),
                    Some(length),
                    "{context}: _body"
                );
            }
        }
        ServerMessage::CommandReply(reply) => {
            if let Some(data) = reply.channel_data() {
                assert_eq!(
                    event_pairs(data),
                    naive_headers(head, true),
                    "{context}: channel data"
                );
                assert_eq!(reply.text(), "+OK\n");
            }
        }
        ServerMessage::Unknown(_) => panic!("{context}: unknown content type"),
        _ => {}
    }
}

#[test]
fn every_frame_parses_whole_with_the_recorded_headers() {
    let mut total = 0;
    for name in transcript_names() {
        for (index, record) in load(&name).iter().enumerate() {
            let mut parser = FrameParser::default();
            parser.feed(&record.bytes);
            let frame = parser
                .next_frame()
                .expect("valid")
                .unwrap_or_else(|| panic!("{name} frame {index} incomplete"));
            assert_eq!(
                parser.buffered_len(),
                0,
                "{name} frame {index}: bytes left over"
            );
            check_frame(&name, index, record, &frame);
            total += 1;
        }
    }
    assert!(
        total >= 898,
        "expected all transcripts, parsed {total} frames"
    );
}

#[test]
fn every_frame_parses_split_at_every_byte_boundary() {
    for name in transcript_names() {
        for (index, record) in load(&name).iter().enumerate() {
            let whole = Frame::parse_one(&record.bytes)
                .expect("valid")
                .expect("complete");
            let bytes = &record.bytes;
            for split in 1..bytes.len() {
                let mut parser = FrameParser::default();
                parser.feed(&bytes[..split]);
                assert_eq!(
                    parser.next_frame().expect("valid prefix"),
                    None,
                    "{name} frame {index} complete after {split} bytes"
                );
                parser.feed(&bytes[split..]);
                let frame = parser.next_frame().expect("valid").expect("complete");
                assert_eq!(frame, whole, "{name} frame {index} split at {split}");
            }
        }
    }
}

#[test]
fn each_connection_stream_parses_fed_one_byte_at_a_time() {
    for name in transcript_names() {
        let records = load(&name);
        let mut streams: Vec<(String, Dir)> =
            records.iter().map(|r| (r.conn.clone(), r.dir)).collect();
        streams.dedup();
        streams.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then((a.1 == Dir::ToClient).cmp(&(b.1 == Dir::ToClient)))
        });
        streams.dedup();
        for (conn, dir) in streams {
            let expected: Vec<&Record> = records
                .iter()
                .filter(|r| r.conn == conn && r.dir == dir)
                .collect();
            let mut parser = FrameParser::default();
            let mut got = Vec::new();
            for record in &expected {
                for byte in &record.bytes {
                    parser.feed(std::slice::from_ref(byte));
                    while let Some(frame) = parser.next_frame().expect("valid stream") {
                        got.push(frame);
                    }
                }
            }
            assert_eq!(
                got.len(),
                expected.len(),
                "{name} [{conn}] {dir:?}: frame count"
            );
            for (index, (frame, record)) in got.iter().zip(&expected).enumerate() {
                check_frame(&name, index, record, frame);
            }
        }
    }
}
