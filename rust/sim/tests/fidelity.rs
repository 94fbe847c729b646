//! Fidelity: replays the client side of every recorded transcript against the simulator (on
//! the virtual clock, advancing to each recorded send time) and compares what comes back with
//! what the real FreeSWITCH sent: replies, event names per channel in order, cause headers.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use esl4j_engine::proto::{Event as EngineEvent, Frame};
use esl4j_sim::{ClockMode, SimConfig, Simulator};
use support::{decode, load, Dir, RawConn, Record, WAIT};
use tokio::net::TcpListener;

const CAUSE_HEADERS: [&str; 7] = [
    "Hangup-Cause",
    "variable_originate_disposition",
    "variable_DIALSTATUS",
    "variable_originate_failed_cause",
    "variable_last_bridge_hangup_cause",
    "variable_originate_causes",
    "Application-Response",
];

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

fn uuids_in(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(35))
        .filter_map(|i| text.get(i..i + 36))
        .filter(|s| is_uuid(s))
        .map(str::to_string)
        .collect()
}

fn normalize(text: &str) -> String {
    let mut out = text.to_string();
    for uuid in uuids_in(text) {
        out = out.replace(&uuid, "<uuid>");
    }
    out
}

/// The non-event frames of a connection, normalized.
fn reply_view(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .filter_map(|f| {
            let ct = f.content_type().map(|c| c.into_owned()).unwrap_or_default();
            let body = String::from_utf8_lossy(f.body()).into_owned();
            Some(match ct.as_str() {
                "text/event-plain" | "text/event-json" | "text/event-xml" => return None,
                "api/response" if body.starts_with("UP ") => "api/response <status>".to_string(),
                "api/response" if body.starts_with("Event-Name: CHANNEL_DATA") => {
                    "api/response <uuid_dump>".to_string()
                }
                "api/response" => format!("api/response {}", normalize(&body)),
                "command/reply" if f.header("Event-Name").is_some() => format!(
                    "connect-reply {} {} {}",
                    decode(&f.header("Reply-Text").unwrap_or_default()).trim_end(),
                    f.header("Socket-Mode").unwrap_or_default(),
                    f.header("Control").unwrap_or_default()
                ),
                "command/reply" => format!(
                    "command/reply {}",
                    normalize(&f.header("Reply-Text").unwrap_or_default())
                ),
                "text/disconnect-notice" => format!(
                    "disconnect-notice {} {} {:?}",
                    f.header("Content-Disposition").unwrap_or_default(),
                    f.header("Linger-Time").unwrap_or_default(),
                    body
                ),
                other => format!("{other} {}", normalize(&body)),
            })
        })
        .collect()
}

struct EventView {
    /// label → event names in order
    per_channel: BTreeMap<String, Vec<String>>,
    /// label → cause headers of hangup / execute-complete events, in order
    causes: BTreeMap<String, Vec<String>>,
    /// all labels in arrival order
    global: Vec<String>,
    /// event name → names of its non-variable headers
    header_names: BTreeMap<String, BTreeSet<String>>,
}

