//! Event-name sequences of scenarios measured against FreeSWITCH 1.11.3-dev that the
//! transcripts do not cover (FIDELITY.md has them next to the recorded ones).

mod support;

use std::time::Duration;

use esl4j_engine::proto::Frame;
use support::{virtual_sim, RawConn};

async fn authed(port: u16) -> RawConn {
    let mut conn = RawConn::connect(port).await;
    conn.wait_until("auth/request", |f| !f.is_empty()).await;
    conn.command("auth ClueCon").await;
    conn
}

/// A header of a plain event, URL-decoded.
fn header(event: &Frame, name: &str) -> String {
    event
        .header(name)
        .map(|v| support::decode(&v))
        .unwrap_or_default()
}

/// The event names in the order of their first appearance.
fn first_appearances(events: &[Frame]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for event in events {
        let name = header(event, "Event-Name");
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// A listener filtered on an `origination_uuid` before the originate sees the channel from
/// its rename on: CHANNEL_UUID first (the CODEC events carry the uuid the session was
/// created with), then the rest of the call, 22 events in all.
#[tokio::test]
async fn a_listener_filtered_on_the_origination_uuid_sees_channel_uuid_first() {
    const U: &str = "7b3f6c0e-8f0a-4d1b-9c55-2a6e0d1f4e21";
    let sim = virtual_sim().await;
    let mut watcher = authed(sim.port()).await;
    watcher.command(&format!("filter Unique-ID {U}")).await;
    watcher.command("event plain ALL").await;
    let mut control = authed(sim.port()).await;
    let reply = control
        .command(&format!(
            "api originate {{origination_uuid={U}}}loopback/answer/default &park"
        ))
        .await;
    assert_eq!(String::from_utf8_lossy(reply.body()), format!("+OK {U}\n"));
    control.command(&format!("api uuid_kill {U}")).await;
    watcher
        .wait_until("CHANNEL_DESTROY", |frames| {
            frames.iter().any(|f| {
                f.content_type().as_deref() == Some("text/event-plain")
                    && String::from_utf8_lossy(f.body()).contains("Event-Name: CHANNEL_DESTROY")
            })
        })
        .await;
    let events = watcher.events();
    assert_eq!(
        first_appearances(&events),
        [
            "CHANNEL_UUID",
            "CHANNEL_OUTGOING",
            "CHANNEL_STATE",
            "CHANNEL_CREATE",
            "CHANNEL_ORIGINATE",
            "CHANNEL_ANSWER",
            "CHANNEL_CALLSTATE",
            "CALL_UPDATE",
            "CHANNEL_EXECUTE",
            "CHANNEL_PARK",
            "CHANNEL_HANGUP",
            "CHANNEL_UNPARK",
            "CHANNEL_EXECUTE_COMPLETE",
            "CHANNEL_HANGUP_COMPLETE",
            "CHANNEL_DESTROY",
        ]
    );
    assert_eq!(events.len(), 22, "{:?}", support::summaries(&events));
    let renamed = &events[0];
    assert_eq!(header(renamed, "Unique-ID"), U);
    let old = header(renamed, "Old-Unique-ID");
    assert!(!old.is_empty() && old != U, "Old-Unique-ID {old:?}");
    assert_eq!(header(renamed, "variable_uuid"), U);
    assert_eq!(header(renamed, "Channel-Call-UUID"), U);
}

/// `playback tone_stream://%(500,0,440)` on an answered channel: PLAYBACK_STOP and
/// CHANNEL_EXECUTE_COMPLETE with `FILE PLAYED` once the tone's 500 ms have passed.
#[tokio::test]
async fn a_tone_stream_playback_completes_after_its_duration() {
    let sim = virtual_sim().await;
    sim.answer_after("user/1", Duration::ZERO);
    let mut conn = authed(sim.port()).await;
    conn.command("event plain PLAYBACK_START PLAYBACK_STOP CHANNEL_EXECUTE_COMPLETE")
        .await;
    let reply = conn
        .command("api originate user/1 &playback(tone_stream://%(500,0,440))")
        .await;
    assert!(String::from_utf8_lossy(reply.body()).starts_with("+OK "));
    sim.advance(Duration::from_millis(499)).await;
    conn.sync().await;
    assert_eq!(first_appearances(&conn.events()), ["PLAYBACK_START"]);
    sim.advance(Duration::from_millis(1)).await;
    conn.sync().await;
    let events = conn.events();
    assert_eq!(
        first_appearances(&events),
        [
            "PLAYBACK_START",
            "PLAYBACK_STOP",
            "CHANNEL_EXECUTE_COMPLETE"
        ]
    );
    let complete = events.last().expect("complete");
    assert_eq!(header(complete, "Application"), "playback");
    // originate's `&app(...)` ends at the first `)` (mod_commands); teletone reads the tone's
    // fields to the end of the segment all the same
    assert_eq!(
        header(complete, "Application-Data"),
        "tone_stream://%(500,0,440"
    );
    assert_eq!(header(complete, "Application-Response"), "FILE PLAYED");
}
