//! The standalone binary serves the protocol on the port it reports.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use support::RawConn;

#[tokio::test]
async fn binary_listens_and_answers() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_esl4j-sim"))
        .args(["--port", "0", "--password", "s3cret", "--hostname", "box"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    // "esl4j-sim listening on 127.0.0.1:PORT (password s3cret)"
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(support::WAIT, line)
        .await
        .expect("prints in time")
        .expect("join")
        .expect("read");
    let port: u16 = line
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    let mut conn = RawConn::connect(port).await;
    conn.wait_until("auth/request", |f| !f.is_empty()).await;
    assert_eq!(
        conn.command("auth s3cret")
            .await
            .header("Reply-Text")
            .as_deref(),
        Some("+OK accepted")
    );
    assert_eq!(
        String::from_utf8_lossy(conn.command("api hostname").await.body()),
        "box"
    );
    child.kill().expect("stop the binary");
    let _ = child.wait();
}
