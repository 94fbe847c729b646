//! Inbound client against a scripted server: transcript replays and failure scenarios.

mod support;

use std::time::Duration;

use esl4j_engine::proto::{Disposition, EventFormat, FrameParser, ServerMessage};
use esl4j_engine::{
    Client, ClientConfig, ErrorKind, ExecuteOptions, Incoming, Password, ReconnectPolicy, Response,
};
use support::{
    accept_auth, api_response_frame, connection, event_frame, play_server_side, read_message,
    reply_frame, serve_once, server_frames, Dir,
};
use tokio::io::AsyncWriteExt;

const WAIT: Duration = Duration::from_secs(10);

fn config(address: &str, password: &str) -> ClientConfig {
    let mut config = ClientConfig::new(address, Password::new(password));
    config.connection.command_timeout = WAIT;
    config
}

/// Recorded `api/response` bodies and BACKGROUND_JOB events of a transcript connection.
/// A client config that reconnects with the given backoff.
fn reconnecting(
    address: &str,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_attempts: Option<u32>,
) -> ClientConfig {
    let mut config = config(address, "ClueCon");
    config.reconnect = Some(ReconnectPolicy {
        initial_backoff,
        max_backoff,
        max_attempts,
    });
    config
}

/// A listener on a free loopback port, and its address.
async fn local_listener() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    (listener, address)
}

/// Accepts the next connection and authenticates it.
async fn accept_authenticated(
    listener: &tokio::net::TcpListener,
) -> (tokio::net::TcpStream, FrameParser) {
    let (mut stream, _) = listener.accept().await.expect("accept");
    let mut parser = FrameParser::default();
    accept_auth(&mut stream, &mut parser, "ClueCon").await;
    (stream, parser)
}

/// Connects and subscribes to `HEARTBEAT` (plain).
async fn connect_subscribed_to_heartbeats(config: ClientConfig) -> Client {
    let client = Client::connect(config).await.expect("connected");
    client
        .subscribe(EventFormat::Plain, &["HEARTBEAT"])
        .await
        .expect("subscribed");
    client
}

fn recorded_messages(records: &[support::Record]) -> Vec<ServerMessage> {
    server_frames(records)
        .into_iter()
        .map(|frame| ServerMessage::from_frame(frame).expect("classifiable"))
        .collect()
}

async fn all_items(client: &Client) -> Vec<Incoming> {
    let mut items = Vec::new();
    loop {
        match client.recv(Some(WAIT)).await {
            Ok(Some(item)) => items.push(item),
            Ok(None) => panic!("timed out waiting for the end of the stream"),
            Err(error) => {
                assert_eq!(error.kind(), ErrorKind::ConnectionClosed);
                return items;
            }
        }
    }
}

fn event_names(items: &[Incoming]) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| match item {
            Incoming::Event(event) => Some(event.name().unwrap_or_default().into_owned()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn auth_and_api_replay_transcript_01() {
    let records = connection("01_auth_api.txt", "in");
    let expected_api: Vec<Vec<u8>> = recorded_messages(&records)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::ApiResponse(api) => Some(api.into_body()),
            _ => None,
        })
        .collect();
    let script = records.clone();
    let (address, server) =
        serve_once(move |stream| async move { play_server_side(stream, &script, true).await })
            .await;
    let client = Client::connect(config(&address, "ClueCon"))
        .await
        .expect("connected");
    let mut outputs = Vec::new();
    for command in [
        "status",
        "version",
        "no_such_command",
        "global_getvar no_such_global_variable",
        "hostname",
    ] {
        outputs.push(client.api(command).await.expect("api output").into_body());
    }
    assert_eq!(outputs, expected_api);
    assert_eq!(String::from_utf8_lossy(&outputs[3]), "-ERR no reply\n");
    let unknown = client
        .send_recv("no_such_esl_command")
        .await
        .expect("reply");
    let Response::Reply(reply) = unknown else {
        panic!("expected command/reply, got {unknown:?}");
    };
    assert_eq!(reply.text(), "-ERR command not found");
    client.close().await;
    let log = server.await.expect("no panic").expect("script followed");
    assert_eq!(
        log.commands.first().map(String::as_str),
        Some("auth ClueCon")
    );
    assert_eq!(log.commands.last().map(String::as_str), Some("exit"));
    assert_eq!(
        log.commands.len(),
        records.iter().filter(|r| r.dir == Dir::ToServer).count()
    );
}

