//! Test support: the transcript loader and a scripted FreeSWITCH that replays the server side.
#![allow(dead_code)] // Each test binary uses a different part of this module.

#[path = "../../../../tests/support/transcript.rs"]
mod transcript;
#[allow(unused_imports)] // as above: not every test binary replays transcripts
pub use transcript::{connection, fixtures_dir, load, transcript_names, Dir, Record};

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use esl4j_engine::proto::{Frame, FrameParser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads one client message (header block plus Content-Length body).
pub async fn read_message(stream: &mut TcpStream, parser: &mut FrameParser) -> Option<Frame> {
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(frame) = parser.next_frame().expect("client sends valid frames") {
            return Some(frame);
        }
        let count = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("client message within 10 s")
            .ok()?;
        if count == 0 {
            return None;
        }
        parser.feed(&buffer[..count]);
    }
}

fn header_value(frame: &Frame, name: &str) -> Option<String> {
    frame
        .command_headers()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

fn replace_all(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// What the scripted server saw.
#[derive(Debug, Default)]
pub struct PlayLog {
    /// First lines of the client messages, in order.
    pub commands: Vec<String>,
}

/// Plays the server side of `records`: writes every S->C frame, and for every C->S frame
/// reads one client message whose first line must equal the recorded one. Client-chosen
/// `Job-UUID` / `Event-UUID` values replace the recorded ones in later server frames (the
/// values have the same length, so Content-Length stays right). Ends when the records end
/// (the socket is then closed if `close_at_end`, else drained until the client closes).
pub async fn play_server_side(
    mut stream: TcpStream,
    records: &[Record],
    close_at_end: bool,
) -> Result<PlayLog, String> {
    let mut parser = FrameParser::default();
    let mut substitutions: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut unmatched_job: Option<String> = None;
    let mut log = PlayLog::default();
    for record in records {
        match record.dir {
            Dir::ToClient => {
                let mut bytes = record.bytes.clone();
                if let Some(client_job) = unmatched_job.take() {
                    // The server generated this Job-UUID; the client chose its own.
                    let recorded = Frame::parse_one(&bytes)
                        .ok()
                        .flatten()
                        .and_then(|f| f.header("Job-UUID").map(|v| v.into_owned()));
                    match recorded {
                        Some(recorded) => {
                            substitutions.push((recorded.into_bytes(), client_job.into_bytes()))
                        }
                        None => unmatched_job = Some(client_job),
                    }
                }
                for (from, to) in &substitutions {
                    bytes = replace_all(&bytes, from, to);
                }
                stream
                    .write_all(&bytes)
                    .await
                    .map_err(|e| format!("write: {e}"))?;
            }
            Dir::ToServer => {
                let expected = Frame::parse_one(&record.bytes)
                    .map_err(|e| format!("recorded command: {e}"))?
                    .ok_or("incomplete recorded command")?;
                let got = read_message(&mut stream, &mut parser)
                    .await
                    .ok_or_else(|| {
                        format!(
                            "client closed; expected {:?}",
                            String::from_utf8_lossy(expected.first_line())
                        )
                    })?;
                let command = String::from_utf8_lossy(got.first_line()).into_owned();
                if got.first_line() != expected.first_line() {
                    return Err(format!(
                        "expected {:?}, client sent {command:?}",
                        String::from_utf8_lossy(expected.first_line())
                    ));
                }
                log.commands.push(command);
                for name in ["Job-UUID", "Event-UUID"] {
                    match (header_value(&expected, name), header_value(&got, name)) {
                        (Some(recorded), Some(chosen)) => {
                            assert_eq!(recorded.len(), chosen.len(), "{name} length");
                            substitutions.push((recorded.into_bytes(), chosen.into_bytes()));
                        }
                        (None, Some(chosen)) if name == "Job-UUID" => unmatched_job = Some(chosen),
                        _ => {}
                    }
                }
            }
        }
    }
    if !close_at_end {
        // Like FreeSWITCH after the script: answer `exit` and hang up.
        while let Some(message) = read_message(&mut stream, &mut parser).await {
            if message.first_line() == b"exit" {
                let _ = stream.write_all(&reply_frame("+OK bye")).await;
                break;
            }
        }
    }
    Ok(log)
}

/// Splits a transcript's server frames by connection for quick lookups in assertions.
pub fn server_frames(records: &[Record]) -> Vec<Frame> {
    records
        .iter()
        .filter(|r| r.dir == Dir::ToClient)
        .map(|r| {
            Frame::parse_one(&r.bytes)
                .expect("valid")
                .expect("complete")
        })
        .collect()
}

/// Independent, naive decoding used to check the parser: `Name: value` lines split at the
/// first `: `, values percent-decoded byte by byte.
pub fn naive_headers(block: &[u8], url_decode: bool) -> Vec<(Vec<u8>, Vec<u8>)> {
    let text = block;
    let mut out = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].to_vec();
        let mut value = &line[colon + 1..];
        while value.first() == Some(&b' ') {
            value = &value[1..];
        }
        let value = if url_decode {
            naive_url_decode(value)
        } else {
            value.to_vec()
        };
        out.push((name, value));
    }
    out
}

