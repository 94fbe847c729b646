//! What the engine logs: the TRACE wire log (every command written, the handshake's `auth`
//! included, with the password redacted) and repeated warnings held to one line per interval.

mod support;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use esl4j_engine::proto::FrameParser;
use esl4j_engine::{Client, ClientConfig, Password};
use support::{accept_auth, api_response_frame, read_message, serve_once};
use tokio::io::AsyncWriteExt;

const PASSWORD: &str = "S3cret-Pass";

/// Every event's level and fields as one line, on the thread it is the default subscriber of.
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    fn lines(lines: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
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
        let mut fields = Fields(format!("{} ", event.metadata().level()));
        event.record(&mut fields);
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(fields.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

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
        .filter(|line| line.starts_with("WARN") && line.contains("undecodable"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
}