#[tokio::test]
async fn wrong_password_is_an_auth_error_without_the_password() {
    let records = connection("01_auth_api.txt", "badpw");
    let (address, server) =
        serve_once(move |stream| async move { play_server_side(stream, &records, true).await })
            .await;
    let error = Client::connect(config(&address, "not-the-password"))
        .await
        .expect_err("wrong password");
    assert_eq!(error.kind(), ErrorKind::Auth);
    assert!(error.to_string().contains("-ERR invalid"), "{error}");
    assert!(!error.to_string().contains("not-the-password"));
    server.await.expect("no panic").expect("script followed");
}

async fn bgapi_correlation(transcript: &str, formats: &[EventFormat]) {
    let records = connection(transcript, "in");
    let recorded_jobs: Vec<Vec<u8>> = recorded_messages(&records)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Event(e) if e.name().as_deref() == Some("BACKGROUND_JOB") => {
                Some(e.body().expect("job output").to_vec())
            }
            _ => None,
        })
        .collect();
    assert_eq!(recorded_jobs.len(), 2);
    let script = records.clone();
    let (address, server) =
        serve_once(move |stream| async move { play_server_side(stream, &script, false).await })
            .await;
    let client = Client::connect(config(&address, "ClueCon"))
        .await
        .expect("connected");
    for format in formats {
        let reply = client
            .subscribe(*format, &["ALL"])
            .await
            .expect("subscribed");
        assert!(reply.text().ends_with(format.as_str()), "{}", reply.text());
    }
    let first = client.bgapi("status").await.expect("job accepted");
    let first_uuid = first.uuid().to_owned();
    assert_eq!(
        first.reply().and_then(|r| r.job_uuid()).as_deref(),
        Some(first_uuid.as_str())
    );
    let first = first.wait(WAIT).await.expect("job result");
    let second = client
        .api_in_background("version", WAIT)
        .await
        .expect("job result");
    assert_eq!(
        first.header("Job-UUID").as_deref(),
        Some(first_uuid.as_str())
    );
    assert_eq!(first.body(), Some(&recorded_jobs[0][..]));
    assert_eq!(second.body(), &recorded_jobs[1][..]);
    assert_eq!(first.format(), *formats.last().expect("a format"));
    // Everything else reaches the queue, in order; the jobs went to their waiters.
    let mut names = Vec::new();
    while names.len() < 4 {
        let batch = client.recv_batch(16, Some(WAIT)).await.expect("open");
        assert!(!batch.is_empty(), "timed out; got {names:?}");
        names.extend(event_names(&batch));
    }
    assert_eq!(names, vec!["API", "API", "HEARTBEAT", "RE_SCHEDULE"]);
    assert_eq!(client.queue_stats().dropped, 0);
    client.close().await;
    server.await.expect("no panic").expect("script followed");
}

#[tokio::test]
async fn bgapi_results_correlate_with_plain_events() {
    bgapi_correlation("02_events_plain.txt", &[EventFormat::Plain]).await;
}

#[tokio::test]
async fn bgapi_results_correlate_with_json_events() {
    bgapi_correlation(
        "02_events_json.txt",
        &[EventFormat::Plain, EventFormat::Json],
    )
    .await;
}

#[tokio::test]
async fn xml_events_are_decoded() {
    let xml = "<event>\n  <headers>\n    <Event-Name>CUSTOM</Event-Name>\n    \
        <Event-Subclass>sofia%3A%3Aregister</Event-Subclass>\n    <Note>a&amp;b%20c</Note>\n  \
        </headers>\n</event>";
    let (address, server) = serve_once(move |mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        let command = read_message(&mut stream, &mut parser)
            .await
            .expect("event command");
        assert_eq!(command.first_line(), b"event xml CUSTOM sofia::register");
        stream
            .write_all(&reply_frame("+OK event listener enabled xml"))
            .await
            .expect("write");
        let frame = format!(
            "Content-Length: {}\nContent-Type: text/event-xml\n\n{xml}",
            xml.len()
        );
        stream.write_all(frame.as_bytes()).await.expect("write");
        read_message(&mut stream, &mut parser).await
    })
    .await;
    let client = Client::connect(config(&address, "ClueCon"))
        .await
        .expect("connected");
    client
        .subscribe(EventFormat::Xml, &["CUSTOM", "sofia::register"])
        .await
        .expect("subscribed");
    let Some(Incoming::Event(event)) = client.recv(Some(WAIT)).await.expect("open") else {
        panic!("expected an event");
    };
    assert_eq!(event.format(), EventFormat::Xml);
    assert_eq!(event.subclass().as_deref(), Some("sofia::register"));
    assert_eq!(event.header("note").as_deref(), Some("a&b c"));
    client.close().await;
    let exit = server.await.expect("no panic").expect("exit sent");
    assert_eq!(exit.first_line(), b"exit");
}

