//! mod_event_socket command semantics of the simulator: authentication, subscriptions,
//! filters, formats, session binding, outbound restrictions and sync execution.

mod support;

use std::time::Duration;

use esl4j_engine::proto::{Event as EngineEvent, Frame};
use esl4j_sim::{ClockMode, EslUser, Event, SimConfig, Simulator};
use support::{route_ob_to_listener, virtual_sim, RawConn, WAIT};

async fn authed(sim: &Simulator) -> RawConn {
    let mut conn = RawConn::connect(sim.port()).await;
    conn.wait_until("auth/request", |f| !f.is_empty()).await;
    conn.command("auth ClueCon").await;
    conn
}

fn reply_text(frame: &Frame) -> String {
    frame
        .header("Reply-Text")
        .map(|v| v.into_owned())
        .unwrap_or_default()
}

fn body(frame: &Frame) -> String {
    String::from_utf8_lossy(frame.body()).into_owned()
}

fn plain_events(conn: &RawConn) -> Vec<EngineEvent> {
    conn.frames
        .lock()
        .expect("lock")
        .iter()
        .filter(|f| f.content_type().as_deref() == Some("text/event-plain"))
        .map(|f| EngineEvent::from_plain(f.body()))
        .collect()
}

fn names(conn: &RawConn) -> Vec<String> {
    plain_events(conn)
        .iter()
        .filter_map(|e| e.name().map(|n| n.into_owned()))
        .collect()
}

#[tokio::test]
async fn authentication_rules() {
    let sim = virtual_sim().await;
    let mut early = RawConn::connect(sim.port()).await;
    early.wait_until("auth/request", |f| !f.is_empty()).await;
    assert_eq!(
        reply_text(&early.command("api status").await),
        "-ERR command not found"
    );
    assert_eq!(
        reply_text(&early.command("auth ClueCon").await),
        "+OK accepted",
        "still open after a refused command"
    );

    let mut wrong = RawConn::connect(sim.port()).await;
    wrong.wait_until("auth/request", |f| !f.is_empty()).await;
    assert_eq!(
        reply_text(&wrong.command("auth nope").await),
        "-ERR invalid"
    );
    wrong.wait_closed().await;
    let frames = wrong.frames.lock().expect("lock").clone();
    let notice = frames.last().expect("notice");
    assert_eq!(
        notice.content_type().as_deref(),
        Some("text/disconnect-notice")
    );
    assert_eq!(
        body(notice),
        "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
    );

    assert_eq!(reply_text(&early.command("exit").await), "+OK bye");
    early.wait_closed().await;

    let mut user = RawConn::connect(sim.port()).await;
    user.wait_until("auth/request", |f| !f.is_empty()).await;
    let accepted = user.command("userauth 1000@default:ClueCon").await;
    assert_eq!(reply_text(&accepted), "+OK accepted");
    assert_eq!(accepted.header("Allowed-Events").as_deref(), Some("all"));
    assert_eq!(accepted.header("Allowed-API").as_deref(), Some("all"));
    assert_eq!(accepted.header("Allowed-LOG").as_deref(), Some("true"));
    assert!(body(&user.command("api version").await).starts_with("FreeSWITCH Version"));
}

#[tokio::test]
async fn subscriptions_formats_and_custom_subclasses() {
    let sim = virtual_sim().await;
    let mut conn = authed(&sim).await;
    conn.expect_replies(&[
        ("event json", "-ERR no keywords supplied"),
        ("noevents", "-ERR not listening for events"),
        (
            "event plain CUSTOM test::wanted",
            "+OK event listener enabled plain",
        ),
    ])
    .await;
    for subclass in ["test::other", "test::wanted"] {
        let mut event = Event::named("CUSTOM");
        event.add("Event-Subclass", subclass);
        sim.fire_event(&event).await;
    }
    conn.sync().await;
    let got: Vec<String> = plain_events(&conn)
        .iter()
        .filter_map(|e| e.header("Event-Subclass").map(|v| v.into_owned()))
        .collect();
    assert_eq!(got, vec!["test::wanted"]);
    conn.expect_replies(&[
        ("nixevent CUSTOM test::wanted", "+OK events nixed"),
        ("event xml HEARTBEAT", "+OK event listener enabled xml"),
    ])
    .await;
    let mut event = Event::named("HEARTBEAT");
    event.add("Note", "a b&c");
    sim.fire_event(&event).await;
    conn.sync().await;
    let frames = conn.frames.lock().expect("lock").clone();
    let xml = frames
        .iter()
        .find(|f| f.content_type().as_deref() == Some("text/event-xml"))
        .expect("xml event");
    let decoded = EngineEvent::from_xml(xml.body()).expect("valid xml");
    assert_eq!(decoded.header("Note").as_deref(), Some("a b&c"));
    assert_eq!(
        reply_text(&conn.command("noevents").await),
        "+OK no longer listening for events"
    );
}

