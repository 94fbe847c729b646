//! The TRACE wire log: every command written, the handshake's `auth` included, with the
//! password redacted.

mod support;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use esl4j_engine::proto::FrameParser;
use esl4j_engine::{Client, ClientConfig, Password};
use support::{accept_auth, serve_once};

const PASSWORD: &str = "S3cret-Pass";

/// Every event's fields as one line, on the thread it is the default subscriber of.
struct Recorder(Arc<Mutex<Vec<String>>>);

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
        let mut fields = Fields(String::new());
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
    let lines = lines
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
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
