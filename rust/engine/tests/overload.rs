//! The overload contract against scripted servers: replies never wait behind events, critical
//! events are never dropped below the hard cap, the hard cap overloads the connection with a
//! typed error and a notice, replies are checked against what is pending, and a peer that
//! stops making sense (short body, silence, disconnect notice on an open socket) ends the
//! connection instead of wedging it.

mod support;

use std::sync::Arc;
use std::time::Duration;

use esl4j_engine::proto::{Disposition, FrameParser};
use esl4j_engine::{Client, ClientConfig, ErrorKind, Incoming, OverflowPolicy, Password};
use support::{accept_auth, event_frame, read_message, reply_frame, serve_once};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// Far above every deadline used here: only a hang reaches it.
const HANG_BOUND: Duration = Duration::from_secs(20);

fn config(address: &str) -> ClientConfig {
    let mut config = ClientConfig::new(address, Password::new("ClueCon"));
    config.connection.command_timeout = Duration::from_secs(10);
    config
}

fn api_response(body: &str) -> Vec<u8> {
    format!(
        "Content-Type: api/response\nContent-Length: {}\n\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A flood of `count` events whose every `critical_every`-th is a `CHANNEL_HANGUP` (0: none),
/// the others `HEARTBEAT`s; every event carries its `Event-Sequence`.
fn flood(count: usize, critical_every: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    for sequence in 0..count {
        let critical = critical_every > 0 && sequence % critical_every == 0;
        let name = if critical {
            "CHANNEL_HANGUP"
        } else {
            "HEARTBEAT"
        };
        let sequence = sequence.to_string();
        bytes.extend(event_frame(
            &[("Event-Name", name), ("Event-Sequence", &sequence)],
            None,
        ));
    }
    bytes
}

/// Answers `api eval <text>` with `<text>` on the shared writer until the client goes.
async fn answer_evals(
    reader: &mut tokio::net::tcp::OwnedReadHalf,
    parser: &mut FrameParser,
    writer: &Mutex<OwnedWriteHalf>,
) {
    loop {
        let Some(command) = read_frame(reader, parser).await else {
            return;
        };
        let line = String::from_utf8_lossy(command.first_line()).into_owned();
        let reply = match line.strip_prefix("api eval ") {
            Some(text) => api_response(text),
            None => reply_frame("+OK bye"),
        };
        if writer.lock().await.write_all(&reply).await.is_err() || line == "exit" {
            return;
        }
    }
}

async fn read_frame(
    reader: &mut tokio::net::tcp::OwnedReadHalf,
    parser: &mut FrameParser,
) -> Option<esl4j_engine::proto::Frame> {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(frame) = parser.next_frame().expect("valid client frames") {
            return Some(frame);
        }
        let count = reader.read(&mut buffer).await.ok()?;
        if count == 0 {
            return None;
        }
        parser.feed(&buffer[..count]);
    }
}

/// Authenticates, then floods `events` while answering `api eval` commands in between, as
/// FreeSWITCH interleaves replies with its event stream.
async fn flood_while_answering(mut stream: TcpStream, events: usize) {
    let mut parser = FrameParser::default();
    accept_auth(&mut stream, &mut parser, "ClueCon").await;
    let (mut reader, writer) = stream.into_split();
    let writer = Arc::new(Mutex::new(writer));
    let flooder = {
        let writer = writer.clone();
        tokio::spawn(async move {
            for chunk in 0..events / 100 {
                let bytes = flood(100, 0);
                if writer.lock().await.write_all(&bytes).await.is_err() {
                    return chunk * 100;
                }
            }
            events
        })
    };
    answer_evals(&mut reader, &mut parser, &writer).await;
    flooder.abort();
}

/// The libesl loop on one task: take 1,000 events, run `api`, again. Under `Block` the reader
/// used to stop reading at the full queue, so the reply stayed behind unread events.
#[tokio::test]
async fn a_reply_never_waits_behind_events_under_block() {
    const EVENTS: usize = 20_000;
    let (address, server) = serve_once(|stream| flood_while_answering(stream, EVENTS)).await;
    let mut config = config(&address);
    config.connection.overflow_policy = OverflowPolicy::Block;
    config.connection.event_queue_capacity = 64;
    config.connection.receive_buffer_size = Some(64 * 1024);
    let client = Client::connect(config).await.expect("connected");
    let mut received = 0;
    let mut call = 0;
    while received < EVENTS {
        let batch = tokio::time::timeout(
            HANG_BOUND,
            client.recv_batch(1_000 - received % 1_000, None),
        )
        .await
        .expect("events keep coming")
        .expect("open");
        received += batch
            .iter()
            .filter(|item| matches!(item, Incoming::Event(_)))
            .count();
        if received % 1_000 == 0 {
            call += 1;
            let text = format!("call{call}");
            let reply = tokio::time::timeout(HANG_BOUND, client.api(&format!("eval {text}")))
                .await
                .expect("no hang")
                .expect("the reply is read past the full queue");
            assert_eq!(reply.text(), text, "every call gets its own reply");
        }
    }
    let stats = client.queue_stats();
    assert_eq!((stats.dropped, stats.critical_dropped), (0, 0));
    assert!(
        stats.spilled > 0,
        "the replies were read past the soft bound"
    );
    client.close().await;
    server.await.expect("no panic");
}

/// A stalled consumer under `DropOldest`: ordinary events are dropped, hang-ups all kept.
#[tokio::test]
async fn critical_events_are_never_dropped_below_the_hard_cap() {
    const EVENTS: usize = 10_000;
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        read_message(&mut stream, &mut parser).await.expect("api");
        let mut bytes = flood(EVENTS, 4);
        // The reply follows every event on the wire: once the client has it, all were read.
        bytes.extend(api_response("done"));
        stream.write_all(&bytes).await.expect("write");
        read_message(&mut stream, &mut parser).await
    })
    .await;
    let mut config = config(&address);
    config.connection.event_queue_capacity = 100;
    let client = Client::connect(config).await.expect("connected");
    assert_eq!(client.api("eval done").await.expect("reply").text(), "done");
    let stats = client.queue_stats();
    assert_eq!(stats.critical_dropped, 0);
    let (mut hangups, mut others) = (0, 0);
    while let Some(item) = client.try_recv().expect("open") {
        if let Incoming::Event(event) = item {
            match event.name().as_deref() {
                Some("CHANNEL_HANGUP") => hangups += 1,
                _ => others += 1,
            }
        }
    }
    assert_eq!(hangups, EVENTS / 4, "every hang-up kept");
    assert_eq!(
        others + stats.dropped as usize,
        EVENTS - EVENTS / 4,
        "every other event delivered or counted as dropped"
    );
    assert!(stats.dropped > 0);
    client.close().await;
    server.await.expect("no panic");
}