#[tokio::test]
async fn filters_are_ored_and_a_negative_match_vetoes() {
    let sim = virtual_sim().await;
    let mut conn = authed(&sim).await;
    conn.command("event plain CUSTOM test::f").await;
    conn.expect_replies(&[
        ("filter Tag a", "+OK filter added. [Tag]=[a]"),
        ("filter Tag b", "+OK filter added. [Tag]=[b]"),
        ("filter Color -red", "+OK filter added. [Color]=[-red]"),
        ("filter Tag", "-ERR invalid syntax"),
    ])
    .await;
    for (tag, color) in [("a", "blue"), ("b", "red"), ("c", "blue"), ("b", "green")] {
        let mut event = Event::named("CUSTOM");
        event
            .add("Event-Subclass", "test::f")
            .add("Tag", tag)
            .add("Color", color);
        sim.fire_event(&event).await;
    }
    conn.sync().await;
    let got: Vec<String> = plain_events(&conn)
        .iter()
        .filter_map(|e| e.header("Tag").map(|v| format!("{v}")))
        .collect();
    assert_eq!(
        got,
        vec!["a", "b"],
        "a: positive; b/red: vetoed; c: no match; b/green: positive"
    );
    conn.command("filter delete all").await;
    conn.command("filter Color -red").await;
    let mut event = Event::named("CUSTOM");
    event
        .add("Event-Subclass", "test::f")
        .add("Tag", "z")
        .add("Color", "blue");
    sim.fire_event(&event).await;
    conn.sync().await;
    assert!(
        !plain_events(&conn)
            .iter()
            .any(|e| e.header("Tag").as_deref() == Some("z")),
        "negative-only filters block everything"
    );
}

#[tokio::test]
async fn bgapi_job_uuid_and_background_job() {
    let sim = virtual_sim().await;
    let mut conn = authed(&sim).await;
    conn.command("event plain BACKGROUND_JOB").await;
    let reply = conn
        .command("bgapi version\nJob-UUID: 0123456789012345678901234567890123456789")
        .await;
    assert_eq!(
        reply_text(&reply),
        "+OK Job-UUID: 012345678901234567890123456789012345"
    );
    conn.wait_until("job", |f| {
        f.iter()
            .any(|f| f.content_type().as_deref() == Some("text/event-plain"))
    })
    .await;
    let job = plain_events(&conn).into_iter().next().expect("job");
    assert_eq!(
        job.header("Job-UUID").as_deref(),
        Some("012345678901234567890123456789012345")
    );
    assert!(
        String::from_utf8_lossy(job.body().unwrap_or_default()).starts_with("FreeSWITCH Version")
    );
    conn.expect_replies(&[
        ("api nonsense", "-ERR nonsense Command not found!\n"),
        ("api global_getvar nope", "-ERR no reply\n"),
    ])
    .await;
}

#[tokio::test]
async fn inbound_myevents_binds_to_one_channel_and_closes_with_it() {
    let sim = virtual_sim().await;
    sim.answer_after("user/1", Duration::ZERO);
    sim.answer_after("user/2", Duration::ZERO);
    let mut control = authed(&sim).await;
    let first = body(&control.command("api originate user/1 &park").await);
    let uuid = first
        .strip_prefix("+OK ")
        .expect("answered")
        .trim()
        .to_string();
    let mut watcher = authed(&sim).await;
    assert_eq!(
        reply_text(&watcher.command(&format!("myevents {uuid}")).await),
        "+OK Events Enabled"
    );
    watcher
        .expect_replies(&[
            ("linger", "+OK will linger"),
            ("nolinger", "+OK will not linger"),
        ])
        .await;
    control.command("api originate user/2 &park").await;
    control
        .command(&format!("api uuid_setvar {uuid} color blue"))
        .await;
    control.command(&format!("api uuid_kill {uuid}")).await;
    sim.flush().await;
    watcher.wait_closed().await;
    let events = plain_events(&watcher);
    assert!(!events.is_empty());
    assert!(
        events
            .iter()
            .all(|e| e.header("Unique-ID").as_deref() == Some(uuid.as_str())),
        "only its own channel"
    );
    assert!(names(&watcher).contains(&"CHANNEL_HANGUP".to_string()));
    let frames = watcher.frames.lock().expect("lock").clone();
    let notice = frames.last().expect("notice");
    assert_eq!(
        notice.header("Content-Disposition").as_deref(),
        Some("disconnect")
    );
    assert_eq!(
        notice.header("Controlled-Session-UUID").as_deref(),
        Some(uuid.as_str())
    );
    // an inbound connection without a session
    assert_eq!(
        reply_text(&control.command("linger").await),
        "-ERR not controlling a session"
    );
}

async fn outbound(sim: &Simulator, flags: &str) -> (RawConn, RawConn) {
    let listener = route_ob_to_listener(sim, flags).await;
    let mut control = authed(sim).await;
    control
        .command("bgapi originate loopback/ob/default &park")
        .await;
    let (stream, _) = tokio::time::timeout(WAIT, listener.accept())
        .await
        .expect("connects")
        .expect("accept");
    let mut out = RawConn::from_stream(stream);
    let connect = out.command("connect").await;
    assert_eq!(
        connect.header("Content-Length"),
        None,
        "the connect reply has no body"
    );
    assert_eq!(
        connect.header("Event-Name").as_deref(),
        Some("CHANNEL_DATA")
    );
    assert_eq!(connect.header("Reply-Text").as_deref(), Some("%2BOK%0A"));
    (control, out)
}

#[tokio::test]
async fn outbound_without_full_refuses_global_commands() {
    let sim = virtual_sim().await;
    let (_control, mut out) = outbound(&sim, "async").await;
    let connect = out.frames.lock().expect("lock")[0].clone();
    assert_eq!(connect.header("Control").as_deref(), Some("single-channel"));
    assert_eq!(connect.header("Socket-Mode").as_deref(), Some("async"));
    for command in [
        "api status",
        "linger",
        "event plain ALL",
        "bgapi status",
        "log debug",
    ] {
        assert_eq!(
            reply_text(&out.command(command).await),
            "-ERR command not found",
            "{command}"
        );
    }
    out.expect_replies(&[
        ("myevents", "+OK Events Enabled"),
        ("myevents", "-ERR aready enabled."),
        ("getvar loopback_leg", "B"),
        ("getvar not_set", "-ERR command not found"),
    ])
    .await;
}

