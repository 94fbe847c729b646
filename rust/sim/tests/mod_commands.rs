//! The mod_commands API commands call-control applications use every day: replies as
//! FreeSWITCH writes them (a table, run in order on one connection) and what the commands do.

mod support;

use std::time::Duration;

use esl4j_engine::proto::Frame;
use support::{virtual_sim, RawConn};

const U: &str = "3e9d1c4a-77b2-4f0e-8a15-6c2d9b0e4f10";

async fn authed(port: u16) -> RawConn {
    let mut conn = RawConn::connect(port).await;
    conn.wait_until("auth/request", |f| !f.is_empty()).await;
    conn.command("auth ClueCon").await;
    conn
}

fn body(frame: &Frame) -> String {
    String::from_utf8_lossy(frame.body()).into_owned()
}

/// `api <command>` for every row, with `{U}` standing for the parked channel's uuid.
async fn expect_replies(conn: &mut RawConn, table: &[(&str, &str)]) {
    let table: Vec<(String, String)> = table
        .iter()
        .map(|(command, expected)| {
            (
                format!("api {command}").replace("{U}", U),
                expected.replace("{U}", U),
            )
        })
        .collect();
    conn.expect_replies(&table).await;
}

fn event_names(events: &[Frame]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e.header("Event-Name").map(|v| v.into_owned()))
        .collect()
}

/// A simulator with one answered, parked channel `U` (`user/1` answers at once).
async fn sim_with_parked_call() -> (esl4j_sim::Simulator, RawConn) {
    let sim = virtual_sim().await;
    sim.answer_after("user/1", Duration::ZERO);
    let mut conn = authed(sim.port()).await;
    let reply = conn
        .command(&format!(
            "api originate {{origination_uuid={U}}}user/1 &park"
        ))
        .await;
    assert_eq!(body(&reply), format!("+OK {U}\n"));
    (sim, conn)
}

#[tokio::test]
async fn replies_are_freeswitchs() {
    let (_sim, mut conn) = sim_with_parked_call().await;
    expect_replies(
        &mut conn,
        &[
            // switch_url_encode: UTF-8 bytes, upper-case hex
            ("url_encode 你好 héllo", "%E4%BD%A0%E5%A5%BD%20h%C3%A9llo"),
            ("url_encode \u{1F600}", "%F0%9F%98%80"),
            ("url_encode a+b=c&d", "a%2Bb%3Dc%26d"),
            ("url_decode %E4%BD%A0%E5%A5%BD%20h%C3%A9llo", "你好 héllo"),
            ("url_decode a+b%2b", "a+b+"),
            ("url_encode", "-ERR no reply\n"),
            ("echo two  words %20", "two  words %20"),
            // global variables; `=<value2>` sets only while the variable holds value2
            ("global_setvar team=blue", "+OK"),
            ("global_getvar team", "blue"),
            ("global_setvar team=red=green", "+OK"),
            ("global_getvar team", "blue"),
            ("global_setvar team=red=blue", "+OK"),
            ("global_getvar team", "red"),
            ("global_setvar team", "+OK"),
            ("global_getvar team", "-ERR no reply\n"),
            ("global_setvar", "-USAGE: <var>=<value> [=<value2>]\n"),
            // channel variables; the value is the rest of the line, none unsets
            ("uuid_setvar {U} agent_note two words", "+OK\n"),
            ("uuid_getvar {U} agent_note", "two words"),
            (
                "eval uuid:{U} ${variable_agent_note}/${Unique-ID}",
                "two words/{U}",
            ),
            ("uuid_setvar {U} agent_note", "+OK\n"),
            ("uuid_getvar {U} agent_note", "_undef_"),
            ("uuid_getvar {U}", "-USAGE: <uuid> <var>\n"),
            ("uuid_setvar {U}", "-USAGE: <uuid> <var> [value]\n"),
            ("uuid_getvar no-such-uuid x", "-ERR No such channel!\n"),
            ("uuid_setvar no-such-uuid x 1", "-ERR No such channel!\n"),
            ("uuid_exists {U}", "true"),
            ("uuid_exists", "false"),
            ("uuid_kill", "-USAGE: <uuid> [cause]\n"),
            // transfer and broadcast
            (
                "uuid_transfer {U}",
                "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n",
            ),
            ("uuid_transfer no-such-uuid 100", "-ERR No such channel!\n"),
            (
                "uuid_broadcast {U}",
                "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n",
            ),
            ("uuid_broadcast no-such-uuid x.wav", "+OK Message Sent\n"),
            // the scheduler (task 1 is the heartbeat)
            (
                "sched_api +5",
                "-ERR Invalid syntax. USAGE: [+@]<time> <group_name> <command_string>[&]\n",
            ),
            ("sched_api +60 later status", "+OK Added: 2\n"),
            ("sched_del later", "+OK Deleted: 1\n"),
            ("sched_del later", "+OK Deleted: 0\n"),
            // expand runs a command with its arguments expanded
            ("expand", "-ERR, no input\n"),
            (
                "expand no_such_command x",
                "INVALID COMMAND!\n-ERR, error executing command\n",
            ),
            // show
            ("show calls count", "\n1 total.\n"),
            ("show calls as xml", "-ERR Cannot find format xml\n"),
            (
                "show channels count as json",
                "{\"row_count\":1,\"rows\":[]}",
            ),
            // an unknown command, as FreeSWITCH refuses it
            (
                "no_such_command x",
                "-ERR no_such_command Command not found!\n",
            ),
        ],
    )
    .await;
    let usage = body(&conn.command("api show nonsense").await);
    assert!(usage.starts_with("-USAGE: codec|endpoint|"), "{usage}");
}