/// Past the hard cap: the pending command fails with `Overloaded`, the queue ends with a
/// notice carrying the counts, and the queue never held more than the cap.
#[tokio::test]
async fn the_hard_cap_overloads_the_connection_with_a_typed_error_and_a_notice() {
    const CAP: usize = 1_000;
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        read_message(&mut stream, &mut parser).await.expect("api");
        let _ = stream.write_all(&flood(5 * CAP, 1)).await;
        read_message(&mut stream, &mut parser).await
    })
    .await;
    let mut config = config(&address);
    config.connection.event_queue_capacity = 10;
    config.connection.spill_max_events = CAP;
    let client = Client::connect(config).await.expect("connected");
    let error = tokio::time::timeout(HANG_BOUND, client.api("eval never"))
        .await
        .expect("no hang")
        .expect_err("overloaded");
    assert_eq!(error.kind(), ErrorKind::Overloaded);
    tokio::time::timeout(HANG_BOUND, client.closed())
        .await
        .expect("the overloaded connection ends");
    assert!(!client.is_connected());
    let stats = client.queue_stats();
    assert_eq!(stats.overloads, 1);
    assert!(stats.critical_dropped >= 1);
    assert!(stats.high_water <= CAP + 1, "bounded: {stats:?}");
    let mut events = 0;
    let mut notice = None;
    while let Ok(Some(item)) = client.try_recv() {
        match item {
            Incoming::Event(_) => events += 1,
            Incoming::Overloaded(counts) => notice = Some(counts),
            other => panic!("unexpected {other:?}"),
        }
    }
    let counts = notice.expect("an overload notice");
    assert_eq!(events, CAP);
    assert_eq!(counts.queued, CAP);
    assert_eq!(counts.critical_dropped, stats.critical_dropped);
    server.await.expect("no panic");
}