#[tokio::test]
async fn sync_outbound_sendmsg_replies_when_the_app_ends() {
    let sim = virtual_sim().await;
    let (_control, mut out) = outbound(&sim, "full").await;
    assert_eq!(
        out.frames.lock().expect("lock")[0]
            .header("Socket-Mode")
            .as_deref(),
        Some("static")
    );
    out.command("myevents").await;
    let before = out.replies().len();
    let received = sim.commands().len() as u64;
    out.send(b"sendmsg\ncall-command: execute\nexecute-app-name: sleep\nexecute-app-arg: 1500\n\n")
        .await;
    assert!(sim.wait_for_commands(received + 1, WAIT).await);
    sim.advance(Duration::from_millis(1499)).await;
    assert_eq!(out.replies().len(), before, "no reply while the app runs");
    assert!(plain_events(&out).is_empty(), "and no events either");
    sim.advance(Duration::from_millis(1)).await;
    out.wait_until("sendmsg reply", |f| support::replies(f).len() > before)
        .await;
    out.wait_until("held events", |f| {
        f.iter()
            .filter(|f| f.content_type().as_deref() == Some("text/event-plain"))
            .count()
            >= 2
    })
    .await;
    assert_eq!(
        names(&out),
        vec!["CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE"]
    );
}

#[tokio::test]
async fn unknown_application_hangs_up_without_completion() {
    let sim = virtual_sim().await;
    let (_control, mut out) = outbound(&sim, "async full").await;
    out.command("myevents").await;
    out.command("linger").await;
    out.command("sendmsg\ncall-command: execute\nexecute-app-name: no_such_app\nEvent-UUID: x-1")
        .await;
    sim.flush().await;
    out.wait_until("linger notice", |f| {
        f.iter()
            .any(|f| f.header("Content-Disposition").as_deref() == Some("linger"))
    })
    .await;
    let events = plain_events(&out);
    let hangup = events
        .iter()
        .find(|e| e.name().as_deref() == Some("CHANNEL_HANGUP"))
        .expect("hangup");
    assert_eq!(
        hangup.header("Hangup-Cause").as_deref(),
        Some("DESTINATION_OUT_OF_ORDER")
    );
    assert!(!events
        .iter()
        .any(|e| e.header("Application-UUID").as_deref() == Some("x-1")));
}

#[tokio::test]
async fn show_channels_and_hupall() {
    let sim = virtual_sim().await;
    sim.answer_after("user/1", Duration::ZERO);
    let mut conn = authed(&sim).await;
    assert_eq!(
        body(&conn.command("api show channels as json").await),
        "{\"row_count\": 0}\n",
        "mod_commands writes an empty result itself"
    );
    conn.command("api originate user/1 &park").await;
    assert_eq!(
        body(&conn.command("api show channels count").await),
        "\n1 total.\n"
    );
    let json = body(&conn.command("api show channels as json").await);
    assert!(
        json.starts_with("{\"row_count\":1,\"rows\":[{\"uuid\":"),
        "{json}"
    );
    conn.expect_replies(&[
        (
            "api hupall",
            "+OK hangup all channels with cause MANAGER_REQUEST\n",
        ),
        ("api show channels count", "\n0 total.\n"),
    ])
    .await;
    assert_eq!(sim.channel_count(), 0);
}

#[tokio::test]
async fn malformed_input_closes_only_that_connection() {
    let sim = virtual_sim().await;
    let mut bad_length = authed(&sim).await;
    bad_length
        .send(b"sendevent CUSTOM\nContent-Length: nonsense\n\n")
        .await;
    bad_length.wait_closed().await;
    let mut huge = authed(&sim).await;
    let header = format!("api status\nX-Pad: {}\n", "x".repeat(2 * 1024 * 1024));
    huge.send(header.as_bytes()).await;
    huge.wait_closed().await;
    let mut fine = authed(&sim).await;
    assert!(body(&fine.command("api version").await).starts_with("FreeSWITCH Version"));
}

#[tokio::test]
async fn uuid_bridge_links_two_parked_calls_and_hangs_up_both() {
    let sim = virtual_sim().await;
    sim.answer_after("user/1", Duration::ZERO);
    sim.answer_after("user/2", Duration::ZERO);
    let mut conn = authed(&sim).await;
    conn.command("event plain CHANNEL_BRIDGE CHANNEL_HANGUP")
        .await;
    let a = body(&conn.command("api originate user/1 &park").await);
    let b = body(&conn.command("api originate user/2 &park").await);
    let (a, b) = (
        a.trim().trim_start_matches("+OK "),
        b.trim().trim_start_matches("+OK "),
    );
    assert_eq!(
        body(&conn.command(&format!("api uuid_bridge {a} {b}")).await),
        format!("+OK {b}\n")
    );
    assert_eq!(
        body(&conn.command(&format!("api uuid_bridge {a} nope")).await),
        "-ERR Invalid uuid\n"
    );
    conn.command(&format!("api uuid_kill {a}")).await;
    conn.sync().await;
    let events = plain_events(&conn);
    let bridge = events
        .iter()
        .find(|e| e.name().as_deref() == Some("CHANNEL_BRIDGE"))
        .expect("bridge");
    assert_eq!(bridge.header("Bridge-B-Unique-ID").as_deref(), Some(b));
    let hung: Vec<String> = events
        .iter()
        .filter(|e| e.name().as_deref() == Some("CHANNEL_HANGUP"))
        .filter_map(|e| e.header("Unique-ID").map(|u| u.into_owned()))
        .collect();
    assert_eq!(
        hung,
        vec![a.to_string(), b.to_string()],
        "the other leg follows"
    );
}

