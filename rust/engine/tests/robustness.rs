//! Robustness: hostile arguments never become a second command on the wire, and a hostile
//! server cannot make the frame parser allocate without bound.
//!
//! The injection check does not trust our own parser: `mes_messages` models how
//! mod_event_socket's `read_packet` splits a client stream (esl-protocol.md §1.2): `\r` is
//! ignored when counting line ends, the header block is a C string (a NUL hides the rest), the
//! block is cut by force at `max_len`, and only a `Content-Length` seen before that decides how
//! many body bytes follow.

use esl4j_engine::proto::command::{self, SendMsg, MAX_BODY_BYTES, MAX_HEADER_BLOCK_BYTES};
use esl4j_engine::proto::{EventFormat, FrameLimits, FrameParser};
use esl4j_engine::{CommandError, ProtocolError};

/// How mod_event_socket splits `stream` into messages: each is (header block as the server
/// sees it, body). Returns `None` when the stream ends inside a message.
fn mes_messages(stream: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut messages = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        // Leading line ends before a command are discarded.
        if stream[at] == b'\r' || stream[at] == b'\n' {
            at += 1;
            continue;
        }
        let start = at;
        let mut line_ends = 0;
        loop {
            let byte = *stream.get(at)?;
            at += 1;
            match byte {
                b'\n' => line_ends += 1,
                b'\r' => {}
                _ => line_ends = 0,
            }
            if line_ends == 2 || at - start >= MAX_HEADER_BLOCK_BYTES {
                break;
            }
        }
        let block = &stream[start..at];
        let visible = block.split(|&b| b == 0).next().unwrap_or_default();
        let length = visible
            .split(|&b| b == b'\n')
            .skip(1)
            .filter_map(|line| {
                let text = std::str::from_utf8(line).ok()?;
                let (name, value) = text.split_once(':')?;
                name.eq_ignore_ascii_case("content-length").then(|| {
                    value
                        .trim_matches(|c| c == ' ' || c == '\r')
                        .parse::<usize>()
                })
            })
            .last()
            .map_or(Ok(0), |parsed| parsed)
            .ok()?;
        let body = stream.get(at..at + length)?.to_vec();
        at += length;
        messages.push((visible.to_vec(), body));
    }
    Some(messages)
}

const ONE_MIB: usize = 1024 * 1024;

/// Values that would add a second command if an encoder passed them through unchecked.
fn hostile_values() -> Vec<(&'static str, String)> {
    vec![
        ("CR", "status\rapi evil".to_owned()),
        ("LF", "status\napi evil".to_owned()),
        ("CRLF CRLF", "status\r\n\r\napi evil".to_owned()),
        ("LF LF", "status\n\napi evil".to_owned()),
        ("NUL", "status\0api evil".to_owned()),
        (
            "header-looking suffix",
            "status\nContent-Length: 9\n\napi evil".to_owned(),
        ),
        ("1 MiB", format!("status {}", "x".repeat(ONE_MIB))),
        (
            "past max_len",
            format!("{}\napi evil", "x".repeat(MAX_HEADER_BLOCK_BYTES)),
        ),
        (
            "body past 16 MiB",
            format!("{}\n", "y".repeat(MAX_BODY_BYTES + 1)),
        ),
    ]
}

type Encoded = Result<Vec<u8>, CommandError>;
type Encoder = fn(&str) -> Encoded;

