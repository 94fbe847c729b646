//! Runs the simulator standalone: `esl4j-sim [--port N] [--password PW] [--hostname H]`.

use esl4j_sim::{SimConfig, Simulator};

fn usage() -> ! {
    eprintln!("usage: esl4j-sim [--port N] [--password PW] [--hostname NAME]");
    std::process::exit(2)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut config = SimConfig {
        port: 8021,
        ..SimConfig::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--port" => config.port = value.parse().unwrap_or_else(|_| usage()),
            "--password" => config.password = value,
            "--hostname" => config.hostname = value,
            _ => usage(),
        }
    }
    let sim = match Simulator::start(config).await {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("esl4j-sim: cannot listen: {error}");
            std::process::exit(1);
        }
    };
    println!(
        "esl4j-sim listening on 127.0.0.1:{} (password {})",
        sim.port(),
        sim.password()
    );
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
}