#[tokio::test]
async fn a_late_reply_never_reaches_the_next_command() {
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        let slow = read_message(&mut stream, &mut parser).await.expect("slow");
        // Answer the first command only once the second arrived, i.e. after its timeout.
        let fast = read_message(&mut stream, &mut parser).await.expect("fast");
        for command in [slow, fast] {
            let output = format!("{}\n", String::from_utf8_lossy(command.first_line()));
            stream
                .write_all(&api_response_frame(&output))
                .await
                .expect("write");
        }
        read_message(&mut stream, &mut parser).await
    })
    .await;
    let client = Client::connect(config(&address, "ClueCon"))
        .await
        .expect("connected");
    let slow = client
        .send_command(
            esl4j_engine::proto::command::api("slow").expect("encodable"),
            Some(Duration::from_millis(100)),
        )
        .await
        .expect_err("times out");
    assert_eq!(slow.kind(), ErrorKind::Timeout);
    let fast = client.api("fast").await.expect("reply");
    assert_eq!(fast.text(), "api fast\n");
    client.close().await;
    server.await.expect("no panic");
}

/// More command bytes than the socket buffers hold: what the sending task cannot write at once
/// waits in the outbox for the writer task, behind which later commands queue, so every reply
/// still reaches the command it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_larger_than_the_socket_buffers_keep_wire_order() {
    const COMMANDS: usize = 64;
    let padding = "x".repeat(256 * 1024);
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        for _ in 0..COMMANDS {
            let command = read_message(&mut stream, &mut parser)
                .await
                .expect("command");
            let line = String::from_utf8_lossy(command.first_line()).into_owned();
            let id = line.split(' ').nth(2).expect("id word");
            stream
                .write_all(&api_response_frame(id))
                .await
                .expect("write");
        }
        read_message(&mut stream, &mut parser).await
    })
    .await;
    let client = Client::connect(config(&address, "ClueCon"))
        .await
        .expect("connected");
    let calls: Vec<_> = (0..COMMANDS)
        .map(|id| {
            let connection = client.connection().clone();
            let command = format!("eval {id} {padding}");
            tokio::spawn(async move { (id, connection.api(&command).await) })
        })
        .collect();
    for call in calls {
        let (id, reply) = call.await.expect("no panic");
        assert_eq!(reply.expect("reply").text(), id.to_string());
    }
    client.close().await;
    server.await.expect("no panic");
}

#[tokio::test]
async fn server_closing_mid_command_fails_it_at_once() {
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        read_message(&mut stream, &mut parser)
            .await
            .expect("command");
        // Dropping the stream closes the socket with the command unanswered.
    })
    .await;
    let client = Client::connect(config(&address, "ClueCon"))
        .await
        .expect("connected");
    let error = client.api("status").await.expect_err("no reply");
    assert_eq!(error.kind(), ErrorKind::ConnectionClosed);
    assert!(error.to_string().contains("outcome unknown"), "{error}");
    server.await.expect("no panic");
    client.closed().await;
    let next = client.api("status").await.expect_err("closed");
    assert_eq!(next.kind(), ErrorKind::ConnectionClosed);
    assert!(!client.is_connected());
    assert!(all_items(&client).await.is_empty());
}

#[tokio::test]
async fn rude_rejection_is_a_typed_error() {
    let (address, server) = serve_once(|mut stream| async move {
        stream
            .write_all(
                b"Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n\
                  Content-Type: text/disconnect-notice\nContent-Length: 14\n\nDisconnected.\n",
            )
            .await
            .expect("write");
    })
    .await;
    let error = Client::connect(config(&address, "ClueCon"))
        .await
        .expect_err("rejected");
    assert_eq!(error.kind(), ErrorKind::Rejected);
    assert!(error.to_string().contains("Access Denied"), "{error}");
    server.await.expect("no panic");
}