#[tokio::test]
async fn heartbeat_every_twenty_virtual_seconds() {
    let sim = Simulator::start(SimConfig {
        clock: ClockMode::Virtual,
        ..SimConfig::default()
    })
    .await
    .expect("starts");
    let mut conn = authed(&sim).await;
    conn.command("event plain HEARTBEAT RE_SCHEDULE").await;
    sim.advance(Duration::from_millis(19_999)).await;
    conn.sync().await;
    assert!(plain_events(&conn).is_empty());
    sim.advance(Duration::from_millis(1)).await;
    conn.sync().await;
    assert_eq!(names(&conn), vec!["HEARTBEAT", "RE_SCHEDULE"]);
    let heartbeat = plain_events(&conn).into_iter().next().expect("heartbeat");
    assert_eq!(
        heartbeat.header("Event-Info").as_deref(),
        Some("System Ready")
    );
    assert_eq!(heartbeat.header("Uptime-msec").as_deref(), Some("20000"));
}

#[tokio::test]
async fn log_lines_follow_the_log_level() {
    let sim = virtual_sim().await;
    sim.answer_after("user/1", Duration::ZERO);
    let mut quiet = authed(&sim).await;
    let mut chatty = authed(&sim).await;
    assert_eq!(
        reply_text(&quiet.command("log err").await),
        "+OK log level err [3]",
        "the level as typed (mod_event_socket prints level_s)"
    );
    assert_eq!(
        reply_text(&chatty.command("log").await),
        "+OK log level  [7]"
    );
    let answer = body(&chatty.command("api originate user/1 &park").await);
    let uuid = answer.trim().trim_start_matches("+OK ").to_string();
    chatty
        .command(&format!("api uuid_kill {uuid} USER_BUSY"))
        .await;
    chatty.sync().await;
    quiet.sync().await;
    let logs = |conn: &RawConn| -> Vec<Frame> {
        conn.frames
            .lock()
            .expect("lock")
            .iter()
            .filter(|f| f.content_type().as_deref() == Some("log/data"))
            .cloned()
            .collect()
    };
    assert!(logs(&quiet).is_empty(), "NOTICE lines are above ERR");
    let lines = logs(&chatty);
    assert_eq!(lines.len(), 2, "new channel and hangup");
    assert_eq!(lines[0].header("Log-Level").as_deref(), Some("5"));
    assert_eq!(lines[0].header("User-Data").as_deref(), Some(uuid.as_str()));
    assert!(body(&lines[0]).contains(&format!(
        "[NOTICE] switch_channel.c:1104 New Channel user/1 [{uuid}]"
    )));
    assert!(body(&lines[1]).contains("[USER_BUSY]"));
    chatty
        .expect_replies(&[
            ("nolog", "+OK no longer logging"),
            ("nolog", "-ERR not loging"),
        ])
        .await;
}

#[tokio::test]
async fn unauthenticated_clients_get_25_seconds_per_read() {
    let sim = virtual_sim().await;
    let mut slow = RawConn::connect(sim.port()).await;
    slow.wait_until("auth/request", |f| !f.is_empty()).await;
    sim.advance(Duration::from_secs(20)).await;
    // a refused command restarts the read timeout
    assert_eq!(
        reply_text(&slow.command("api status").await),
        "-ERR command not found"
    );
    sim.advance(Duration::from_millis(24_999)).await;
    assert_eq!(
        reply_text(&slow.command("event plain ALL").await),
        "-ERR command not found"
    );
    sim.advance(Duration::from_secs(25)).await;
    slow.wait_closed().await;
    let frames = slow.frames.lock().expect("lock").clone();
    assert_eq!(
        frames
            .last()
            .and_then(|f| f.content_type().map(|c| c.into_owned()))
            .as_deref(),
        Some("text/disconnect-notice")
    );
}

#[tokio::test]
async fn origination_uuid_names_the_new_channel() {
    let sim = virtual_sim().await;
    sim.answer_after("user/1", Duration::ZERO);
    let mut conn = authed(&sim).await;
    let wanted = "5d7d2c1e-0b7a-4f55-9d5e-1f0a4c7e8b11";
    conn.command(&format!("filter Unique-ID {wanted}")).await;
    conn.command("event plain ALL").await;
    let reply = body(
        &conn
            .command(&format!(
                "api originate {{origination_uuid={wanted}}}user/1 &park"
            ))
            .await,
    );
    assert_eq!(reply, format!("+OK {wanted}\n"));
    conn.sync().await;
    let events = plain_events(&conn);
    assert!(
        events
            .iter()
            .any(|e| e.name().as_deref() == Some("CHANNEL_ANSWER")),
        "filtered before dialing, nothing missed"
    );
    assert!(events
        .iter()
        .all(|e| e.header("Unique-ID").as_deref() == Some(wanted)));
}

