//! Fidelity: replays the client side of every recorded transcript against the simulator (on
//! the virtual clock, advancing to each recorded send time) and compares what comes back with
//! what the real FreeSWITCH sent: replies, event names per channel in order, cause headers.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use esl4j_engine::proto::{Event as EngineEvent, Frame};
use esl4j_sim::{ClockMode, SimConfig, Simulator};
use support::{decode, is_reply, load, Dir, RawConn, Record, WAIT};
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

/// The events among `frames`, parsed.
fn events_of(frames: &[Frame]) -> Vec<EngineEvent> {
    frames
        .iter()
        .filter_map(|f| match f.content_type().as_deref() {
            Some("text/event-plain") => Some(EngineEvent::from_plain(f.body())),
            Some("text/event-json") => EngineEvent::from_json(f.body()).ok(),
            _ => None,
        })
        .collect()
}

/// Unique-ID → the channel's final name (CODEC events carry an earlier one).
fn final_channel_names(events: &[EngineEvent]) -> HashMap<String, String> {
    let mut final_names: HashMap<String, String> = HashMap::new();
    for e in events {
        if let (Some(uuid), Some(name)) = (e.header("Unique-ID"), e.header("Channel-Name")) {
            if e.header("Event-Name").as_deref() != Some("CODEC")
                || !final_names.contains_key(uuid.as_ref())
            {
                final_names.insert(uuid.into_owned(), name.into_owned());
            }
        }
    }
    final_names
}

/// An event as the views compare it: its name, with the header that tells its kind apart.
fn event_detail(e: &EngineEvent, name: &str) -> String {
    let header = |h: &str| e.header(h).unwrap_or_default();
    match name {
        "CHANNEL_STATE" => format!("STATE:{}", header("Channel-State")),
        "CHANNEL_CALLSTATE" => format!("CALLSTATE:{}", header("Channel-Call-State")),
        "CHANNEL_EXECUTE" | "CHANNEL_EXECUTE_COMPLETE" => {
            format!("{name}:{}", header("Application"))
        }
        "BACKGROUND_JOB" => format!("{name}:{}", header("Job-Command")),
        "API" => format!("API:{}", header("API-Command")),
        _ => name.to_string(),
    }
}

/// Labels channels by final name plus `#n` for the n-th channel of that name, so that a
/// recorded and a simulated run, whose uuids differ, name the same channels alike.
struct ChannelLabels {
    final_names: HashMap<String, String>,
    labels: HashMap<String, String>,
    name_uses: HashMap<String, usize>,
}

impl ChannelLabels {
    fn label(&mut self, uuid: Option<&str>) -> String {
        let Some(uuid) = uuid else {
            return "-".to_string();
        };
        let (final_names, name_uses) = (&self.final_names, &mut self.name_uses);
        self.labels
            .entry(uuid.to_string())
            .or_insert_with(|| {
                let base = final_names.get(uuid).cloned().unwrap_or_default();
                let n = name_uses.entry(base.clone()).or_insert(0);
                *n += 1;
                format!("{base}#{n}")
            })
            .clone()
    }
}