#[tokio::test]
async fn linger_and_disconnect_notices_are_delivered() {
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        stream
            .write_all(
                b"Content-Type: text/disconnect-notice\nControlled-Session-UUID: u-1\n\
                  Content-Disposition: linger\nChannel-Name: loopback/x\nLinger-Time: -1\n\
                  Content-Length: 0\n\n\
                  Content-Type: text/disconnect-notice\nControlled-Session-UUID: u-1\n\
                  Content-Disposition: disconnect\nContent-Length: 14\n\nDisconnected.\n",
            )
            .await
            .expect("write");
    })
    .await;
    let client = Client::connect(config(&address, "ClueCon"))
        .await
        .expect("connected");
    let items = all_items(&client).await;
    let notices: Vec<_> = items
        .iter()
        .map(|item| match item {
            Incoming::Disconnect(notice) => (notice.disposition, notice.linger_time),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        notices,
        vec![
            (Disposition::Linger, Some(-1)),
            (Disposition::Disconnect, None)
        ]
    );
    server.await.expect("no panic");
}

#[tokio::test]
async fn refused_connection_is_a_typed_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    drop(listener);
    let error = Client::connect(config(&address, "ClueCon"))
        .await
        .expect_err("nothing listens");
    assert_eq!(error.kind(), ErrorKind::Refused);
}

#[tokio::test]
async fn a_capped_receive_buffer_connects_and_still_reports_refusal() {
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        read_message(&mut stream, &mut parser).await.expect("api");
        let reply = "Content-Type: api/response\nContent-Length: 3\n\n+OK";
        stream.write_all(reply.as_bytes()).await.expect("write");
        read_message(&mut stream, &mut parser).await
    })
    .await;
    let mut capped = config(&address, "ClueCon");
    capped.connection.receive_buffer_size = Some(64 * 1024);
    let client = Client::connect(capped.clone()).await.expect("connected");
    assert_eq!(client.api("status").await.expect("reply").text(), "+OK");
    client.close().await;
    server.await.expect("no panic");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    capped.address = listener.local_addr().expect("address").to_string();
    drop(listener);
    let error = Client::connect(capped).await.expect_err("nothing listens");
    assert_eq!(error.kind(), ErrorKind::Refused);
}

#[tokio::test]
async fn silent_server_times_out_authentication() {
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        // Never send auth/request; wait for the client to give up and close.
        read_message(&mut stream, &mut parser).await
    })
    .await;
    let mut config = config(&address, "ClueCon");
    config.auth_timeout = Duration::from_millis(200);
    let error = Client::connect(config).await.expect_err("no auth/request");
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(server.await.expect("no panic").is_none());
}

#[tokio::test]
async fn idle_deadline_detects_a_dead_peer() {
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        // Stay silent until the client gives up on us and closes.
        let command = read_message(&mut stream, &mut parser).await;
        assert!(read_message(&mut stream, &mut parser).await.is_none());
        command
    })
    .await;
    let mut config = config(&address, "ClueCon");
    config.connection.idle_timeout = Some(Duration::from_millis(200));
    let client = Client::connect(config).await.expect("connected");
    let pending = client.api("status").await.expect_err("peer is dead");
    assert_eq!(pending.kind(), ErrorKind::ConnectionClosed);
    assert!(pending.to_string().contains("presumed dead"), "{pending}");
    let seen = server.await.expect("no panic").expect("the api command");
    assert_eq!(seen.first_line(), b"api status");
}