#[tokio::test]
async fn an_outbound_server_that_never_connects_is_dropped_after_25_seconds() {
    for (flags, stays_up) in [("async full", true), ("full", false)] {
        let sim = virtual_sim().await;
        let listener = route_ob_to_listener(&sim, flags).await;
        let mut control = authed(&sim).await;
        control
            .command("event plain CHANNEL_PARK CHANNEL_HANGUP")
            .await;
        control
            .command("bgapi originate loopback/ob/default &park")
            .await;
        let (stream, _) = tokio::time::timeout(WAIT, listener.accept())
            .await
            .expect("connects")
            .expect("accept");
        let silent = RawConn::from_stream(stream);
        sim.advance(Duration::from_millis(24_999)).await;
        control.sync().await;
        assert!(
            !*silent.closed.lock().expect("lock"),
            "{flags}: still waiting for connect"
        );
        sim.advance(Duration::from_millis(1)).await;
        silent.wait_closed().await;
        control.sync().await;
        let b_leg_hung_up = plain_events(&control).iter().any(|e| {
            e.name().as_deref() == Some("CHANNEL_HANGUP")
                && e.header("Channel-Name").as_deref() == Some("loopback/ob-b")
        });
        assert_eq!(!b_leg_hung_up, stays_up, "{flags}");
        if stays_up {
            let parked = plain_events(&control).iter().any(|e| {
                e.name().as_deref() == Some("CHANNEL_PARK")
                    && e.header("Channel-Name").as_deref() == Some("loopback/ob-b")
            });
            assert!(parked, "an async session is left parked");
        }
    }
}

#[tokio::test]
async fn dtmf_events_for_a_live_channel() {
    let sim = virtual_sim().await;
    sim.answer_after("user/1", Duration::ZERO);
    let mut conn = authed(&sim).await;
    conn.command("event plain DTMF").await;
    let answer = body(&conn.command("api originate user/1 &park").await);
    let uuid = answer.trim().trim_start_matches("+OK ").to_string();
    assert!(sim.send_dtmf(&uuid, "1#").await);
    assert!(!sim.send_dtmf("no-such-channel", "1").await);
    conn.sync().await;
    let digits: Vec<String> = plain_events(&conn)
        .iter()
        .filter_map(|e| e.header("DTMF-Digit").map(|d| d.into_owned()))
        .collect();
    assert_eq!(digits, vec!["1", "#"]);
}

#[tokio::test]
async fn uuid_break_stops_a_playback_and_uuid_exists() {
    let sim = virtual_sim().await;
    sim.answer_after("user/1", Duration::ZERO);
    let mut conn = authed(&sim).await;
    conn.command("event plain PLAYBACK_START PLAYBACK_STOP CHANNEL_EXECUTE_COMPLETE CHANNEL_PARK")
        .await;
    let answer = body(
        &conn
            .command("api originate user/1 &playback(tone_stream://%(1000,0,440);loops=-1)")
            .await,
    );
    let uuid = answer.trim().trim_start_matches("+OK ").to_string();
    assert_eq!(
        body(&conn.command(&format!("api uuid_exists {uuid}")).await),
        "true"
    );
    assert_eq!(
        body(&conn.command(&format!("api uuid_break {uuid}")).await),
        "+OK\n"
    );
    conn.sync().await;
    assert_eq!(
        names(&conn),
        vec![
            "PLAYBACK_START",
            "PLAYBACK_STOP",
            "CHANNEL_EXECUTE_COMPLETE"
        ]
    );
    let complete = plain_events(&conn).pop().expect("complete");
    assert_eq!(
        complete.header("Application-Response").as_deref(),
        Some("FILE PLAYED")
    );
    // the originate's only app is done: the call ends (dialplan exhausted)
    sim.flush().await;
    assert_eq!(
        body(&conn.command(&format!("api uuid_exists {uuid}")).await),
        "false"
    );
}

#[tokio::test]
async fn the_command_log_keeps_whole_messages_and_counts_them_all() {
    let sim = virtual_sim().await;
    let mut conn = authed(&sim).await;
    let before = sim.commands_total();
    conn.send(b"sendmsg 00000000-0000-0000-0000-000000000000\ncall-command: execute\nexecute-app-name: playback\ncontent-type: text/plain\ncontent-length: 14\n\nsilence_stream")
        .await;
    conn.sync().await;
    assert_eq!(sim.commands_total(), before + 2, "the sendmsg and the sync");
    let texts = sim.command_texts();
    let sendmsg = &texts[texts.len() - 2];
    assert_eq!(
        sendmsg,
        "sendmsg 00000000-0000-0000-0000-000000000000\ncall-command: execute\nexecute-app-name: playback\ncontent-type: text/plain\ncontent-length: 14\n\nsilence_stream"
    );
    let lines = sim.commands();
    assert_eq!(
        lines[lines.len() - 2],
        "sendmsg 00000000-0000-0000-0000-000000000000",
        "commands() keeps the first lines"
    );
    assert_eq!(texts.last(), lines.last(), "a one-line command is its line");
}