fn event_view(frames: &[Frame]) -> EventView {
    let events = events_of(frames);
    let mut channels = ChannelLabels {
        final_names: final_channel_names(&events),
        labels: HashMap::new(),
        name_uses: HashMap::new(),
    };
    let mut view = EventView {
        per_channel: BTreeMap::new(),
        causes: BTreeMap::new(),
        global: Vec::new(),
        header_names: BTreeMap::new(),
    };
    for e in &events {
        let name = e
            .header("Event-Name")
            .map(|v| v.into_owned())
            .unwrap_or_default();
        if matches!(name.as_str(), "HEARTBEAT" | "RE_SCHEDULE") {
            continue;
        }
        let label = channels.label(e.header("Unique-ID").as_deref());
        let detail = event_detail(e, &name);
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

/// Length of the longest common subsequence, for the global-order similarity.
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

/// The simulator a transcript is replayed against: the recording's host name and dialplan
/// routes, on the virtual clock, with its outbound calls routed to `out_port`.
async fn recording_simulator(out_port: u16) -> Simulator {
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
    sim
}

/// The client side of one recorded connection, opened the way the recording's was: an inbound
/// connection past its auth request, or the simulator's outbound connection accepted.
async fn open_like_recording(name: &str, sim: &Simulator, outbound: &TcpListener) -> RawConn {
    if name == "out" {
        let (stream, _) = tokio::time::timeout(WAIT, outbound.accept())
            .await
            .expect("sim connects to the outbound server")
            .expect("accept");
        return RawConn::from_stream(stream);
    }
    let conn = RawConn::connect(sim.port()).await;
    conn.wait_until("auth/request", |f| !f.is_empty()).await;
    conn
}

/// The uuids of the replies so far, recorded → simulated, so that a command can name the
/// simulator's channels where the recording named the real server's.
#[derive(Default)]
struct UuidMap {
    recorded_to_simulated: HashMap<String, String>,
    replies_seen: HashMap<String, usize>,
}

impl UuidMap {
    fn learn(
        &mut self,
        conns: &BTreeMap<String, RawConn>,
        recorded: &BTreeMap<String, Vec<Frame>>,
    ) {
        let uuids = |f: &Frame| {
            let mut ids = uuids_in(&String::from_utf8_lossy(f.body()));
            ids.extend(f.header("Unique-ID").map(|u| u.into_owned()));
            ids
        };
        for (conn_name, conn) in conns {
            let simulated = conn.replies();
            let recorded = recorded.get(conn_name).map_or(&[][..], Vec::as_slice);
            let seen = self.replies_seen.entry(conn_name.clone()).or_insert(0);
            while *seen < simulated.len() && *seen < recorded.len() {
                for (r, s) in uuids(&recorded[*seen])
                    .into_iter()
                    .zip(uuids(&simulated[*seen]))
                {
                    self.recorded_to_simulated.insert(r, s);
                }
                *seen += 1;
            }
        }
    }

    fn translate(&self, command: &[u8]) -> String {
        let mut text = String::from_utf8_lossy(command).into_owned();
        for (recorded, simulated) in &self.recorded_to_simulated {
            text = text.replace(recorded, simulated);
        }
        text
    }
}

/// Reads what the simulator wrote to a connection, to the point the recording ends: a
/// connection the real server closed is read to its end; on an open one a round trip marks
/// the end, and the frames from its reply on are dropped.
async fn read_like_recording(
    name: &str,
    mut conn: RawConn,
    records: &[Record],
    recorded_replies: usize,
) -> Vec<Frame> {
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
    if recorded_close {
        conn.wait_closed().await;
        return conn.frames.lock().expect("lock").clone();
    }
    conn.wait_until("all replies", |f| {
        support::replies(f).len() >= recorded_replies
    })
    .await;
    conn.sync().await;
    let mut frames = conn.frames.lock().expect("lock").clone();
    let barrier = frames.iter().rposition(is_reply);
    frames.truncate(barrier.expect("barrier reply"));
    frames
}

/// Replays the client frames of a transcript; returns the frames each connection received.
async fn replay(records: &[Record]) -> BTreeMap<String, Vec<Frame>> {
    let outbound = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind outbound server");
    let sim = recording_simulator(outbound.local_addr().expect("addr").port()).await;
    let recorded_replies: BTreeMap<String, Vec<Frame>> = recorded_frames(records)
        .into_iter()
        .map(|(conn, frames)| (conn, support::replies(&frames)))
        .collect();
    let mut conns: BTreeMap<String, RawConn> = BTreeMap::new();
    let mut uuids = UuidMap::default();
    let mut sent = 0u64;
    let mut now = 0.0f64;
    for (index, record) in records.iter().enumerate() {
        if record.t > now {
            sim.advance(Duration::from_micros(((record.t - now) * 1e6) as u64))
                .await;
            now = record.t;
        }
        if !conns.contains_key(&record.conn) {
            let conn = open_like_recording(&record.conn, &sim, &outbound).await;
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
                Frame::parse_one(&r.bytes)
                    .ok()
                    .flatten()
                    .is_some_and(|f| is_reply(&f))
            })
            .count();
        conns[&record.conn]
            .wait_until("earlier replies", |f| support::replies(f).len() >= expected)
            .await;
        uuids.learn(&conns, &recorded_replies);
        let text = uuids.translate(&record.bytes);
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
    let mut result = BTreeMap::new();
    for (name, conn) in conns {
        let expected = recorded_replies.get(&name).map_or(0, Vec::len);
        let frames = read_like_recording(&name, conn, records, expected).await;
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

/// A scenario's report lines, and whether everything compared matched.
struct Report {
    lines: Vec<String>,
    ok: bool,
}

impl Report {
    fn line(&mut self, line: String) {
        self.lines.push(line);
    }

    fn differ(&mut self, line: String) {
        self.ok = false;
        self.lines.push(line);
    }
}

/// Replies, content types and notices of one connection.
fn compare_replies(report: &mut Report, conn: &str, real: &[Frame], simulated: &[Frame]) {
    let (rr, sr) = (reply_view(real), reply_view(simulated));
    let ok = rr == sr;
    report.ok &= ok;
    report.line(format!(
        "- [{conn}] replies, content types, notices: {} ({} frames)",
        if ok { "match" } else { "DIFFER" },
        rr.len()
    ));
    if !ok {
        report.line(format!("    real: {rr:#?}\n    sim:  {sr:#?}"));
    }
}

/// Event names in order per channel, and channels the simulator has that the server had not.
fn compare_channels(report: &mut Report, conn: &str, re: &EventView, se: &EventView) {
    let mut channel_ok = 0;
    for (label, names) in &re.per_channel {
        let got = se.per_channel.get(label).cloned().unwrap_or_default();
        if without_known_races(&got) == without_known_races(names) {
            channel_ok += 1;
        } else {
            report.differ(format!(
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
        report.differ(format!(
            "    [{conn}] extra channel in the simulator: {label}"
        ));
    }
    report.line(format!(
        "- [{conn}] event names in order, per channel: {channel_ok}/{} channels match",
        re.per_channel.len()
    ));
}

/// The cause headers of each channel's hangup and execute-complete events.
fn compare_causes(report: &mut Report, conn: &str, re: &EventView, se: &EventView) {
    let mut cause_ok = 0;
    for (label, causes) in &re.causes {
        let got = se.causes.get(label).cloned().unwrap_or_default();
        if &got == causes {
            cause_ok += 1;
        } else {
            report.differ(format!("    [{conn}] {label} cause headers DIFFER\n      real: {causes:?}\n      sim:  {got:?}"));
        }
    }
    report.line(format!(
        "- [{conn}] cause headers: {cause_ok}/{} channels match",
        re.causes.len()
    ));
}

/// What is reported but not required to match: header names per event, first appearances
/// (FIDELITY.md's table) and the interleaving across channels.
fn report_informational(
    report: &mut Report,
    scenario: &str,
    conn: &str,
    re: &EventView,
    se: &EventView,
) {
    for (event, real_names) in &re.header_names {
        let sim_names = se.header_names.get(event).cloned().unwrap_or_default();
        let missing: Vec<&String> = real_names.difference(&sim_names).collect();
        let extra: Vec<&String> = sim_names.difference(real_names).collect();
        if !missing.is_empty() || !extra.is_empty() {
            report.line(format!("    [{conn}] {event} headers (informational): missing {missing:?}, extra {extra:?}"));
        }
    }
    report.line(format!(
        "- [{conn}] event names by first appearance (FIDELITY.md table)\n      real: {}\n      sim:  {}",
        first_appearances(&re.global).join(" "),
        first_appearances(&se.global).join(" ")
    ));
    if let Ok(dir) = std::env::var("ESL4J_FIDELITY_DUMP") {
        let file = |kind: &str| {
            format!(
                "{dir}/{}-{conn}-{kind}.txt",
                scenario.trim_end_matches(".txt")
            )
        };
        let _ = std::fs::write(file("real"), re.global.join("\n"));
        let _ = std::fs::write(file("sim"), se.global.join("\n"));
    }
    report.line(format!(
        "- [{conn}] global interleaving across channels (informational): {}/{} events in the same relative order",
        lcs(&re.global, &se.global),
        re.global.len()
    ));
}

/// Compares one scenario; returns the report lines and whether everything matched.
async fn check(name: &str) -> (Vec<String>, bool) {
    let records = load(name);
    let real = recorded_frames(&records);
    let simulated = replay(&records).await;
    let mut report = Report {
        lines: vec![format!("## {name}")],
        ok: true,
    };
    for (conn, real_frames) in &real {
        let sim_frames = cut_like_recording(
            real_frames,
            &simulated.get(conn).cloned().unwrap_or_default(),
        );
        compare_replies(&mut report, conn, real_frames, &sim_frames);
        let (re, se) = (event_view(real_frames), event_view(&sim_frames));
        compare_channels(&mut report, conn, &re, &se);
        compare_causes(&mut report, conn, &re, &se);
        report_informational(&mut report, name, conn, &re, &se);
    }
    (report.lines, report.ok)
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