#[tokio::test]
async fn reconnect_replays_subscriptions_and_reports_the_gap() {
    let (listener, address) = local_listener().await;
    let server = tokio::spawn(async move {
        // First connection: accept the subscriptions, then die with a command pending.
        let (mut stream, mut parser) = accept_authenticated(&listener).await;
        let mut first = Vec::new();
        for _ in 0..3 {
            let command = read_message(&mut stream, &mut parser)
                .await
                .expect("command");
            first.push(String::from_utf8_lossy(command.first_line()).into_owned());
            if first.len() < 3 {
                stream.write_all(&reply_frame("+OK")).await.expect("write");
            }
        }
        drop(stream);
        // Second connection: the client must replay before anything else.
        let (mut stream, mut parser) = accept_authenticated(&listener).await;
        let mut replayed = Vec::new();
        for _ in 0..2 {
            let command = read_message(&mut stream, &mut parser)
                .await
                .expect("replay");
            replayed.push(String::from_utf8_lossy(command.first_line()).into_owned());
            stream.write_all(&reply_frame("+OK")).await.expect("write");
        }
        stream
            .write_all(&event_frame(
                &[("Event-Name", "HEARTBEAT"), ("Event-Sequence", "9")],
                None,
            ))
            .await
            .expect("write");
        read_message(&mut stream, &mut parser).await;
        (first, replayed)
    });
    let config = reconnecting(
        &address,
        Duration::from_millis(10),
        Duration::from_millis(100),
        Some(50),
    );
    let client = connect_subscribed_to_heartbeats(config).await;
    client
        .filter("Event-Name", "HEARTBEAT")
        .await
        .expect("filtered");
    let lost = client.api("status").await.expect_err("connection dropped");
    assert_eq!(lost.kind(), ErrorKind::ConnectionClosed);
    let lost_notice = client
        .recv(Some(WAIT))
        .await
        .expect("open")
        .expect("disconnect notice");
    assert!(
        matches!(&lost_notice, Incoming::Disconnected { reason } if !reason.is_empty()),
        "{lost_notice:?}"
    );
    let gap = client
        .recv(Some(WAIT))
        .await
        .expect("open")
        .expect("gap notice");
    assert!(
        matches!(gap, Incoming::Reconnected { attempts, gap } if attempts >= 1 && !gap.is_zero()),
        "{gap:?}"
    );
    let Some(Incoming::Event(event)) = client.recv(Some(WAIT)).await.expect("open") else {
        panic!("expected the event after the reconnect");
    };
    assert_eq!(event.name().as_deref(), Some("HEARTBEAT"));
    client.close().await;
    let (first, replayed) = server.await.expect("no panic");
    assert_eq!(
        first[..2],
        ["event plain HEARTBEAT", "filter Event-Name HEARTBEAT"]
    );
    assert_eq!(
        replayed,
        ["event plain HEARTBEAT", "filter Event-Name HEARTBEAT"]
    );
}

#[tokio::test]
async fn execute_completes_on_its_event_and_fails_on_hangup() {
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        for outcome in ["CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP_COMPLETE"] {
            let message = read_message(&mut stream, &mut parser)
                .await
                .expect("sendmsg");
            assert_eq!(message.first_line(), b"sendmsg chan-1");
            let id = message
                .header("Event-UUID")
                .expect("Event-UUID")
                .into_owned();
            stream.write_all(&reply_frame("+OK")).await.expect("write");
            // An unrelated completion first: it must not complete our waiter.
            let other = event_frame(
                &[
                    ("Event-Name", "CHANNEL_EXECUTE_COMPLETE"),
                    ("Application-UUID", "other"),
                ],
                None,
            );
            stream.write_all(&other).await.expect("write");
            let event = event_frame(
                &[
                    ("Event-Name", outcome),
                    ("Unique-ID", "chan-1"),
                    ("Application-UUID", &id),
                    ("Application-Response", "FILE PLAYED"),
                ],
                None,
            );
            stream.write_all(&event).await.expect("write");
        }
        read_message(&mut stream, &mut parser).await
    })
    .await;
    let client = Client::connect(config(&address, "ClueCon"))
        .await
        .expect("connected");
    let options = ExecuteOptions {
        uuid: Some("chan-1".to_owned()),
        wait_for_completion: true,
        ..ExecuteOptions::default()
    };
    let done = client
        .execute("playback", Some("a.wav"), &options)
        .await
        .expect("completed");
    let completion = done.completion.expect("completion event");
    assert_eq!(
        completion.header("Application-UUID").as_deref(),
        Some(done.event_uuid.as_str())
    );
    let error = client
        .execute("playback", Some("b.wav"), &options)
        .await
        .expect_err("hung up");
    assert_eq!(error.kind(), ErrorKind::CommandFailed);
    assert!(error.to_string().contains("hung up"), "{error}");
    client.close().await;
    server.await.expect("no panic");
}

