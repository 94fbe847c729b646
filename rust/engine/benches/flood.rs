//! End-to-end throughput: a fake FreeSWITCH floods one inbound connection with the event
//! corpus over loopback; the client takes events off with `recv_batch`. While flooded the
//! client also makes one `api` call per 1,000 events and reports the round-trip times.
//!
//! `cargo bench -p esl4j-engine --bench flood [-- <corpus> [events]]`.

use std::time::{Duration, Instant};

use esl4j_engine::proto::{EventFormat, FrameParser};
use esl4j_engine::{Client, ClientConfig, Incoming, Password};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn corpus_frames(path: &str) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("corpus {path}: {e}"));
    let mut parser = FrameParser::default();
    parser.feed(&data);
    let mut frames = Vec::new();
    let mut offset = 0;
    while let Some(frame) = parser.next_frame().expect("valid corpus") {
        let len = frame.header_block().len() + 1 + frame.body().len();
        frames.push(data[offset..offset + len].to_vec());
        offset += len;
    }
    frames
}

async fn read_command(stream: &mut TcpStream, parser: &mut FrameParser) -> Option<Vec<u8>> {
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(frame) = parser.next_frame().expect("client frames") {
            return Some(frame.first_line().to_vec());
        }
        let count = stream.read(&mut buffer).await.ok()?;
        if count == 0 {
            return None;
        }
        parser.feed(&buffer[..count]);
    }
}

/// Authenticates the client, then writes `total` events round-robin while answering every
/// `api` command in between with a short `api/response`.
async fn fake_freeswitch(listener: TcpListener, frames: Vec<Vec<u8>>, total: usize) {
    let (stream, _) = listener.accept().await.expect("accept");
    stream.set_nodelay(true).expect("nodelay");
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(b"Content-Type: auth/request\n\n")
        .await
        .expect("write");
    let mut parser = FrameParser::default();
    let mut whole = reader.reunite(writer).expect("same stream");
    read_command(&mut whole, &mut parser).await.expect("auth");
    whole
        .write_all(b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n")
        .await
        .expect("write");
    read_command(&mut whole, &mut parser).await.expect("event");
    whole
        .write_all(b"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n")
        .await
        .expect("write");
    (reader, writer) = whole.into_split();
    let (replies, mut pending) = tokio::sync::mpsc::unbounded_channel::<()>();
    let commands = tokio::spawn(async move {
        let mut buffer = [0u8; 4096];
        loop {
            while let Some(frame) = parser.next_frame().expect("client frames") {
                if frame.first_line().starts_with(b"api ") && replies.send(()).is_err() {
                    return;
                }
            }
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(count) => parser.feed(&buffer[..count]),
            }
        }
    });
    let mut batch = Vec::with_capacity(256 * 1024);
    let mut sent = 0;
    while sent < total {
        while pending.try_recv().is_ok() {
            batch.extend_from_slice(b"Content-Type: api/response\nContent-Length: 3\n\n+OK");
        }
        for frame in frames.iter().cycle().take((total - sent).min(64)) {
            batch.extend_from_slice(frame);
            sent += 1;
        }
        writer.write_all(&batch).await.expect("client reads");
        batch.clear();
    }
    // Keep answering api calls until the client hangs up.
    while pending.recv().await.is_some() {
        let reply = b"Content-Type: api/response\nContent-Length: 3\n\n+OK";
        if writer.write_all(reply).await.is_err() {
            break;
        }
    }
    commands.abort();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let path = args
        .next()
        .or_else(|| std::env::var("ESL4J_BENCH_CORPUS").ok())
        .unwrap_or_else(|| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../bench/corpus/events-plain.bin"
            )
            .to_owned()
        });
    let total: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(200_000);
    let frames = corpus_frames(&path);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // The fake FreeSWITCH gets its own thread and runtime, as a real server is another
    // process; the client's runtime has the usual 2 workers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let address = listener.local_addr().expect("address").to_string();
    let server = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime")
            .block_on(async move {
                let listener = TcpListener::from_std(listener).expect("tokio listener");
                fake_freeswitch(listener, frames, total).await;
            });
    });
    runtime.block_on(async move {
        let client = Client::connect(ClientConfig::new(address, Password::new("ClueCon")))
            .await
            .expect("connected");
        client
            .subscribe(EventFormat::Plain, &["ALL"])
            .await
            .expect("subscribed");
        let started = Instant::now();
        let mut events = 0usize;
        let mut next_api = 1_000;
        let mut round_trips = Vec::new();
        let mut api_call: Option<(Instant, tokio::task::JoinHandle<()>)> = None;
        while events < total {
            let batch = client
                .recv_batch(4096, Some(Duration::from_secs(10)))
                .await
                .expect("open");
            assert!(!batch.is_empty(), "flood stalled after {events} events");
            events += batch
                .iter()
                .filter(|i| matches!(i, Incoming::Event(_)))
                .count();
            if let Some((start, task)) = api_call.take() {
                if task.is_finished() {
                    round_trips.push(start.elapsed());
                } else {
                    api_call = Some((start, task));
                }
            }
            if events >= next_api && api_call.is_none() {
                next_api = events + 1_000;
                let caller = client.clone();
                let task = tokio::spawn(async move {
                    caller.api("status").await.expect("api while flooded");
                });
                api_call = Some((Instant::now(), task));
            }
        }
        let elapsed = started.elapsed();
        let stats = client.queue_stats();
        round_trips.sort();
        println!(
            "{events} events in {:.3} s: {:.0} events/s; dropped {}, queue high water {}",
            elapsed.as_secs_f64(),
            events as f64 / elapsed.as_secs_f64(),
            stats.dropped,
            stats.high_water
        );
        println!(
            "api while flooded: {} calls, p50 {:?}, p99 {:?}, max {:?} (polled once per batch)",
            round_trips.len(),
            percentile(&round_trips, 0.5),
            percentile(&round_trips, 0.99),
            round_trips.last().copied().unwrap_or_default()
        );
        client.close().await;
    });
    server.join().expect("fake server ran");
}
