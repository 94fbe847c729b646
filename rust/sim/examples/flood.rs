//! Benchmark of the load mode: floods one raw TCP reader with the recorded corpus and prints
//! events per second. `cargo run --release -p esl4j-sim --example flood -- <corpus> [events]`
//! (corpus: e.g. `../shared/bench/events-plain.bin`).

use std::time::Instant;

use esl4j_sim::{FloodSpec, SimConfig, Simulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "../shared/bench/events-plain.bin".into());
    let events: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(200_000);
    let corpus = std::fs::read(&path)?;
    let sim = Simulator::start(SimConfig {
        heartbeat: None,
        ..SimConfig::default()
    })
    .await?;
    let mut stream = TcpStream::connect(("127.0.0.1", sim.port())).await?;
    stream
        .write_all(b"auth ClueCon\n\nevent plain ALL\n\n")
        .await?;
    let mut greeting = vec![0u8; 4096];
    let mut seen = Vec::new();
    // auth/request, +OK accepted, +OK event listener enabled
    while seen
        .windows(b"listener enabled".len())
        .filter(|w| *w == b"listener enabled")
        .count()
        == 0
    {
        let n = stream.read(&mut greeting).await?;
        if n == 0 {
            return Err(std::io::Error::other("closed during setup"));
        }
        seen.extend_from_slice(&greeting[..n]);
    }
    // exact byte count of the flood: frames go round-robin
    let mut parser = esl4j_engine::proto::FrameParser::default();
    parser.feed(&corpus);
    let mut sizes = Vec::new();
    while let Some(frame) = parser.next_frame().map_err(std::io::Error::other)? {
        sizes.push((frame.header_block().len() + 1 + frame.body().len()) as u64);
    }
    if sizes.is_empty() {
        return Err(std::io::Error::other("empty corpus"));
    }
    let expected_bytes: u64 = (0..events)
        .map(|i| sizes[(i % sizes.len() as u64) as usize])
        .sum();
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        while total < expected_bytes {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n as u64,
            }
        }
        total
    });
    let started = Instant::now();
    let sent = sim
        .flood(
            &corpus,
            FloodSpec {
                events: Some(events),
                ..FloodSpec::default()
            },
        )
        .await?;
    let received = reader.await.map_err(std::io::Error::other)?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{sent} events, {:.1} MB in {elapsed:.3} s: {:.0} events/s, {:.0} MB/s",
        received as f64 / 1e6,
        sent as f64 / elapsed,
        received as f64 / 1e6 / elapsed
    );
    sim.shutdown().await;
    Ok(())
}