fn encoders() -> Vec<(&'static str, Encoder)> {
    vec![
        ("auth", command::auth),
        ("userauth user", |v| command::userauth(v, "pw")),
        ("userauth password", |v| command::userauth("u@d", v)),
        ("api", command::api),
        ("bgapi", |v| command::bgapi(v, None)),
        ("bgapi job uuid", |v| command::bgapi("status", Some(v))),
        ("event", |v| command::event(EventFormat::Plain, &[v])),
        ("nixevent", |v| command::nixevent(&[v])),
        ("myevents", |v| {
            command::myevents(Some(v), EventFormat::Json)
        }),
        ("filter header", |v| command::filter(v, "x")),
        ("filter value", |v| command::filter("Unique-ID", v)),
        ("filter delete", |v| {
            command::filter_delete("Unique-ID", Some(v))
        }),
        ("sendevent name", |v| command::sendevent(v, &[], None)),
        ("sendevent header value", |v| {
            command::sendevent("CUSTOM", &[("X-Note", v)], Some(b"body"))
        }),
        ("sendevent header name", |v| {
            command::sendevent("CUSTOM", &[(v, "x")], Some(b"body"))
        }),
        ("sendevent body", |v| {
            command::sendevent("CUSTOM", &[("X-Note", "n")], Some(v.as_bytes()))
        }),
        ("execute app", |v| SendMsg::execute(v, Some("arg")).encode()),
        ("execute arg", |v| {
            SendMsg::execute("playback", Some(v)).uuid("u-1").encode()
        }),
        ("sendmsg uuid", |v| {
            SendMsg::execute("answer", None).uuid(v).encode()
        }),
        ("sendmsg header", |v| {
            SendMsg::hangup(Some(v)).event_uuid("e-1").encode()
        }),
        ("getvar", command::getvar),
        ("log", command::log),
        ("raw", command::raw),
    ]
}

#[test]
fn no_argument_becomes_a_second_command() {
    let mut failures = Vec::new();
    let values = hostile_values();
    for (encoder_name, encode) in encoders() {
        for (value_name, value) in &values {
            let case = format!("{encoder_name} <- {value_name}");
            let Ok(bytes) = encode(value) else {
                continue;
            };
            match mes_messages(&bytes) {
                Some(messages) if messages.len() == 1 => {}
                Some(messages) => failures.push(format!("{case}: {} messages", messages.len())),
                None => failures.push(format!("{case}: stream ends inside a message")),
            }
        }
    }
    assert!(failures.is_empty(), "injections: {failures:#?}");
}

#[test]
fn the_server_model_sees_an_injection_when_there_is_one() {
    // The checker itself must be able to fail: raw bytes as a naive encoder would write them.
    let naive = |value: &str| format!("api {value}\n\n").into_bytes();
    for (value_name, value) in [
        ("LF LF", "status\n\napi evil"),
        ("CRLF CRLF", "status\r\n\r\napi evil"),
        ("CR LF CR", "status\n\r\napi evil"),
    ] {
        let messages = mes_messages(&naive(value)).unwrap_or_default();
        assert_eq!(messages.len(), 2, "{value_name}");
    }
    let hidden_length =
        b"sendevent CUSTOM\nX: a\0\nContent-Length: 13\n\napi evil\n\n\n\n".to_vec();
    assert_eq!(mes_messages(&hidden_length).map(|m| m.len()), Some(2));
    let mut cut = b"api ".to_vec();
    cut.resize(MAX_HEADER_BLOCK_BYTES, b'x');
    cut.extend_from_slice(b"\napi evil\n\n");
    assert_eq!(mes_messages(&cut).map(|m| m.len()), Some(2));
}

#[test]
fn hostile_parts_are_refused_with_the_part_named() {
    let cases: [(&str, Encoded, CommandError); 5] = [
        (
            "NUL in api",
            command::api("status\0x"),
            CommandError::Nul {
                part: "api command",
            },
        ),
        (
            "NUL in a sendevent header hides Content-Length",
            command::sendevent("CUSTOM", &[("X", "a\0")], Some(b"api evil\n\n")),
            CommandError::Nul {
                part: "header value",
            },
        ),
        (
            "NUL in an execute arg sent as a body",
            SendMsg::execute("playback", Some(&format!("a\0{}", "b".repeat(2000)))).encode(),
            CommandError::Nul {
                part: "execute argument",
            },
        ),
        (
            "header block at max_len",
            command::api(&"x".repeat(MAX_HEADER_BLOCK_BYTES)),
            CommandError::TooLong {
                part: "command header block",
                max: MAX_HEADER_BLOCK_BYTES - 1,
            },
        ),
        (
            "application name with a space",
            SendMsg::execute("play back", None).encode(),
            CommandError::Whitespace {
                part: "application name",
            },
        ),
    ];
    for (name, result, expected) in cases {
        assert_eq!(result.err(), Some(expected), "{name}");
    }
}