pub fn naive_url_decode(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < value.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if value[i] == b'%' && i + 2 < value.len() {
            if let (Some(h), Some(l)) = (hex(value[i + 1]), hex(value[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(value[i]);
        i += 1;
    }
    out
}

/// Counts of frames per content type, for sanity checks.
pub fn content_types(frames: &[Frame]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for frame in frames {
        let key = frame
            .header("Content-Type")
            .map(|v| v.into_owned())
            .unwrap_or_default();
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

/// A fake server for one connection running `script`; returns its address and task.
pub async fn serve_once<F, Fut, T>(script: F) -> (String, tokio::task::JoinHandle<T>)
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T> + Send,
    T: Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let task = tokio::spawn(async move {
        let (stream, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
            .await
            .expect("client connects within 10 s")
            .expect("accept");
        script(stream).await
    });
    (address, task)
}

/// `command/reply` frame bytes.
pub fn reply_frame(text: &str) -> Vec<u8> {
    format!("Content-Type: command/reply\nReply-Text: {text}\n\n").into_bytes()
}

/// `api/response` frame bytes with `body`.
pub fn api_response_frame(body: &str) -> Vec<u8> {
    format!(
        "Content-Type: api/response\nContent-Length: {}\n\n{body}",
        body.len()
    )
    .into_bytes()
}

/// `text/event-plain` frame bytes for the given headers.
pub fn event_frame(pairs: &[(&str, &str)], body: Option<&[u8]>) -> Vec<u8> {
    let event = esl4j_engine::proto::Event::from_pairs(
        pairs.iter().copied(),
        body,
        esl4j_engine::proto::EventFormat::Plain,
    );
    let text = event.to_plain();
    let mut frame = format!(
        "Content-Length: {}\nContent-Type: text/event-plain\n\n",
        text.len()
    )
    .into_bytes();
    frame.extend_from_slice(&text);
    frame
}

/// Sends `auth/request`, expects `auth <password>`, accepts it.
pub async fn accept_auth(stream: &mut TcpStream, parser: &mut FrameParser, password: &str) {
    stream
        .write_all(b"Content-Type: auth/request\n\n")
        .await
        .expect("write");
    let auth = read_message(stream, parser).await.expect("auth command");
    assert_eq!(auth.first_line(), format!("auth {password}").as_bytes());
    stream
        .write_all(&reply_frame("+OK accepted"))
        .await
        .expect("write");
}

/// Every tracing event as one line (`LEVEL target field=value ...`), for the tests that check
/// what the engine logs; it records on the thread it is the default subscriber of.
pub struct Recorder(pub Arc<Mutex<Vec<String>>>);

impl Recorder {
    pub fn lines(lines: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
        lines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl tracing::Subscriber for Recorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let metadata = event.metadata();
        let mut fields = Fields(format!("{} {} ", metadata.level(), metadata.target()));
        event.record(&mut fields);
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(fields.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