/// An `api/response` where a `command/reply` is awaited is not handed to the command, and
/// the following replies stay in step.
#[tokio::test]
async fn an_unsolicited_reply_does_not_shift_later_replies() {
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        read_message(&mut stream, &mut parser).await.expect("event");
        let mut bytes = api_response("nobody asked");
        bytes.extend(reply_frame("+OK event listener enabled plain"));
        stream.write_all(&bytes).await.expect("write");
        for answer in ["first", "second"] {
            read_message(&mut stream, &mut parser).await.expect("api");
            stream
                .write_all(&api_response(answer))
                .await
                .expect("write");
        }
        read_message(&mut stream, &mut parser).await
    })
    .await;
    let client = Client::connect(config(&address)).await.expect("connected");
    let reply = client
        .subscribe(esl4j_engine::proto::EventFormat::Plain, &["ALL"])
        .await
        .expect("the subscription gets its own reply");
    assert!(reply.is_ok());
    assert_eq!(
        client.api("eval first").await.expect("reply").text(),
        "first"
    );
    assert_eq!(
        client.api("eval second").await.expect("reply").text(),
        "second"
    );
    assert_eq!(client.queue_stats().unsolicited_replies, 1);
    client.close().await;
    server.await.expect("no panic");
}

/// Runs `script` as the server after auth; returns a connected client with a short command
/// timeout.
async fn connect_to_misbehaving_server<F, Fut>(script: F) -> (Client, tokio::task::JoinHandle<()>)
where
    F: FnOnce(TcpStream, FrameParser) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        script(stream, parser).await;
    })
    .await;
    let mut config = config(&address);
    config.connection.command_timeout = Duration::from_millis(300);
    (Client::connect(config).await.expect("connected"), server)
}

/// Reads and ignores everything until the client goes.
async fn drain(mut stream: TcpStream, mut parser: FrameParser) {
    while read_message(&mut stream, &mut parser).await.is_some() {}
}

/// A reply whose body never completes: the connection is declared broken once the frame has
/// been stuck longer than the command deadline, instead of failing every later command.
#[tokio::test]
async fn a_short_body_ends_the_connection() {
    let (client, server) = connect_to_misbehaving_server(|mut stream, mut parser| async move {
        read_message(&mut stream, &mut parser).await.expect("api");
        stream
            .write_all(b"Content-Type: api/response\nContent-Length: 100\n\nonly part of it")
            .await
            .expect("write");
        drain(stream, parser).await;
    })
    .await;
    // Its own timeout comes first unless the machine stalls past both deadlines at once.
    client.api("status").await.expect_err("no whole reply");
    tokio::time::timeout(HANG_BOUND, client.closed())
        .await
        .expect("the stuck frame ends the connection");
    let error = client.api("status").await.expect_err("closed");
    assert_eq!(error.kind(), ErrorKind::ConnectionClosed);
    server.await.expect("no panic");
}

/// A peer that reads commands and never answers: three timeouts in a row end the connection.
#[tokio::test]
async fn three_command_timeouts_in_a_row_end_the_connection() {
    let (client, server) = connect_to_misbehaving_server(drain).await;
    for _ in 0..3 {
        let error = client.api("status").await.expect_err("no answer");
        assert_eq!(error.kind(), ErrorKind::Timeout);
    }
    tokio::time::timeout(HANG_BOUND, client.closed())
        .await
        .expect("the silent peer is presumed broken");
    assert!(!client.is_connected());
    server.await.expect("no panic");
}

/// A disconnect notice with the socket left open ends the connection at once, as libesl
/// does: the pending command fails instead of waiting for its deadline.
#[tokio::test]
async fn a_disconnect_notice_ends_the_connection_even_if_the_socket_stays_open() {
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        read_message(&mut stream, &mut parser).await.expect("api");
        stream
            .write_all(
                b"Content-Type: text/disconnect-notice\nContent-Length: 14\n\nDisconnected.\n",
            )
            .await
            .expect("write");
        drain(stream, parser).await;
    })
    .await;
    let mut config = config(&address);
    config.connection.command_timeout = Duration::from_secs(60);
    let client = Client::connect(config).await.expect("connected");
    let error = tokio::time::timeout(HANG_BOUND, client.api("status"))
        .await
        .expect("failed at the notice, long before the deadline")
        .expect_err("ended");
    assert_eq!(error.kind(), ErrorKind::ConnectionClosed);
    assert!(!client.is_connected());
    let Ok(Some(Incoming::Disconnect(notice))) = client.try_recv() else {
        panic!("the notice is delivered");
    };
    assert_eq!(notice.disposition, Disposition::Disconnect);
    client.close().await;
    server.await.expect("no panic");
}