#[tokio::test]
async fn injection_is_refused_before_sending() {
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        read_message(&mut stream, &mut parser).await
    })
    .await;
    let client = Client::connect(config(&address, "ClueCon"))
        .await
        .expect("connected");
    let error = client.api("status\n\nexit").await.expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::InvalidCommand);
    let error = client
        .filter("Event-Name", "X\r\nexit")
        .await
        .expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::InvalidCommand);
    client.close().await;
    let first = server.await.expect("no panic").expect("a message");
    assert_eq!(
        first.first_line(),
        b"exit",
        "nothing but exit may reach the server"
    );
}

#[tokio::test]
async fn originate_session_replays_transcript_03_in_order() {
    let records = connection("03_originate_inbound.txt", "in");
    let recorded = recorded_messages(&records);
    let expected_api: Vec<Vec<u8>> = recorded
        .iter()
        .filter_map(|m| match m {
            ServerMessage::ApiResponse(api) => Some(api.body().to_vec()),
            _ => None,
        })
        .collect();
    let expected_sequence: Vec<String> = recorded
        .iter()
        .filter_map(|m| match m {
            ServerMessage::Event(e) if e.name().as_deref() != Some("BACKGROUND_JOB") => {
                Some(e.header("Event-Sequence").expect("sequence").into_owned())
            }
            _ => None,
        })
        .collect();
    let commands: Vec<String> = records
        .iter()
        .filter(|r| r.dir == Dir::ToServer)
        .map(|r| String::from_utf8_lossy(&r.bytes).trim_end().to_owned())
        .collect();
    let script = records.clone();
    let (address, server) =
        serve_once(move |stream| async move { play_server_side(stream, &script, false).await })
            .await;
    let client = Client::connect(config(&address, "ClueCon"))
        .await
        .expect("connected");
    let mut outputs = Vec::new();
    for command in &commands[1..] {
        if let Some(api) = command.strip_prefix("api ") {
            outputs.push(client.api(api).await.expect("api output").into_body());
        } else if let Some(bgapi) = command.strip_prefix("bgapi ") {
            let job = client.bgapi(bgapi).await.expect("job accepted");
            let result = job.wait(WAIT).await.expect("job result");
            assert!(result.body_text().unwrap_or_default().contains("NO_ANSWER"));
        } else {
            assert_eq!(command, "event plain ALL");
            client
                .subscribe(EventFormat::Plain, &["ALL"])
                .await
                .expect("subscribed");
        }
    }
    assert_eq!(outputs, expected_api);
    // Every other event reaches the queue exactly once, in wire order.
    let mut sequence = Vec::new();
    while sequence.len() < expected_sequence.len() {
        let batch = client.recv_batch(1024, Some(WAIT)).await.expect("open");
        assert!(
            !batch.is_empty(),
            "timed out after {} events",
            sequence.len()
        );
        for item in batch {
            let Incoming::Event(event) = item else {
                panic!("unexpected {item:?}");
            };
            sequence.push(
                event
                    .header("Event-Sequence")
                    .expect("sequence")
                    .into_owned(),
            );
        }
    }
    assert_eq!(sequence, expected_sequence);
    assert_eq!(client.queue_stats().dropped, 0);
    client.close().await;
    server.await.expect("no panic").expect("script followed");
}

#[tokio::test]
async fn a_full_queue_drops_the_oldest_droppable_events_only() {
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        let mut flood = event_frame(&[("Event-Name", "CHANNEL_HANGUP")], None);
        for sequence in 0..20 {
            let sequence = sequence.to_string();
            flood.extend(event_frame(
                &[("Event-Name", "HEARTBEAT"), ("Event-Sequence", &sequence)],
                None,
            ));
        }
        stream.write_all(&flood).await.expect("write");
        // The reply follows every event on the wire, so once the client has it, the reader
        // has queued (or dropped) all of them.
        read_message(&mut stream, &mut parser).await.expect("api");
        let reply = "Content-Type: api/response\nContent-Length: 3\n\n+OK";
        stream.write_all(reply.as_bytes()).await.expect("write");
        read_message(&mut stream, &mut parser).await
    })
    .await;
    let mut config = config(&address, "ClueCon");
    config.connection.event_queue_capacity = 4;
    let client = Client::connect(config).await.expect("connected");
    client.api("marker").await.expect("reply after the flood");
    let stats = client.queue_stats();
    assert_eq!((stats.received, stats.dropped, stats.queued), (21, 17, 4));
    let batch = client.recv_batch(10, Some(WAIT)).await.expect("open");
    let kept: Vec<String> = batch
        .iter()
        .map(|item| match item {
            Incoming::Event(e) => format!(
                "{}{}",
                e.name().unwrap_or_default(),
                e.header("Event-Sequence").unwrap_or_default()
            ),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        kept,
        [
            "CHANNEL_HANGUP",
            "HEARTBEAT17",
            "HEARTBEAT18",
            "HEARTBEAT19"
        ]
    );
    client.close().await;
    server.await.expect("no panic");
}