fn event_view(frames: &[Frame]) -> EventView {
    let mut labels: HashMap<String, String> = HashMap::new();
    let mut name_uses: HashMap<String, usize> = HashMap::new();
    let mut view = EventView {
        per_channel: BTreeMap::new(),
        causes: BTreeMap::new(),
        global: Vec::new(),
        header_names: BTreeMap::new(),
    };
    let events: Vec<EngineEvent> = frames
        .iter()
        .filter_map(|f| match f.content_type().as_deref() {
            Some("text/event-plain") => Some(EngineEvent::from_plain(f.body())),
            Some("text/event-json") => EngineEvent::from_json(f.body()).ok(),
            _ => None,
        })
        .collect();
    // a channel's label is its final name (CODEC events carry an earlier one) plus #n for reuse
    let mut final_names: HashMap<String, String> = HashMap::new();
    for e in &events {
        if let (Some(uuid), Some(name)) = (e.header("Unique-ID"), e.header("Channel-Name")) {
            if e.header("Event-Name").as_deref() != Some("CODEC")
                || !final_names.contains_key(uuid.as_ref())
            {
                final_names.insert(uuid.into_owned(), name.into_owned());
            }
        }
    }
    for e in &events {
        let name = e
            .header("Event-Name")
            .map(|v| v.into_owned())
            .unwrap_or_default();
        if matches!(name.as_str(), "HEARTBEAT" | "RE_SCHEDULE") {
            continue;
        }
        let label = match e.header("Unique-ID") {
            Some(uuid) => labels
                .entry(uuid.to_string())
                .or_insert_with(|| {
                    let base = final_names.get(uuid.as_ref()).cloned().unwrap_or_default();
                    let n = name_uses.entry(base.clone()).or_insert(0);
                    *n += 1;
                    format!("{base}#{n}")
                })
                .clone(),
            None => "-".to_string(),
        };
        let detail = match name.as_str() {
            "CHANNEL_STATE" => format!("STATE:{}", e.header("Channel-State").unwrap_or_default()),
            "CHANNEL_CALLSTATE" => format!(
                "CALLSTATE:{}",
                e.header("Channel-Call-State").unwrap_or_default()
            ),
            "CHANNEL_EXECUTE" | "CHANNEL_EXECUTE_COMPLETE" => {
                format!("{name}:{}", e.header("Application").unwrap_or_default())
            }
            "BACKGROUND_JOB" => format!("{name}:{}", e.header("Job-Command").unwrap_or_default()),
            "API" => format!("API:{}", e.header("API-Command").unwrap_or_default()),
            _ => name.clone(),
        };
        let names = view.header_names.entry(name.clone()).or_default();
        for (header, _) in e.headers() {
            let header = String::from_utf8_lossy(header);
            if !header.starts_with("variable_") {
                names.insert(header.into_owned());
            }
        }
        view.per_channel
            .entry(label.clone())
            .or_default()
            .push(detail.clone());
        view.global.push(format!("{label} {detail}"));
        if matches!(
            name.as_str(),
            "CHANNEL_HANGUP" | "CHANNEL_HANGUP_COMPLETE" | "CHANNEL_EXECUTE_COMPLETE"
        ) {
            let causes: Vec<String> = CAUSE_HEADERS
                .iter()
                .filter_map(|h| e.header(h).map(|v| format!("{h}={}", normalize(&v))))
                .collect();
            view.causes
                .entry(label)
                .or_default()
                .push(format!("{detail} [{}]", causes.join(", ")));
        }
    }
    view
}

/// Known thread races of the real server, under which two recorded runs differ: on a loopback
/// B-leg's `ring_ready`, the A-leg's CHANNEL_PROGRESS + CALLSTATE:RINGING pair may come before
/// its CHANNEL_ORIGINATE (transcript 04) or after its CS_CONSUME_MEDIA (05-07). Both orders
/// are normalized to the latter.
fn without_known_races(names: &[String]) -> Vec<String> {
    let mut out = names.to_vec();
    let pair = [
        "CHANNEL_PROGRESS".to_string(),
        "CALLSTATE:RINGING".to_string(),
    ];
    if let Some(at) = out.windows(2).position(|w| w == pair) {
        if out.get(at + 2).map(String::as_str) == Some("CHANNEL_ORIGINATE") {
            let moved: Vec<String> = out.drain(at..at + 2).collect();
            if let Some(media) = out.iter().position(|n| n == "STATE:CS_CONSUME_MEDIA") {
                out.splice(media + 1..media + 1, moved);
            }
        }
    }
    out
}

