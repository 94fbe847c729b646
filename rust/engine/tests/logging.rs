//! What the engine logs: the TRACE wire log (every command written, the handshake's `auth`
//! included, with the password redacted) and repeated warnings held to one line per interval.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use esl4j_engine::proto::FrameParser;
use esl4j_engine::{Client, ClientConfig, Password};
use support::{accept_auth, api_response_frame, read_message, serve_once, Recorder};
use tokio::io::AsyncWriteExt;

const PASSWORD: &str = "S3cret-Pass";

// A current-thread runtime: the handshake runs on this thread, under its default subscriber.
#[tokio::test(flavor = "current_thread")]
async fn the_auth_command_is_traced_with_its_password_redacted() {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let _subscriber = tracing::subscriber::set_default(Recorder(lines.clone()));
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, PASSWORD).await;
        stream
    })
    .await;
    let client = Client::connect(ClientConfig::new(&address, Password::new(PASSWORD)))
        .await
        .expect("connected");
    let _stream = server.await.expect("no panic");
    let lines = Recorder::lines(&lines);
    assert!(
        lines
            .iter()
            .any(|line| line.contains("command=auth ********") && line.contains("sent")),
        "no traced auth in {lines:?}"
    );
    assert!(
        lines.iter().all(|line| !line.contains(PASSWORD)),
        "the password leaked into {lines:?}"
    );
    drop(client);
}

// A current-thread runtime: the connection's reader runs on this thread, under its subscriber.
#[tokio::test(flavor = "current_thread")]
async fn a_flood_of_undecodable_events_logs_one_warning() {
    const BAD_EVENTS: usize = 200;
    let lines = Arc::new(Mutex::new(Vec::new()));
    let _subscriber = tracing::subscriber::set_default(Recorder(lines.clone()));
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, PASSWORD).await;
        let bad = b"Content-Type: text/event-json\nContent-Length: 5\n\n{bad}";
        for _ in 0..BAD_EVENTS {
            stream.write_all(bad).await.expect("write");
        }
        // The api reply comes after every bad event, so its answer proves they were all read.
        read_message(&mut stream, &mut parser).await.expect("api");
        stream
            .write_all(&api_response_frame("pong"))
            .await
            .expect("write");
        stream
    })
    .await;
    let mut config = ClientConfig::new(&address, Password::new(PASSWORD));
    config.connection.command_timeout = Duration::from_secs(20);
    let client = Client::connect(config).await.expect("connected");
    let output = client.api("ping").await.expect("answered");
    assert_eq!(output.into_body(), b"pong");
    let _stream = server.await.expect("no panic");
    let warnings: Vec<String> = Recorder::lines(&lines)
        .into_iter()
        .filter(|line| line.starts_with("WARN esl4j_engine") && line.contains("undecodable"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
}
