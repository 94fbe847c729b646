//! Parse throughput on a corpus of `text/event-plain` frames.
//!
//! `cargo bench -p esl4j-engine --bench parse [-- <corpus> [seconds]]`. The corpus defaults to
//! `$ESL4J_BENCH_CORPUS`, then the repository's `bench/corpus/events-plain.bin`, then the event frames of
//! the test transcripts. Prints MB/s and events/s for framing alone, for framing plus event
//! parsing with `Event-Name` and `Unique-ID` read (what routing does; values are decoded when
//! read), and for framing plus URL-decoding every header.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use esl4j_engine::proto::{Event, FrameParser, ServerMessage};

const CHUNK: usize = 64 * 1024;

fn corpus_from_fixtures() -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/transcripts");
    let mut corpus = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    names.sort();
    for path in names {
        let data = std::fs::read(&path).expect("fixture");
        let mut pos = 0;
        while let Some(offset) = data[pos..].windows(3).position(|w| w == b"#> ") {
            let start = pos + offset;
            let end = start
                + data[start..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .expect("marker");
            let marker = String::from_utf8_lossy(&data[start..end]);
            let len: usize = marker
                .rsplit("len=")
                .next()
                .and_then(|n| n.parse().ok())
                .expect("len");
            let frame = &data[end + 1..end + 1 + len];
            if marker.contains("S->C") && frame.starts_with(b"Content-Length") {
                corpus.extend_from_slice(frame);
            }
            pos = end + 1 + len;
        }
    }
    corpus
}

fn load_corpus(arg: Option<String>) -> (String, Vec<u8>) {
    let candidates = arg
        .into_iter()
        .chain(std::env::var("ESL4J_BENCH_CORPUS").ok())
        .chain(Some(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../bench/corpus/events-plain.bin"
            )
            .to_owned(),
        ));
    for path in candidates {
        if let Ok(data) = std::fs::read(&path) {
            return (path, data);
        }
    }
    ("test fixtures".to_owned(), corpus_from_fixtures())
}

/// Timing of repeated passes over the corpus.
struct Measurement {
    passes: u64,
    items: usize,
    elapsed: Duration,
    /// The fastest single pass: the least disturbed by other processes on a shared machine.
    best_pass: Duration,
}

/// Runs `pass` over the corpus until `duration` passes.
fn measure(duration: Duration, mut pass: impl FnMut() -> usize) -> Measurement {
    let start = Instant::now();
    let mut measurement = Measurement {
        passes: 0,
        items: 0,
        elapsed: Duration::ZERO,
        best_pass: Duration::MAX,
    };
    while start.elapsed() < duration {
        let pass_start = Instant::now();
        measurement.items += pass();
        measurement.best_pass = measurement.best_pass.min(pass_start.elapsed());
        measurement.passes += 1;
    }
    measurement.elapsed = start.elapsed();
    measurement
}

fn frames_only(corpus: &[u8]) -> usize {
    let mut parser = FrameParser::default();
    let mut count = 0;
    for chunk in corpus.chunks(CHUNK) {
        parser.feed(chunk);
        while let Some(frame) = parser.next_frame().expect("valid corpus") {
            black_box(&frame);
            count += 1;
        }
    }
    count
}

/// Parses every event of the corpus and hands it to `read`.
fn events(corpus: &[u8], mut read: impl FnMut(&Event)) -> usize {
    let mut parser = FrameParser::default();
    let mut count = 0;
    for chunk in corpus.chunks(CHUNK) {
        parser.feed(chunk);
        while let Some(frame) = parser.next_frame().expect("valid corpus") {
            match ServerMessage::from_frame(frame).expect("decodable") {
                ServerMessage::Event(event) => {
                    read(&event);
                    count += 1;
                }
                other => panic!("corpus holds a non-event frame: {other:?}"),
            }
        }
    }
    count
}

fn report(label: &str, bytes: usize, m: Measurement) {
    let seconds = m.elapsed.as_secs_f64();
    let per_pass = m.items as f64 / m.passes.max(1) as f64;
    let best = m.best_pass.as_secs_f64();
    println!(
        "{label:<24} mean {:>7.1} MB/s {:>9.0} events/s | best pass {:>7.1} MB/s {:>9.0} events/s ({} passes in {seconds:.2} s)",
        bytes as f64 * m.passes as f64 / seconds / 1e6,
        m.items as f64 / seconds,
        bytes as f64 / best / 1e6,
        per_pass / best,
        m.passes,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; everything that is not a flag is ours.
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let (source, corpus) = load_corpus(args.next());
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let duration = Duration::from_secs_f64(seconds);
    let routed = |event: &Event| {
        black_box((
            event.header_bytes("Event-Name"),
            event.header_bytes("Unique-ID"),
        ));
    };
    let decoded = |event: &Event| {
        for header in event.headers() {
            black_box(header);
        }
    };
    let count = events(&corpus, routed);
    println!(
        "corpus: {source}: {} bytes, {count} events ({} bytes/event)",
        corpus.len(),
        corpus.len() / count.max(1)
    );
    report(
        "frames only",
        corpus.len(),
        measure(duration, || frames_only(&corpus)),
    );
    report(
        "frames + routed events",
        corpus.len(),
        measure(duration, || events(&corpus, routed)),
    );
    report(
        "frames + every value",
        corpus.len(),
        measure(duration, || events(&corpus, decoded)),
    );
}