/// The recorder closed a connection right after its last reply, so frames the simulator sends
/// after that reply were never recorded; they are not compared.
fn cut_like_recording(real: &[Frame], simulated: &[Frame]) -> Vec<Frame> {
    let is_reply = |f: &Frame| {
        matches!(
            f.content_type().as_deref(),
            Some("command/reply") | Some("api/response")
        )
    };
    if !real.last().is_some_and(is_reply) {
        return simulated.to_vec();
    }
    let replies = real.iter().filter(|f| is_reply(f)).count();
    let mut seen = 0;
    let mut out = Vec::new();
    for frame in simulated {
        out.push(frame.clone());
        if is_reply(frame) {
            seen += 1;
            if seen == replies {
                break;
            }
        }
    }
    out
}

/// Length of the longest common subsequence, for the global-order similarity.
/// The event names of `global` (`label detail` entries) in the order they first appear.
fn first_appearances(global: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for entry in global {
        let detail = entry.rsplit(' ').next().unwrap_or_default();
        let name = match detail.split_once(':') {
            Some(("STATE", _)) => "CHANNEL_STATE",
            Some(("CALLSTATE", _)) => "CHANNEL_CALLSTATE",
            Some((name, _)) => name,
            None => detail,
        };
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

fn lcs(a: &[String], b: &[String]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut prev = 0;
        for (j, y) in b.iter().enumerate() {
            let keep = row[j + 1];
            row[j + 1] = if x == y {
                prev + 1
            } else {
                row[j + 1].max(row[j])
            };
            prev = keep;
        }
    }
    row[b.len()]
}

/// Replays the client frames of a transcript; returns the frames each connection received.
async fn replay(records: &[Record]) -> BTreeMap<String, Vec<Frame>> {
    let outbound = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind outbound server");
    let out_port = outbound.local_addr().expect("addr").port();
    let sim = Simulator::start(SimConfig {
        clock: ClockMode::Virtual,
        hostname: "vm".into(),
        heartbeat: None,
        thread_latency: Some(Duration::from_millis(20)),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    sim.route_to_socket("outbound", &format!("127.0.0.1:{out_port} async full"));
    sim.route_to_socket("outbound_sync", &format!("127.0.0.1:{out_port} full"));
    let mut conns: BTreeMap<String, RawConn> = BTreeMap::new();
    let mut uuid_map: HashMap<String, String> = HashMap::new();
    let mut recorded_replies: HashMap<String, Vec<Frame>> = HashMap::new();
    let mut sent = 0u64;
    let mut now = 0.0f64;
    for record in records {
        if record.dir == Dir::ToServer {
            continue;
        }
        if let Ok(Some(frame)) = Frame::parse_one(&record.bytes) {
            if matches!(
                frame.content_type().as_deref(),
                Some("command/reply") | Some("api/response")
            ) {
                recorded_replies
                    .entry(record.conn.clone())
                    .or_default()
                    .push(frame);
            }
        }
    }
    let mut replies_seen: HashMap<String, usize> = HashMap::new();
    for (index, record) in records.iter().enumerate() {
        if record.t > now {
            sim.advance(Duration::from_micros(((record.t - now) * 1e6) as u64))
                .await;
            now = record.t;
        }
        if !conns.contains_key(&record.conn) {
            let conn = if record.conn == "out" {
                let (stream, _) = tokio::time::timeout(WAIT, outbound.accept())
                    .await
                    .expect("sim connects to the outbound server")
                    .expect("accept");
                RawConn::from_stream(stream)
            } else {
                let conn = RawConn::connect(sim.port()).await;
                conn.wait_until("auth/request", |f| !f.is_empty()).await;
                conn
            };
            conns.insert(record.conn.clone(), conn);
        }
        if record.dir == Dir::ToClient {
            continue;
        }
        // the replies the real server had sent on this connection by now must be here too
        let expected = records[..index]
            .iter()
            .filter(|r| r.conn == record.conn && r.dir == Dir::ToClient)
            .filter(|r| {
                Frame::parse_one(&r.bytes).ok().flatten().is_some_and(|f| {
                    matches!(
                        f.content_type().as_deref(),
                        Some("command/reply") | Some("api/response")
                    )
                })
            })
            .count();
        conns[&record.conn]
            .wait_until("earlier replies", |f| support::replies(f).len() >= expected)
            .await;
        // learn the uuids the replies so far carry so this command can name the same channels
        for (conn_name, conn) in &conns {
            let simulated: Vec<Frame> = conn.replies();
            let seen = replies_seen.entry(conn_name.clone()).or_insert(0);
            let recorded = recorded_replies.get(conn_name).cloned().unwrap_or_default();
            while *seen < simulated.len() && *seen < recorded.len() {
                let pick = |f: &Frame| {
                    let mut ids = uuids_in(&String::from_utf8_lossy(f.body()));
                    ids.extend(f.header("Unique-ID").map(|u| u.into_owned()));
                    ids
                };
                for (r, s) in pick(&recorded[*seen])
                    .into_iter()
                    .zip(pick(&simulated[*seen]))
                {
                    uuid_map.insert(r, s);
                }
                *seen += 1;
            }
        }
        let mut text = String::from_utf8_lossy(&record.bytes).into_owned();
        for (recorded, simulated) in &uuid_map {
            text = text.replace(recorded, simulated);
        }
        let conn = conns.get_mut(&record.conn).expect("connection");
        conn.send(text.as_bytes()).await;
        sent += 1;
        assert!(
            sim.wait_for_commands(sent, WAIT).await,
            "simulator read the command"
        );
        sim.flush().await;
    }
    sim.advance(Duration::from_secs(2)).await;
    sim.flush().await;
    // make sure each connection has read everything the simulator wrote: a connection the
    // real server closed is read to its end; on an open one a round trip marks the end
    let mut result = BTreeMap::new();
    for (name, mut conn) in conns {
        let recorded_close = records
            .iter()
            .rev()
            .find(|r| r.conn == name && r.dir == Dir::ToClient)
            .is_some_and(|r| {
                Frame::parse_one(&r.bytes).ok().flatten().is_some_and(|f| {
                    f.content_type().as_deref() == Some("text/disconnect-notice")
                        && f.header("Content-Disposition").as_deref() != Some("linger")
                })
            });
        let frames = if recorded_close {
            conn.wait_closed().await;
            conn.frames.lock().expect("lock").clone()
        } else {
            let expected = recorded_replies.get(&name).map_or(0, Vec::len);
            conn.wait_until("all replies", |f| support::replies(f).len() >= expected)
                .await;
            conn.sync().await;
            let mut frames = conn.frames.lock().expect("lock").clone();
            let barrier = frames.iter().rposition(|f| {
                matches!(
                    f.content_type().as_deref(),
                    Some("api/response") | Some("command/reply")
                )
            });
            frames.truncate(barrier.expect("barrier reply"));
            frames
        };
        result.insert(name, frames);
    }
    sim.shutdown().await;
    result
}

fn recorded_frames(records: &[Record]) -> BTreeMap<String, Vec<Frame>> {
    let mut out: BTreeMap<String, Vec<Frame>> = BTreeMap::new();
    for record in records.iter().filter(|r| r.dir == Dir::ToClient) {
        if let Ok(Some(frame)) = Frame::parse_one(&record.bytes) {
            out.entry(record.conn.clone()).or_default().push(frame);
        }
    }
    out
}

/// Compares one scenario; returns the report lines and whether everything matched.
async fn check(name: &str) -> (Vec<String>, bool) {
    let records = load(name);
    let real = recorded_frames(&records);
    let simulated = replay(&records).await;
    let mut report = vec![format!("## {name}")];
    let mut all_ok = true;
    for (conn, real_frames) in &real {
        let sim_frames = cut_like_recording(
            real_frames,
            &simulated.get(conn).cloned().unwrap_or_default(),
        );
        let (rr, sr) = (reply_view(real_frames), reply_view(&sim_frames));
        let ok = rr == sr;
        all_ok &= ok;
        report.push(format!(
            "- [{conn}] replies, content types, notices: {} ({} frames)",
            if ok { "match" } else { "DIFFER" },
            rr.len()
        ));
        if !ok {
            report.push(format!("    real: {rr:#?}\n    sim:  {sr:#?}"));
        }
        let (re, se) = (event_view(real_frames), event_view(&sim_frames));
        let mut channel_ok = 0;
        for (label, names) in &re.per_channel {
            let got = se.per_channel.get(label).cloned().unwrap_or_default();
            if without_known_races(&got) == without_known_races(names) {
                channel_ok += 1;
            } else {
                all_ok = false;
                report.push(format!(
                    "    [{conn}] {label} events DIFFER\n      real: {}\n      sim:  {}",
                    names.join(" "),
                    got.join(" ")
                ));
            }
        }
        for label in se
            .per_channel
            .keys()
            .filter(|l| !re.per_channel.contains_key(*l))
        {
            all_ok = false;
            report.push(format!(
                "    [{conn}] extra channel in the simulator: {label}"
            ));
        }
        report.push(format!(
            "- [{conn}] event names in order, per channel: {channel_ok}/{} channels match",
            re.per_channel.len()
        ));
        let mut cause_ok = 0;
        for (label, causes) in &re.causes {
            let got = se.causes.get(label).cloned().unwrap_or_default();
            if &got == causes {
                cause_ok += 1;
            } else {
                all_ok = false;
                report.push(format!("    [{conn}] {label} cause headers DIFFER\n      real: {causes:?}\n      sim:  {got:?}"));
            }
        }
        report.push(format!(
            "- [{conn}] cause headers: {cause_ok}/{} channels match",
            re.causes.len()
        ));
        for (event, real_names) in &re.header_names {
            let sim_names = se.header_names.get(event).cloned().unwrap_or_default();
            let missing: Vec<&String> = real_names.difference(&sim_names).collect();
            let extra: Vec<&String> = sim_names.difference(real_names).collect();
            if !missing.is_empty() || !extra.is_empty() {
                report.push(format!("    [{conn}] {event} headers (informational): missing {missing:?}, extra {extra:?}"));
            }
        }
        report.push(format!(
            "- [{conn}] event names by first appearance (FIDELITY.md table)\n      real: {}\n      sim:  {}",
            first_appearances(&re.global).join(" "),
            first_appearances(&se.global).join(" ")
        ));
        let common = lcs(&re.global, &se.global);
        if let Ok(dir) = std::env::var("ESL4J_FIDELITY_DUMP") {
            let file =
                |kind: &str| format!("{dir}/{}-{conn}-{kind}.txt", name.trim_end_matches(".txt"));
            let _ = std::fs::write(file("real"), re.global.join("\n"));
            let _ = std::fs::write(file("sim"), se.global.join("\n"));
        }
        report.push(format!(
            "- [{conn}] global interleaving across channels (informational): {common}/{} events in the same relative order",
            re.global.len()
        ));
    }
    (report, all_ok)
}

macro_rules! scenario {
    ($test:ident, $file:literal) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            let (report, ok) = check($file).await;
            println!("{}", report.join("\n"));
            assert!(ok, "{}", report.join("\n"));
        }
    };
}

scenario!(fidelity_01_auth_api, "01_auth_api.txt");
scenario!(fidelity_02_events_plain, "02_events_plain.txt");
scenario!(fidelity_02_events_json, "02_events_json.txt");
scenario!(fidelity_03_originate_inbound, "03_originate_inbound.txt");
scenario!(
    fidelity_04_outbound_async_leg_timeout,
    "04_outbound_async_bridge_leg_timeout.txt"
);
scenario!(
    fidelity_05_outbound_async_call_timeout,
    "05_outbound_async_bridge_call_timeout.txt"
);
scenario!(
    fidelity_06_outbound_async_continue_on_fail,
    "06_outbound_async_bridge_continue_on_fail.txt"
);
scenario!(
    fidelity_07_outbound_sync_leg_timeout,
    "07_outbound_sync_bridge_leg_timeout.txt"
);