#[tokio::test]
async fn the_loopback_b_leg_takes_the_caller_id_and_variables_of_the_originate() {
    let sim = virtual_sim().await;
    let mut conn = authed(&sim).await;
    conn.command("event plain CHANNEL_CREATE").await;
    let reply = conn
        .command("api originate {origination_caller_id_number=1234,origination_caller_id_name='Jane Doe',team=sales}loopback/answer/default &park")
        .await;
    let a_leg = body(&reply)
        .strip_prefix("+OK ")
        .map(|u| u.trim().to_string())
        .expect("+OK uuid");
    let b_leg = body(
        &conn
            .command(&format!("api uuid_getvar {a_leg} other_loopback_leg_uuid"))
            .await,
    );
    assert_eq!(
        body(&conn.command(&format!("api uuid_getvar {b_leg} team")).await),
        "sales",
        "the dial string's variables are replayed onto the B leg"
    );
    conn.sync().await;
    let created = plain_events(&conn);
    let b_create = created
        .iter()
        .find(|e| e.header("Unique-ID").as_deref() == Some(b_leg.as_str()))
        .expect("CHANNEL_CREATE of the B leg");
    assert_eq!(
        b_create.header("Channel-Name").as_deref(),
        Some("loopback/answer-b")
    );
    for (header, value) in [
        ("Caller-Caller-ID-Number", "1234"),
        ("Caller-Caller-ID-Name", "Jane Doe"),
        ("Caller-Orig-Caller-ID-Number", "1234"),
        ("Caller-ANI", "1234"),
    ] {
        assert_eq!(b_create.header(header).as_deref(), Some(value), "{header}");
    }
}

/// `EXECUTE app` / `COMPLETE app` for the sleep and playback executions seen so far.
fn executions(conn: &RawConn) -> Vec<String> {
    plain_events(conn)
        .iter()
        .filter_map(|e| {
            let app = e.header("Application")?.into_owned();
            let kind = match e.name()?.as_ref() {
                "CHANNEL_EXECUTE" => "EXECUTE",
                "CHANNEL_EXECUTE_COMPLETE" => "COMPLETE",
                _ => return None,
            };
            matches!(app.as_str(), "sleep" | "playback").then(|| format!("{kind} {app}"))
        })
        .collect()
}

async fn queue(out: &mut RawConn, app: &str, arg: &str, extra: &str) {
    let reply = out
        .command(&format!(
            "sendmsg\ncall-command: execute\nexecute-app-name: {app}\nexecute-app-arg: {arg}{extra}"
        ))
        .await;
    assert_eq!(reply_text(&reply), "+OK");
}

#[tokio::test]
async fn queued_messages_run_inside_sleep_and_playback() {
    let sim = virtual_sim().await;
    let (_control, mut out) = outbound(&sim, "async full").await;
    out.command("myevents").await;
    queue(&mut out, "sleep", "1000", "").await;
    queue(&mut out, "playback", "silence_stream://3000", "").await;
    out.sync().await;
    assert_eq!(
        executions(&out),
        vec!["EXECUTE sleep", "EXECUTE playback"],
        "the sleep's loop reads the queue"
    );
    sim.advance(Duration::from_millis(1000)).await;
    out.sync().await;
    assert_eq!(
        executions(&out).len(),
        2,
        "the sleep waits for what it runs"
    );
    sim.advance(Duration::from_millis(2000)).await;
    out.sync().await;
    assert_eq!(
        executions(&out),
        vec![
            "EXECUTE sleep",
            "EXECUTE playback",
            "COMPLETE playback",
            "COMPLETE sleep"
        ]
    );
}

#[tokio::test]
async fn event_lock_holds_the_queue_back_until_the_locked_app_ends() {
    let sim = virtual_sim().await;
    let (_control, mut out) = outbound(&sim, "async full").await;
    out.command("myevents").await;
    queue(&mut out, "sleep", "1000", "\nevent-lock: true").await;
    queue(&mut out, "playback", "silence_stream://1000", "").await;
    out.sync().await;
    assert_eq!(executions(&out), vec!["EXECUTE sleep"]);
    sim.advance(Duration::from_millis(999)).await;
    out.sync().await;
    assert_eq!(executions(&out), vec!["EXECUTE sleep"]);
    sim.advance(Duration::from_millis(1)).await;
    out.sync().await;
    assert_eq!(
        executions(&out),
        vec!["EXECUTE sleep", "COMPLETE sleep", "EXECUTE playback"]
    );
    sim.advance(Duration::from_millis(1000)).await;
    out.sync().await;
    assert_eq!(
        executions(&out).last().map(String::as_str),
        Some("COMPLETE playback")
    );
}

/// Every frame a connection received, once the peer closed it.
async fn all_frames_until_closed(conn: &RawConn) -> Vec<Frame> {
    conn.wait_closed().await;
    conn.frames.lock().expect("lock").clone()
}

#[tokio::test]
async fn an_acl_that_denies_gets_a_rude_rejection_instead_of_the_greeting() {
    let sim = Simulator::start(SimConfig {
        clock: ClockMode::Virtual,
        heartbeat: None,
        reject_inbound: true,
        ..SimConfig::default()
    })
    .await
    .expect("starts");
    let conn = RawConn::connect(sim.port()).await;
    let frames = all_frames_until_closed(&conn).await;
    let kinds: Vec<_> = frames.iter().map(|f| f.content_type()).collect();
    assert_eq!(
        kinds,
        [
            Some("text/rude-rejection".into()),
            Some("text/disconnect-notice".into())
        ]
    );
    assert_eq!(body(&frames[0]), "Access Denied, go away.\n");
    assert_eq!(
        body(&frames[1]),
        "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
    );
    // switched off at run time: the next client is greeted again
    sim.reject_inbound(false);
    let mut admitted = RawConn::connect(sim.port()).await;
    admitted.wait_until("auth/request", |f| !f.is_empty()).await;
    assert_eq!(
        reply_text(&admitted.command("auth ClueCon").await),
        "+OK accepted"
    );
    sim.reject_inbound(true);
    let refused = RawConn::connect(sim.port()).await;
    assert_eq!(all_frames_until_closed(&refused).await.len(), 2);
    admitted.sync().await;
}

