//! Outbound listener: the test plays FreeSWITCH, connecting to our `Server` and replaying
//! transcripts 04-07, plus the session cap, handshake deadline and graceful shutdown.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use esl4j_engine::proto::command::SendMsg;
use esl4j_engine::proto::{Disposition, EventFormat, FrameParser};
use esl4j_engine::{
    ConnectionConfig, ErrorKind, ExecuteOptions, Incoming, Server, ServerConfig, Session,
    SocketMode,
};
use support::{
    connection, play_server_side, read_message, reply_frame, Dir, PlayLog, Record, Recorder,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

async fn server(max_sessions: usize, handshake: Duration) -> Server {
    let mut config = ServerConfig::new("127.0.0.1:0");
    config.max_sessions = max_sessions;
    config.handshake_timeout = handshake;
    config.connection.command_timeout = WAIT;
    Server::bind(config).await.expect("bound")
}

/// Connects as FreeSWITCH and replays the `out` side of `transcript`.
async fn play_freeswitch(
    server: &Server,
    transcript: &str,
) -> (
    Vec<Record>,
    tokio::task::JoinHandle<Result<PlayLog, String>>,
) {
    let records = connection(transcript, "out");
    let stream = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let script = records.clone();
    let play = tokio::spawn(async move { play_server_side(stream, &script, true).await });
    (records, play)
}

async fn accept(server: &Server) -> Session {
    server
        .accept_timeout(WAIT)
        .await
        .expect("listening")
        .expect("a session within the deadline")
}

fn waited(options: ExecuteOptions) -> ExecuteOptions {
    ExecuteOptions {
        wait_for_completion: true,
        timeout: Some(WAIT),
        ..options
    }
}

/// Drains the queue until `stop` matches; returns the event names and the stopping item.
async fn events_until(
    session: &Session,
    stop: impl Fn(&Incoming) -> bool,
) -> (Vec<String>, Incoming) {
    let mut names = Vec::new();
    loop {
        let item = session
            .recv(Some(WAIT))
            .await
            .expect("open")
            .expect("an item within the deadline");
        if stop(&item) {
            return (names, item);
        }
        if let Incoming::Event(event) = &item {
            names.push(event.name().unwrap_or_default().into_owned());
        }
    }
}

fn is_notice(item: &Incoming, disposition: Disposition) -> bool {
    matches!(item, Incoming::Disconnect(notice) if notice.disposition == disposition)
}

/// myevents, linger, answer: the start shared by transcripts 04-07.
async fn answer(session: &Session, linger: Option<u32>) {
    let reply = session
        .myevents(None, EventFormat::Plain)
        .await
        .expect("myevents");
    assert_eq!(reply.text(), "+OK Events Enabled");
    let reply = session.linger(linger).await.expect("linger");
    assert!(
        reply.text().starts_with("+OK will linger"),
        "{}",
        reply.text()
    );
    let answered = session
        .execute("answer", None, &waited(ExecuteOptions::default()))
        .await
        .expect("answered");
    let completion = answered.completion.expect("completion");
    assert_eq!(completion.header("Application").as_deref(), Some("answer"));
}

async fn check_bridge_failure(session: &Session, arg: &str, cause: &str) {
    let bridged = session
        .execute("bridge", Some(arg), &waited(ExecuteOptions::default()))
        .await
        .expect("bridge completes");
    let completion = bridged.completion.expect("completion");
    assert_eq!(completion.header("Application").as_deref(), Some("bridge"));
    assert_eq!(
        completion.header("Application-UUID").as_deref(),
        Some(bridged.event_uuid.as_str())
    );
    assert_eq!(
        completion
            .header("variable_originate_disposition")
            .as_deref(),
        Some(cause)
    );
}

fn commands_sent(records: &[Record]) -> usize {
    records.iter().filter(|r| r.dir == Dir::ToServer).count()
}

async fn leg_timeout_with_linger_forever(transcript: &str, mode: SocketMode) {
    let server = server(4, WAIT).await;
    let (records, play) = play_freeswitch(&server, transcript).await;
    let session = accept(&server).await;
    assert_eq!(session.socket_mode(), mode);
    assert!(session.is_full_control());
    assert_eq!(session.channel_data().len(), 103);
    assert_eq!(
        session.channel_data().name().as_deref(),
        Some("CHANNEL_DATA")
    );
    let uuid = session.uuid().expect("Unique-ID");
    answer(&session, None).await;
    check_bridge_failure(
        &session,
        "{leg_timeout=3}loopback/noanswer/default",
        "ALLOTTED_TIMEOUT",
    )
    .await;
    let (names, notice) = events_until(&session, |i| is_notice(i, Disposition::Linger)).await;
    let Incoming::Disconnect(notice) = notice else {
        unreachable!("stopped on a notice");
    };
    assert_eq!(notice.linger_time, Some(-1));
    assert_eq!(
        notice.controlled_session_uuid.as_deref(),
        Some(uuid.as_str())
    );
    assert!(names.contains(&"CHANNEL_HANGUP".to_owned()), "{names:?}");
    // Async: the hang-up completes before the linger notice; sync: not while lingering.
    let hangup_complete = names.contains(&"CHANNEL_HANGUP_COMPLETE".to_owned());
    assert_eq!(hangup_complete, mode == SocketMode::Async, "{names:?}");
    session.close().await;
    let log = play.await.expect("no panic").expect("script followed");
    assert_eq!(log.commands.len(), commands_sent(&records));
    assert_eq!(log.commands.last().map(String::as_str), Some("exit"));
}

#[tokio::test]
async fn async_session_replays_transcript_04() {
    leg_timeout_with_linger_forever(
        "04_outbound_async_bridge_leg_timeout.txt",
        SocketMode::Async,
    )
    .await;
}

#[tokio::test]
async fn sync_session_replays_transcript_07() {
    leg_timeout_with_linger_forever(
        "07_outbound_sync_bridge_leg_timeout.txt",
        SocketMode::Static,
    )
    .await;
}

#[tokio::test]
async fn call_timeout_and_timed_linger_replay_transcript_05() {
    let server = server(4, WAIT).await;
    let (records, play) =
        play_freeswitch(&server, "05_outbound_async_bridge_call_timeout.txt").await;
    let session = accept(&server).await;
    answer(&session, Some(2)).await;
    let set = session
        .execute(
            "set",
            Some("call_timeout=3"),
            &waited(ExecuteOptions::default()),
        )
        .await
        .expect("set");
    assert!(set.completion.is_some());
    check_bridge_failure(&session, "loopback/noanswer/default", "NO_ANSWER").await;
    let hangup = session
        .sendmsg(&SendMsg::hangup(Some("NORMAL_CLEARING")), None)
        .await
        .expect("hangup queued");
    assert!(hangup.is_ok());
    // FreeSWITCH itself ends the linger and closes the socket.
    let (names, _) = events_until(&session, |i| is_notice(i, Disposition::Linger)).await;
    assert_eq!(
        names.last().map(String::as_str),
        Some("CHANNEL_HANGUP_COMPLETE")
    );
    let (_, last) = events_until(&session, |i| is_notice(i, Disposition::Disconnect)).await;
    assert!(matches!(last, Incoming::Disconnect(_)));
    let end = session
        .recv(Some(WAIT))
        .await
        .expect_err("closed by FreeSWITCH");
    assert_eq!(end.kind(), ErrorKind::ConnectionClosed);
    let log = play.await.expect("no panic").expect("script followed");
    assert_eq!(log.commands.len(), commands_sent(&records));
}

#[tokio::test]
async fn continue_on_fail_replays_transcript_06() {
    let server = server(4, WAIT).await;
    let (records, play) =
        play_freeswitch(&server, "06_outbound_async_bridge_continue_on_fail.txt").await;
    let session = accept(&server).await;
    let uuid = session.uuid().expect("Unique-ID");
    answer(&session, None).await;
    session
        .execute(
            "set",
            Some("continue_on_fail=true"),
            &waited(ExecuteOptions::default()),
        )
        .await
        .expect("set");
    check_bridge_failure(
        &session,
        "{leg_timeout=3}loopback/noanswer/default",
        "ALLOTTED_TIMEOUT",
    )
    .await;
    let dump = session
        .api(&format!("uuid_dump {uuid}"))
        .await
        .expect("api on a full socket");
    assert!(dump.text().contains("Channel-State"), "{}", dump.text());
    session
        .sendmsg(&SendMsg::hangup(Some("NORMAL_CLEARING")), None)
        .await
        .expect("hangup queued");
    events_until(&session, |i| is_notice(i, Disposition::Linger)).await;
    session.close().await;
    let log = play.await.expect("no panic").expect("script followed");
    assert_eq!(log.commands.len(), commands_sent(&records));
}

/// Reads the `connect` command and answers with the channel data of transcript 04.
async fn handshake_as_freeswitch(stream: &mut TcpStream) {
    let mut parser = FrameParser::default();
    let connect = read_message(stream, &mut parser).await.expect("connect");
    assert_eq!(connect.first_line(), b"connect");
    let records = connection("04_outbound_async_bridge_leg_timeout.txt", "out");
    let channel_data = records
        .iter()
        .find(|r| r.dir == Dir::ToClient)
        .expect("connect reply");
    stream.write_all(&channel_data.bytes).await.expect("write");
}

/// Waits until the peer closes the socket (EOF) without having sent anything.
async fn expect_closed_without_data(stream: &mut TcpStream) {
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(WAIT, stream.read(&mut buffer))
        .await
        .expect("closed within the deadline");
    assert_eq!(read.map_err(|e| e.kind()).unwrap_or(0), 0, "expected EOF");
}

#[tokio::test]
async fn session_cap_closes_extra_connections() {
    let server = server(1, WAIT).await;
    let mut first = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    handshake_as_freeswitch(&mut first).await;
    let session = accept(&server).await;
    assert_eq!(server.active_sessions(), 1);
    let mut second = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    expect_closed_without_data(&mut second).await;
    assert_eq!(server.stats().rejected_over_cap, 1);
    // Ending the session frees its slot.
    drop(first);
    session.closed().await;
    assert_eq!(server.active_sessions(), 0);
    let mut third = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    handshake_as_freeswitch(&mut third).await;
    let again = accept(&server).await;
    assert_eq!(again.socket_mode(), SocketMode::Async);
    assert_eq!(server.stats().sessions, 2);
}

#[tokio::test]
async fn handshake_deadline_closes_silent_peers() {
    let server = server(4, Duration::from_millis(200)).await;
    let mut silent = silent_peer(&server).await;
    expect_closed_without_data(&mut silent).await;
    assert_eq!(server.stats().handshake_failures, 1);
    assert_eq!(server.stats().sessions, 0);
}

#[tokio::test]
async fn a_refused_connect_is_not_a_session() {
    let server = server(4, WAIT).await;
    let mut peer = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let mut parser = FrameParser::default();
    read_message(&mut peer, &mut parser).await.expect("connect");
    peer.write_all(&reply_frame("-ERR command not found"))
        .await
        .expect("write");
    expect_closed_without_data(&mut peer).await;
    assert_eq!(server.stats().handshake_failures, 1);
}

#[tokio::test]
async fn shutdown_stops_accepting_and_drains() {
    let server = server(4, WAIT).await;
    let mut peer = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    handshake_as_freeswitch(&mut peer).await;
    let session = accept(&server).await;
    let address = server.local_addr();
    let drained = {
        let shutdown = server.shutdown(WAIT);
        let finish_call = async {
            // The call ends on its own while the listener drains: FreeSWITCH hangs up.
            drop(peer);
            session.closed().await;
        };
        let (closed_by_force, ()) = tokio::join!(shutdown, finish_call);
        closed_by_force
    };
    assert_eq!(drained, 0);
    assert_eq!(server.active_sessions(), 0);
    assert_eq!(
        server.shutdown(WAIT).await,
        0,
        "a second shutdown has nothing to do"
    );
    assert!(
        TcpStream::connect(address).await.is_err(),
        "no longer listening"
    );
    let error = server.accept().await.expect_err("shut down");
    assert_eq!(error.kind(), ErrorKind::ConnectionClosed);
}

#[tokio::test]
async fn shutdown_closes_sessions_that_outlive_the_drain() {
    let server = server(4, WAIT).await;
    let mut peer = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    handshake_as_freeswitch(&mut peer).await;
    let session = accept(&server).await;
    assert_eq!(server.shutdown(Duration::from_millis(100)).await, 1);
    session.closed().await;
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(WAIT, peer.read_to_end(&mut buffer)).await;
    assert!(read.expect("closed within the deadline").is_ok());
}

/// Collects what the route hands over until every key in `keys` has ended: per key, the
/// `Event-Sequence` of each event in arrival order, then `"end"`.
async fn routed_until_ended(server: &Server, keys: &[u64]) -> Vec<(u64, Vec<String>)> {
    let mut seen: Vec<(u64, Vec<String>)> = keys.iter().map(|key| (*key, Vec::new())).collect();
    while seen
        .iter()
        .any(|(_, log)| log.last().map(String::as_str) != Some("end"))
    {
        let routed = server
            .recv_routed(WAIT)
            .await
            .expect("routed items within the deadline");
        let (_, log) = seen
            .iter_mut()
            .find(|(key, _)| *key == routed.key)
            .expect("a routed key");
        assert_ne!(
            log.last().map(String::as_str),
            Some("end"),
            "items after the end"
        );
        for item in &routed.items {
            if let Incoming::Event(event) = item {
                log.push(
                    event
                        .header("Event-Sequence")
                        .unwrap_or_default()
                        .into_owned(),
                );
            }
        }
        if routed.ended {
            log.push("end".to_owned());
        }
    }
    seen
}

async fn send_events(peer: &mut TcpStream, sequences: &[&str]) {
    for sequence in sequences {
        let frame = support::event_frame(
            &[("Event-Name", "CUSTOM"), ("Event-Sequence", sequence)],
            None,
        );
        peer.write_all(&frame).await.expect("write");
    }
}

/// A call from FreeSWITCH's side (the peer socket) and its accepted session.
async fn call_in(server: &Server) -> (TcpStream, Session) {
    let mut peer = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    handshake_as_freeswitch(&mut peer).await;
    (peer, accept(server).await)
}

#[tokio::test]
async fn routed_sessions_share_one_receiver_in_order_and_report_their_end() {
    let server = server(4, WAIT).await;
    let (mut first_peer, first) = call_in(&server).await;
    let (mut second_peer, second) = call_in(&server).await;
    server.route(&first, 7);
    server.route(&second, 9);
    send_events(&mut first_peer, &["1", "2", "3"]).await;
    send_events(&mut second_peer, &["10", "11"]).await;
    // FreeSWITCH hangs up both calls.
    drop(first_peer);
    drop(second_peer);
    let seen = routed_until_ended(&server, &[7, 9]).await;
    assert_eq!(
        seen,
        vec![
            (7, vec!["1".into(), "2".into(), "3".into(), "end".into()]),
            (9, vec!["10".into(), "11".into(), "end".into()]),
        ]
    );
    assert!(server.recv_routed(Duration::ZERO).await.is_none());
    drop((first, second));
}

#[tokio::test]
async fn a_session_split_into_parts_hands_over_its_channel_data_and_still_runs() {
    let server = server(4, WAIT).await;
    let (mut peer, session) = call_in(&server).await;
    let clone = session.clone();
    let (connection, channel_data) = session.into_parts();
    // The clone still shares the data, so it was copied: both read the same headers.
    assert_eq!(&channel_data, clone.channel_data());
    assert_eq!(channel_data.len(), 103);
    assert_eq!(
        channel_data.header("Unique-ID").as_deref(),
        clone.uuid().as_deref()
    );
    drop(clone);
    server.route(&connection, 3);
    send_events(&mut peer, &["1"]).await;
    drop(peer);
    assert_eq!(
        routed_until_ended(&server, &[3]).await,
        vec![(3, vec!["1".to_owned(), "end".to_owned()])]
    );
}

#[tokio::test]
async fn a_route_does_not_keep_its_session_open() {
    let server = server(4, WAIT).await;
    let (mut peer, session) = call_in(&server).await;
    server.route(&session, 1);
    drop(session);
    let mut rest = Vec::new();
    let read = tokio::time::timeout(WAIT, peer.read_to_end(&mut rest)).await;
    assert!(read.expect("closed within the deadline").is_ok());
    assert_eq!(
        routed_until_ended(&server, &[1]).await,
        vec![(1, vec!["end".to_owned()])]
    );
}

/// Connects and reads the `connect` command (the first thing the server must send), so the
/// connection is known to be in its handshake; then stays silent.
async fn silent_peer(server: &Server) -> TcpStream {
    let mut silent = TcpStream::connect(server.local_addr())
        .await
        .expect("connect");
    let mut parser = FrameParser::default();
    let connect = read_message(&mut silent, &mut parser)
        .await
        .expect("connect");
    assert_eq!(
        connect.first_line(),
        b"connect",
        "connect must be the first command"
    );
    silent
}

/// A call is served: one command and its reply.
async fn serve_one_command(mut peer: TcpStream, session: &Session) {
    let answering = tokio::spawn(async move {
        let mut parser = FrameParser::default();
        let linger = read_message(&mut peer, &mut parser).await.expect("linger");
        assert_eq!(linger.first_line(), b"linger");
        peer.write_all(&reply_frame("+OK will linger"))
            .await
            .expect("write");
        peer
    });
    let reply = session.linger(None).await.expect("served");
    assert_eq!(reply.text(), "+OK will linger");
    answering.await.expect("no panic");
}

#[tokio::test]
async fn silent_handshakes_do_not_take_session_slots() {
    let server = server(5, WAIT).await;
    let mut silent = Vec::new();
    for _ in 0..6 {
        silent.push(silent_peer(&server).await);
    }
    // More silent connections than session slots are all in their handshake; a real call
    // arriving now is still accepted and served.
    let (peer, session) = call_in(&server).await;
    serve_one_command(peer, &session).await;
    assert_eq!(server.active_sessions(), 1);
    assert_eq!(server.stats().rejected_over_cap, 0);
    assert_eq!(server.stats().handshake_failures, 0);
}

#[tokio::test]
async fn a_burst_waits_in_the_backlog_while_handshake_slots_are_taken() {
    const BURST: usize = 2_000;
    let mut config = ServerConfig::new("127.0.0.1:0");
    config.max_sessions = BURST + 1;
    config.max_handshakes = 1;
    config.handshake_timeout = WAIT;
    let server = Server::bind(config).await.expect("bound");
    // The only handshake slot is taken: the listener accepts nothing more until it frees, so
    // the whole burst has to be held by the kernel's listen backlog. A connect beyond the
    // backlog would wait for SYN retries that never succeed here: the deadline only keeps a
    // failure from hanging the test.
    let mut first = silent_peer(&server).await;
    let burst = tokio::time::timeout(WAIT * 6, async {
        let mut burst = Vec::with_capacity(BURST);
        for _ in 0..BURST {
            burst.push(
                TcpStream::connect(server.local_addr())
                    .await
                    .expect("connect"),
            );
        }
        burst
    })
    .await
    .expect("the backlog holds the whole burst");
    // Every call of the burst is then served, one handshake at a time. The kernel hands
    // connections out of the backlog in arrival order, so the peers are answered in that order:
    // each step waits for one handshake only, never behind the rest of the burst.
    let records = connection("04_outbound_async_bridge_leg_timeout.txt", "out");
    let channel_data = records
        .iter()
        .find(|r| r.dir == Dir::ToClient)
        .expect("connect reply")
        .bytes
        .clone();
    first.write_all(&channel_data).await.expect("write");
    let mut sessions = Vec::with_capacity(BURST + 1);
    sessions.push(accept(&server).await);
    let mut peers = Vec::with_capacity(BURST);
    for mut peer in burst {
        handshake_as_freeswitch(&mut peer).await;
        sessions.push(accept(&server).await);
        peers.push(peer);
    }
    let stats = server.stats();
    assert_eq!(stats.sessions, (BURST + 1) as u64);
    assert_eq!(stats.rejected_over_cap, 0);
    assert_eq!(stats.handshake_failures, 0);
}

// A current-thread runtime: every task of the server logs on this thread, to its default subscriber.
#[tokio::test(flavor = "current_thread")]
async fn repeated_handshake_failures_log_one_warning() {
    const PEERS: u64 = 200;
    let lines = Arc::new(Mutex::new(Vec::new()));
    let _subscriber = tracing::subscriber::set_default(Recorder(lines.clone()));
    let server = server(4, WAIT).await;
    for _ in 0..PEERS {
        let mut peer = silent_peer(&server).await;
        peer.write_all(&reply_frame("-ERR command not found"))
            .await
            .expect("write");
        // The failure is counted and logged before the server closes the socket.
        expect_closed_without_data(&mut peer).await;
    }
    assert_eq!(server.stats().handshake_failures, PEERS);
    // The first is logged; the rest wait for the summary at the end of the interval.
    let warnings = Recorder::lines(&lines)
        .into_iter()
        .filter(|line| line.starts_with("WARN esl4j_engine"))
        .count();
    assert_eq!(warnings, 1);
}

/// A socket accepted by the application's own loop (libesl's `esl_attach_handle` path).
async fn accepted_by_the_application() -> (TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bound");
    let freeswitch = TcpStream::connect(listener.local_addr().expect("address"))
        .await
        .expect("connect");
    let (accepted, _) = listener.accept().expect("accepted");
    (freeswitch, accepted)
}

#[tokio::test]
async fn an_adopted_socket_does_the_handshake_and_runs_commands() {
    let (mut freeswitch, accepted) = accepted_by_the_application().await;
    let config = ConnectionConfig::default();
    let adopting = tokio::spawn(Session::adopt(accepted, config, WAIT));
    handshake_as_freeswitch(&mut freeswitch).await;
    let session = adopting.await.expect("no panic").expect("adopted");
    assert_eq!(session.socket_mode(), SocketMode::Async);
    assert!(session.uuid().is_some());
    let mut parser = FrameParser::default();
    let (reply, command) = tokio::join!(session.linger(Some(5)), async {
        let command = read_message(&mut freeswitch, &mut parser)
            .await
            .expect("linger");
        freeswitch
            .write_all(&reply_frame("+OK will linger"))
            .await
            .expect("write");
        command
    });
    assert_eq!(command.first_line(), b"linger 5");
    assert!(reply.expect("linger accepted").is_ok());
}

#[tokio::test]
async fn an_adopted_socket_whose_peer_stays_silent_fails_within_the_deadline() {
    let (_silent, accepted) = accepted_by_the_application().await;
    let config = ConnectionConfig::default();
    let error = Session::adopt(accepted, config, Duration::from_millis(100))
        .await
        .expect_err("no connect reply");
    assert_eq!(error.kind(), ErrorKind::Timeout);
}