/// `sched_api +N` runs its command N seconds later, as a whole-second deadline.
#[tokio::test]
async fn a_scheduled_api_command_runs_at_its_second() {
    let (sim, mut conn) = sim_with_parked_call().await;
    conn.command("event plain ADD_SCHEDULE DEL_SCHEDULE CHANNEL_HANGUP")
        .await;
    expect_replies(
        &mut conn,
        &[(
            "sched_api +5 kill-later uuid_kill {U} USER_BUSY",
            "+OK Added: 2\n",
        )],
    )
    .await;
    sim.advance(Duration::from_millis(4999)).await;
    expect_replies(&mut conn, &[("uuid_exists {U}", "true")]).await;
    sim.advance(Duration::from_millis(1)).await;
    expect_replies(&mut conn, &[("uuid_exists {U}", "false")]).await;
    let events = conn.events();
    let names = event_names(&events);
    assert_eq!(names, ["ADD_SCHEDULE", "CHANNEL_HANGUP", "DEL_SCHEDULE"]);
    assert_eq!(
        events[1].header("Hangup-Cause").as_deref(),
        Some("USER_BUSY")
    );
    assert_eq!(
        events[0].header("Task-Group").as_deref(),
        Some("kill-later")
    );
}

/// `uuid_transfer` ends what the channel runs and routes the new extension; an extension
/// without a route hangs it up with NO_ROUTE_DESTINATION.
#[tokio::test]
async fn uuid_transfer_routes_the_new_extension() {
    let (sim, mut conn) = sim_with_parked_call().await;
    sim.set_route(
        "hold",
        &[("playback", "silence_stream://1000"), ("park", "")],
    );
    conn.command("event plain CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP")
        .await;
    expect_replies(&mut conn, &[("uuid_transfer {U} hold", "+OK\n")]).await;
    sim.advance(Duration::from_secs(1)).await;
    expect_replies(&mut conn, &[("uuid_transfer {U} nowhere", "+OK\n")]).await;
    conn.sync().await;
    let summary: Vec<String> = conn
        .events()
        .iter()
        .map(|e| {
            let name = e.header("Event-Name").unwrap_or_default().into_owned();
            let detail = e
                .header("Application")
                .or_else(|| e.header("Hangup-Cause"))
                .unwrap_or_default()
                .into_owned();
            format!("{name} {detail}")
        })
        .collect();
    assert_eq!(
        summary,
        [
            "CHANNEL_EXECUTE_COMPLETE park",
            "CHANNEL_EXECUTE playback",
            "CHANNEL_EXECUTE_COMPLETE playback",
            "CHANNEL_EXECUTE park",
            "CHANNEL_EXECUTE_COMPLETE park",
            "CHANNEL_EXECUTE hangup",
            "CHANNEL_HANGUP NO_ROUTE_DESTINATION",
            "CHANNEL_EXECUTE_COMPLETE hangup",
        ]
    );
}

/// `uuid_broadcast` queues a playback that runs inside the park and ends after its file.
#[tokio::test]
async fn uuid_broadcast_plays_on_a_parked_channel() {
    let (sim, mut conn) = sim_with_parked_call().await;
    conn.command("event plain PLAYBACK_START PLAYBACK_STOP")
        .await;
    expect_replies(
        &mut conn,
        &[(
            "uuid_broadcast {U} silence_stream://300 aleg",
            "+OK Message Sent\n",
        )],
    )
    .await;
    sim.advance(Duration::from_millis(300)).await;
    conn.sync().await;
    let names = event_names(&conn.events());
    assert_eq!(names, ["PLAYBACK_START", "PLAYBACK_STOP"]);
    expect_replies(&mut conn, &[("uuid_exists {U}", "true")]).await;
}

/// `show calls` lists a bridged pair once, as `show channels` lists both channels.
#[tokio::test]
async fn show_calls_lists_a_bridge_once() {
    let (_sim, mut conn) = sim_with_parked_call().await;
    let other = body(&conn.command("api originate user/1 &park").await);
    let other = other.trim().trim_start_matches("+OK ").to_string();
    expect_replies(
        &mut conn,
        &[
            ("show calls count", "\n2 total.\n"),
            ("show channels count", "\n2 total.\n"),
        ],
    )
    .await;
    let bridged = body(&conn.command(&format!("api uuid_bridge {U} {other}")).await);
    assert_eq!(bridged, format!("+OK {other}\n"));
    expect_replies(
        &mut conn,
        &[
            ("show calls count", "\n1 total.\n"),
            ("show channels count", "\n2 total.\n"),
        ],
    )
    .await;
    let calls = body(&conn.command("api show calls as json").await);
    assert!(
        calls.contains(&format!("\"uuid\":\"{U}\""))
            && calls.contains(&format!("\"b_uuid\":\"{other}\"")),
        "{calls}"
    );
}