/// A connection that authenticated with `userauth` as `user`.
async fn userauth(sim: &Simulator, credentials: &str) -> (RawConn, Frame) {
    let mut conn = RawConn::connect(sim.port()).await;
    conn.wait_until("auth/request", |f| !f.is_empty()).await;
    let reply = conn.command(&format!("userauth {credentials}")).await;
    (conn, reply)
}

fn restricted_user() -> EslUser {
    EslUser {
        allowed_events: Some("HEARTBEAT,CHANNEL_ANSWER,CUSTOM,test::allowed".into()),
        allowed_api: Some("status expand bgapi".into()),
        allowed_log: false,
        ..EslUser::new("1000", "example.com", "secret")
    }
}

#[tokio::test]
async fn userauth_checks_the_directory_password_and_reports_the_permissions() {
    let sim = virtual_sim().await;
    sim.add_user(restricted_user());
    let (_, granted) = userauth(&sim, "1000@example.com:secret").await;
    assert_eq!(reply_text(&granted), "+OK accepted");
    assert_eq!(
        granted.header("Allowed-Events").as_deref(),
        Some("HEARTBEAT,CHANNEL_ANSWER,CUSTOM,test::allowed")
    );
    assert_eq!(
        granted.header("Allowed-API").as_deref(),
        Some("status expand bgapi")
    );
    assert_eq!(granted.header("Allowed-LOG").as_deref(), Some("false"));
    // the other spelling of the same credentials
    let (_, granted) = userauth(&sim, "1000:secret@example.com").await;
    assert_eq!(reply_text(&granted), "+OK accepted");
    // a registered user's own password only, and never without a domain
    for wrong in [
        "1000@example.com:ClueCon",
        "1000:secret",
        "@example.com:secret",
    ] {
        let (conn, refused) = userauth(&sim, wrong).await;
        assert_eq!(reply_text(&refused), "-ERR invalid", "{wrong}");
        conn.wait_closed().await;
    }
}

#[tokio::test]
async fn userauth_permissions_limit_events_api_and_log() {
    let sim = virtual_sim().await;
    sim.add_user(restricted_user());
    let (mut conn, _) = userauth(&sim, "1000@example.com:secret").await;
    let denied = "-ERR permission denied";
    assert_eq!(
        reply_text(&conn.command("event plain CHANNEL_ANSWER").await),
        "+OK event listener enabled plain"
    );
    // the names before a refused one stay subscribed
    assert_eq!(
        reply_text(&conn.command("event plain API HEARTBEAT").await),
        denied
    );
    assert_eq!(
        reply_text(&conn.command("event plain HEARTBEAT API").await),
        denied
    );
    assert_eq!(reply_text(&conn.command("event plain ALL").await), denied);
    assert_eq!(
        reply_text(&conn.command("event plain CUSTOM test::other").await),
        denied
    );
    assert_eq!(
        reply_text(&conn.command("event plain CUSTOM test::allowed").await),
        "+OK event listener enabled plain"
    );
    sim.fire_event(&Event::named("HEARTBEAT")).await;
    let mut custom = Event::named("CUSTOM");
    custom.add("Event-Subclass", "test::allowed");
    sim.fire_event(&custom).await;
    conn.sync().await;
    assert_eq!(
        names(&conn),
        ["HEARTBEAT", "CUSTOM"],
        "API was never subscribed"
    );

    let status = conn.command("api status").await;
    assert_eq!(status.content_type().as_deref(), Some("api/response"));
    assert!(body(&status).starts_with("UP "));
    let refused = conn.command("api version").await;
    assert_eq!(refused.content_type().as_deref(), Some("command/reply"));
    assert_eq!(reply_text(&refused), denied);
    // a command that runs another one needs that one allowed too
    assert!(body(&conn.command("api expand status").await).starts_with("UP "));
    assert_eq!(
        reply_text(&conn.command("api expand version").await),
        denied
    );
    assert_eq!(reply_text(&conn.command("bgapi version").await), denied);
    assert_eq!(reply_text(&conn.command("log info").await), denied);
}

#[tokio::test]
async fn event_lines_skip_unknown_names_and_keep_the_format() {
    let sim = virtual_sim().await;
    let mut conn = authed(&sim).await;
    conn.expect_replies(&[
        ("event plain NO_SUCH_EVENT", "-ERR no keywords supplied"),
        ("event json HEARTBEAT", "+OK event listener enabled json"),
    ])
    .await;
    assert_eq!(
        reply_text(&conn.command("event SWITCH_EVENT_channel_answer").await),
        "+OK event listener enabled json",
        "no format word keeps json"
    );
    assert_eq!(
        reply_text(&conn.command("nixevent NO_SUCH_EVENT").await),
        "-ERR no keywords supplied"
    );
}