#[test]
fn a_one_mebibyte_argument_is_one_correctly_framed_command() {
    let arg = "x".repeat(ONE_MIB);
    let bytes = command::api(&arg).expect("1 MiB is below max_len");
    let messages = mes_messages(&bytes).expect("complete");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0.len(), "api ".len() + ONE_MIB + 2);

    let multi_line = format!("{}\n{}", "a".repeat(ONE_MIB / 2), "b".repeat(ONE_MIB / 2));
    let bytes = SendMsg::execute("playback", Some(&multi_line))
        .encode()
        .expect("multi-line arguments go into the body");
    let messages = mes_messages(&bytes).expect("complete");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].1, multi_line.as_bytes());
}

// ---- a hostile server: memory stays bounded, the error is clear ---------------------------

fn feed_until_error(parser: &mut FrameParser, chunk: &[u8], max_chunks: usize) -> ProtocolError {
    for _ in 0..max_chunks {
        parser.feed(chunk);
        match parser.next_frame() {
            Ok(None) => {}
            Ok(Some(_)) => panic!("a hostile stream produced a frame"),
            Err(error) => return error,
        }
    }
    panic!("no error after {max_chunks} chunks");
}

#[test]
fn an_endless_header_line_fails_at_the_header_cap() {
    let limits = FrameLimits::default();
    let mut parser = FrameParser::new(limits);
    parser.feed(b"Content-Type: text/event-plain\nX-Endless: ");
    let chunk = vec![b'a'; 64 * 1024];
    let error = feed_until_error(
        &mut parser,
        &chunk,
        1 + limits.max_header_bytes / chunk.len(),
    );
    assert_eq!(
        error,
        ProtocolError::HeaderTooLarge {
            limit: limits.max_header_bytes
        }
    );
    assert!(parser.buffered_len() <= limits.max_header_bytes + chunk.len() + 64);
}

#[test]
fn a_content_length_of_two_to_the_forty_is_refused_before_buffering() {
    let mut parser = FrameParser::new(FrameLimits::default());
    let huge = 1u64 << 40;
    let announce = format!("Content-Type: api/response\nContent-Length: {huge}\n\n");
    parser.feed(announce.as_bytes());
    let error = parser.next_frame().expect_err("too large");
    assert_eq!(
        error,
        ProtocolError::BodyTooLarge {
            length: usize::try_from(huge).expect("64-bit"),
            limit: FrameLimits::default().max_body_bytes
        }
    );
    assert!(parser.buffered_len() <= announce.len());
}

#[test]
fn a_million_headers_stay_within_the_header_cap() {
    let mut head = Vec::with_capacity(6 * 1_000_000 + 64);
    head.extend_from_slice(b"Content-Type: text/event-plain\n");
    for _ in 0..1_000_000 {
        head.extend_from_slice(b"a: b\n");
    }
    head.push(b'\n');
    let limits = FrameLimits::default();
    assert!(
        head.len() < limits.max_header_bytes,
        "the case must fit the cap"
    );
    let mut parser = FrameParser::new(limits);
    parser.feed(&head);
    let frame = parser.next_frame().expect("valid").expect("complete");
    assert_eq!(frame.headers().count(), 1_000_001);
    assert!(parser.buffered_len() == 0);

    // Past the cap the same shape is an error, not a bigger allocation.
    let mut parser = FrameParser::new(limits);
    let error = feed_until_error(&mut parser, &b"a: b\n".repeat(100_000), 64);
    assert_eq!(
        error,
        ProtocolError::HeaderTooLarge {
            limit: limits.max_header_bytes
        }
    );
}
