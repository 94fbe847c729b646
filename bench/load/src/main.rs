//! Runs `esl4j-sim` for the JVM benchmarks and drives its load mode from a line protocol, so a
//! Java harness can start a flood exactly when its client has subscribed.
//!
//! `esl4j-bench-load [--lean] --corpus events-plain.bin` prints `listening <port>`, then answers
//! each line read on stdin with one line on stdout:
//!
//! | request | effect | reply |
//! | --- | --- | --- |
//! | `flood <events> [<rate>]` | streams `<events>` corpus frames to every subscribed connection, as fast as it drains or paced at `<rate>` events/s | `flooded <sent>` |
//! | `outbound <extension> <host:port>` | routes `<extension>` to `socket <host:port> async full`; `user/bench` answers at once | `routed` |
//! | `channels` | counts live channels | `channels <n>` |
//!
//! Errors are answered `error <text>`; end of input stops the simulator.
//!
//! With `--lean` the load source is not the simulator but `lean.rs`, a FreeSWITCH-shaped server
//! that answers a trivial `api` as soon as it reads it; it knows only paced floods
//! (`flood <events> <rate>`).

mod lean;

use std::time::Duration;

use esl4j_sim::{Behavior, FloodSpec, SimConfig, Simulator};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The endpoint outbound benchmarks dial; it answers at once.
const BENCH_ENDPOINT: &str = "user/bench";

fn usage() -> ! {
    eprintln!("usage: esl4j-bench-load [--lean] --corpus FILE");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (lean, corpus_path) = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["--corpus", path] => (false, path.to_owned()),
        ["--lean", "--corpus", path] => (true, path.to_owned()),
        _ => usage(),
    };
    let corpus = std::fs::read(&corpus_path).unwrap_or_else(|error| {
        eprintln!("esl4j-bench-load: cannot read {corpus_path}: {error}");
        std::process::exit(1)
    });
    if lean {
        if let Err(error) = lean::run(&corpus) {
            eprintln!("esl4j-bench-load --lean: {error}");
            std::process::exit(1)
        }
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|error| {
            eprintln!("esl4j-bench-load: cannot start the runtime: {error}");
            std::process::exit(1)
        })
        .block_on(simulate(corpus));
}

async fn simulate(corpus: Vec<u8>) {
    let config = SimConfig {
        // No heartbeats or thread latency: they would only add noise to the figures.
        heartbeat: None,
        thread_latency: Some(Duration::ZERO),
        ..SimConfig::default()
    };
    let sim = Simulator::start(config).await.unwrap_or_else(|error| {
        eprintln!("esl4j-bench-load: cannot listen: {error}");
        std::process::exit(1)
    });
    sim.set_endpoint(BENCH_ENDPOINT, Behavior::AnswerAfter(Duration::ZERO));
    let mut stdout = tokio::io::stdout();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut reply = format!("listening {}\n", sim.port());
    loop {
        if stdout.write_all(reply.as_bytes()).await.is_err() || stdout.flush().await.is_err() {
            break;
        }
        let Ok(Some(line)) = lines.next_line().await else {
            break;
        };
        reply = format!("{}\n", handle(&sim, &corpus, &line).await);
    }
    sim.shutdown().await;
}

async fn handle(sim: &Simulator, corpus: &[u8], line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["flood", events, rate @ ..] if rate.len() <= 1 => {
            let events = events.parse::<u64>();
            let rate = rate.first().map(|rate| rate.parse::<u32>()).transpose();
            match (events, rate) {
                (Ok(events), Ok(rate)) => {
                    let spec = FloodSpec {
                        events: Some(events),
                        rate,
                        ..FloodSpec::default()
                    };
                    match sim.flood(corpus, spec).await {
                        Ok(sent) => format!("flooded {sent}"),
                        Err(error) => format!("error {error}"),
                    }
                }
                _ => format!("error bad event count or rate in {line:?}"),
            }
        }
        ["outbound", extension, target] => {
            sim.route_to_socket(extension, &format!("{target} async full"));
            "routed".to_string()
        }
        ["channels"] => format!("channels {}", sim.channel_count()),
        _ => format!("error unknown request {line:?}"),
    }
}