#[tokio::test]
async fn a_raw_exit_ends_the_client_without_reconnecting() {
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        let exit = read_message(&mut stream, &mut parser).await.expect("exit");
        stream
            .write_all(&reply_frame("+OK bye"))
            .await
            .expect("write");
        exit
    })
    .await;
    let mut config = config(&address, "ClueCon");
    config.reconnect = Some(ReconnectPolicy {
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(10),
        max_attempts: None,
    });
    let client = Client::connect(config).await.expect("connected");
    let reply = client.send_recv("exit").await.expect("reply");
    assert!(matches!(reply, Response::Reply(r) if r.text() == "+OK bye"));
    let exit = server.await.expect("no panic");
    assert_eq!(exit.first_line(), b"exit");
    // The listener is gone: a reconnect attempt would retry forever and never end.
    tokio::time::timeout(WAIT, client.closed())
        .await
        .expect("ended without reconnecting");
    assert!(client.last_gap().is_none());
}

#[tokio::test]
async fn a_refused_subscription_replay_fails_the_attempt_and_the_next_one_succeeds() {
    let (listener, address) = local_listener().await;
    let server = tokio::spawn(async move {
        let (mut stream, mut parser) = accept_authenticated(&listener).await;
        read_message(&mut stream, &mut parser).await.expect("event");
        stream.write_all(&reply_frame("+OK")).await.expect("write");
        drop(stream);
        // Two reconnects: the first refuses the replayed subscription, the second accepts it.
        let mut replayed = Vec::new();
        for answer in ["-ERR no reply", "+OK event listener enabled plain"] {
            let (mut stream, mut parser) = accept_authenticated(&listener).await;
            let command = read_message(&mut stream, &mut parser)
                .await
                .expect("replay");
            replayed.push(String::from_utf8_lossy(command.first_line()).into_owned());
            stream.write_all(&reply_frame(answer)).await.expect("write");
            if answer.starts_with('+') {
                read_message(&mut stream, &mut parser).await;
            }
        }
        replayed
    });
    let config = reconnecting(
        &address,
        Duration::from_millis(10),
        Duration::from_millis(20),
        Some(5),
    );
    let client = connect_subscribed_to_heartbeats(config).await;
    let lost = client.recv(Some(WAIT)).await.expect("open");
    assert!(
        matches!(lost, Some(Incoming::Disconnected { .. })),
        "{lost:?}"
    );
    let back = client.recv(Some(WAIT)).await.expect("open");
    assert!(
        matches!(back, Some(Incoming::Reconnected { attempts: 2, .. })),
        "{back:?}"
    );
    assert!(client.is_connected());
    client.close().await;
    let replayed = server.await.expect("no panic");
    assert_eq!(replayed, ["event plain HEARTBEAT", "event plain HEARTBEAT"]);
}

#[tokio::test]
async fn close_ends_a_reconnect_at_once() {
    let (listener, address) = local_listener().await;
    let server = tokio::spawn(async move {
        drop(accept_authenticated(&listener).await);
        listener
    });
    // Only close() can end a reconnect whose first attempt is an hour away.
    let config = reconnecting(
        &address,
        Duration::from_secs(3600),
        Duration::from_secs(3600),
        None,
    );
    let client = Client::connect(config).await.expect("connected");
    let lost = client.recv(Some(WAIT)).await.expect("open");
    assert!(
        matches!(lost, Some(Incoming::Disconnected { .. })),
        "{lost:?}"
    );
    client.close().await;
    tokio::time::timeout(WAIT, client.closed())
        .await
        .expect("the reconnect ended at once");
    assert!(!client.is_connected());
    drop(server.await.expect("no panic"));
}