#[tokio::test]
async fn nixevent_after_all_keeps_every_other_type_but_custom_needs_its_subclass() {
    let sim = virtual_sim().await;
    let mut conn = authed(&sim).await;
    conn.command("event plain ALL").await;
    assert_eq!(
        reply_text(&conn.command("nixevent HEARTBEAT").await),
        "+OK events nixed"
    );
    let mut custom = Event::named("CUSTOM");
    custom.add("Event-Subclass", "test::any");
    for event in [Event::named("HEARTBEAT"), custom, Event::named("TRAP")] {
        sim.fire_event(&event).await;
    }
    conn.sync().await;
    let fired: Vec<_> = names(&conn).into_iter().filter(|n| n != "API").collect();
    assert_eq!(fired, ["TRAP"]);
}

#[tokio::test]
async fn divert_events_sends_events_queued_to_the_session_to_its_socket_only() {
    let sim = virtual_sim().await;
    let (mut watcher, mut out) = outbound(&sim, "async full").await;
    watcher.command("event plain ALL").await;
    let uuid = out.replies()[0]
        .header("Unique-ID")
        .expect("uuid")
        .into_owned();
    out.command("myevents").await;
    let send =
        |subclass: &str| format!("sendevent CUSTOM\nEvent-Subclass: {subclass}\nUnique-ID: {uuid}");
    // without divert_events the session consumes it: nobody sees it, not even `event ALL`
    watcher.command(&send("test::kept")).await;
    assert_eq!(
        reply_text(&out.command("divert_events on").await),
        "+OK events diverted"
    );
    watcher.command(&send("test::diverted")).await;
    assert_eq!(
        reply_text(&out.command("divert_events off").await),
        "+OK events not diverted"
    );
    watcher.command(&send("test::kept")).await;
    out.sync().await;
    watcher.sync().await;
    let subclasses = |conn: &RawConn| -> Vec<String> {
        plain_events(conn)
            .iter()
            .filter_map(|e| e.header("Event-Subclass").map(|v| v.into_owned()))
            .collect()
    };
    assert_eq!(
        subclasses(&out),
        ["test::diverted"],
        "diverted past myevents' names"
    );
    assert!(
        subclasses(&watcher).is_empty(),
        "{:?}",
        subclasses(&watcher)
    );
    // an event for no live session is fired as usual
    watcher
        .command("sendevent CUSTOM\nEvent-Subclass: test::free\nUnique-ID: nobody")
        .await;
    watcher.sync().await;
    assert_eq!(subclasses(&watcher), ["test::free"]);
}

#[tokio::test]
async fn linger_reads_its_number_like_atoi_and_closes_after_that_many_whole_seconds() {
    let sim = virtual_sim().await;
    let (_control, mut out) = outbound(&sim, "async full").await;
    out.expect_replies(&[
        ("linger x", "+OK will linger 0 seconds"),
        ("linger 2", "+OK will linger 2 seconds"),
    ])
    .await;
    sim.advance(Duration::from_millis(300)).await;
    out.command("sendmsg\ncall-command: hangup").await;
    out.wait_until("linger notice", |f| {
        f.iter()
            .any(|f| f.header("Content-Disposition").as_deref() == Some("linger"))
    })
    .await;
    // hung up at x.300: open while the epoch second is <= x + 2, closed at x + 3
    sim.advance(Duration::from_millis(2699)).await;
    out.sync().await;
    sim.advance(Duration::from_millis(1)).await;
    out.wait_closed().await;
}

#[tokio::test]
async fn eval_and_expand_substitute_global_variables() {
    let sim = virtual_sim().await;
    let mut conn = authed(&sim).await;
    conn.command("api global_setvar greeting=hello").await;
    assert_eq!(
        body(
            &conn
                .command("api eval ${greeting}/$${greeting}/${unset}.")
                .await
        ),
        "hello/hello/."
    );
    conn.command("api global_setvar which=greeting").await;
    assert_eq!(
        body(&conn.command("api expand global_getvar ${which}").await),
        "hello",
        "runs `global_getvar greeting`"
    );
}

#[tokio::test]
async fn api_without_a_connection_sees_and_changes_the_simulators_state() {
    let sim = virtual_sim().await;
    sim.answer_after("user/1000", Duration::from_secs(2));
    let mut watcher = authed(&sim).await;
    watcher.command("event plain API CHANNEL_ANSWER").await;
    assert_eq!(sim.api("global_setvar direct=yes").await, "+OK");
    assert_eq!(
        body(&watcher.command("api global_getvar direct").await),
        "yes"
    );
    assert_eq!(
        sim.api("no_such_command x").await,
        "-ERR no_such_command Command not found!\n"
    );
    // an originate returns when it ends, here once the virtual clock passed the answer
    let originate = sim.api("originate user/1000 &park");
    let advance = async {
        sim.advance(Duration::from_secs(2)).await;
    };
    let (result, ()) = tokio::join!(originate, advance);
    let uuid = result
        .strip_prefix("+OK ")
        .expect("answered")
        .trim()
        .to_string();
    assert_eq!(sim.api(&format!("uuid_exists {uuid}")).await, "true");
    assert_eq!(sim.api(&format!("uuid_kill {uuid}")).await, "+OK\n");
    assert_eq!(sim.api(&format!("uuid_exists {uuid}")).await, "false");
    watcher.sync().await;
    let seen = names(&watcher);
    assert!(seen.contains(&"CHANNEL_ANSWER".to_string()));
    assert!(
        seen.iter().filter(|n| *n == "API").count() >= 4,
        "API events fired for direct commands too: {seen:?}"
    );
    assert_eq!(
        sim.commands_total(),
        4,
        "only the watcher's socket commands are logged"
    );
    assert!(sim.api("originate").await.starts_with("-USAGE: "));
}
