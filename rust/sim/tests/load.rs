//! Load mode: recorded frames stream to every subscribed connection, in order and complete,
//! while the simulator keeps answering commands on the same connection.

mod support;

use esl4j_sim::{FloodSpec, SimConfig, Simulator};
use support::{load, Dir, RawConn};

/// A corpus of the recorded plain event frames of a transcript, concatenated.
fn corpus() -> (Vec<u8>, usize) {
    let mut bytes = Vec::new();
    let mut count = 0;
    for record in load("03_originate_inbound.txt")
        .into_iter()
        .filter(|r| r.dir == Dir::ToClient)
    {
        if record.bytes.starts_with(b"Content-Length:")
            && record.bytes.windows(16).any(|w| w == b"text/event-plain")
        {
            bytes.extend_from_slice(&record.bytes);
            count += 1;
        }
    }
    (bytes, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_delivers_every_frame_in_order_while_answering_commands() {
    let (corpus, frames_in_corpus) = corpus();
    assert!(frames_in_corpus > 100);
    let sim = Simulator::start(SimConfig {
        heartbeat: None,
        ..SimConfig::default()
    })
    .await
    .expect("starts");
    let mut subscribed = RawConn::connect(sim.port()).await;
    subscribed
        .wait_until("auth/request", |f| !f.is_empty())
        .await;
    subscribed.command("auth ClueCon").await;
    subscribed.command("event plain ALL").await;
    let mut idle = RawConn::connect(sim.port()).await;
    idle.wait_until("auth/request", |f| !f.is_empty()).await;
    idle.command("auth ClueCon").await;

    let total = 3 * frames_in_corpus as u64 + 7;
    let sending = sim.flood(
        &corpus,
        FloodSpec {
            events: Some(total),
            ..FloodSpec::default()
        },
    );
    let (sent, reply) = tokio::join!(sending, subscribed.command("api version"));
    assert_eq!(sent.expect("flood"), total);
    assert!(String::from_utf8_lossy(reply.body()).starts_with("FreeSWITCH Version"));
    subscribed.sync().await;
    let frames = subscribed.frames.lock().expect("lock").clone();
    let events: Vec<_> = frames
        .iter()
        .filter(|f| f.content_type().as_deref() == Some("text/event-plain"))
        .collect();
    // the flood plus the API events of the commands
    assert!(events.len() as u64 >= total, "{} of {total}", events.len());
    // the n-th flooded frame is corpus frame n % len, byte for byte
    let originals = support::frames_of(&corpus);
    let mut expected = originals.iter().cycle();
    let mut matched = 0u64;
    for frame in events {
        if matched < total && Some(&frame) == expected.clone().next().as_ref() {
            expected.next();
            matched += 1;
        }
    }
    assert_eq!(
        matched, total,
        "every flooded frame arrived in corpus order"
    );
    // a connection without a subscription gets nothing
    idle.sync().await;
    assert!(idle.events().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_by_duration_and_rate_counts_what_it_sent() {
    let (corpus, _) = corpus();
    let sim = Simulator::start(SimConfig {
        heartbeat: None,
        ..SimConfig::default()
    })
    .await
    .expect("starts");
    let mut conn = RawConn::connect(sim.port()).await;
    conn.wait_until("auth/request", |f| !f.is_empty()).await;
    conn.command("auth ClueCon").await;
    conn.command("event plain ALL").await;
    let paced = sim
        .flood(
            &corpus,
            FloodSpec {
                events: Some(20),
                rate: Some(2_000),
                ..FloodSpec::default()
            },
        )
        .await
        .expect("flood");
    assert_eq!(paced, 20);
    let timed = sim
        .flood(
            &corpus,
            FloodSpec {
                duration: Some(std::time::Duration::from_millis(20)),
                ..FloodSpec::default()
            },
        )
        .await
        .expect("flood");
    assert!(timed > 0);
    conn.sync().await;
    let events = conn.events().len() as u64;
    // the flooded events plus the API event of the sync command
    assert_eq!(events, paced + timed + 1);
    let unbounded = sim.flood(&corpus, FloodSpec::default()).await;
    assert!(unbounded.is_err(), "a flood needs a count or a duration");
}

/// A corpus of one small event frame, so a queue of 100 000 of them stays a few MB.
fn tiny_corpus() -> Vec<u8> {
    let body = "Event-Name: CUSTOM\nEvent-Subclass: load%3A%3Atiny\n\n";
    format!(
        "Content-Length: {}\nContent-Type: text/event-plain\n\n{body}",
        body.len()
    )
    .into_bytes()
}

/// An authenticated raw socket subscribed to every event that then reads nothing.
async fn stalled_subscriber(sim: &Simulator) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", sim.port()))
        .await
        .expect("connect");
    stream
        .write_all(b"auth ClueCon\n\nevent plain ALL\n\n")
        .await
        .expect("send");
    // read the greeting and both replies, then stop reading
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("listener enabled") {
        let n = tokio::time::timeout(support::WAIT, stream.read(&mut buf))
            .await
            .expect("replies in time")
            .expect("read");
        assert!(n > 0, "closed during setup");
        seen.extend_from_slice(&buf[..n]);
    }
    stream
}

/// A simulator, a subscriber that reads nothing, and `total` tiny events flooded at it without
/// waiting for the reader (a paced flood never waits).
async fn paced_flood_into_a_stalled_subscriber(total: u64) -> (Simulator, tokio::net::TcpStream) {
    let sim = Simulator::start(SimConfig {
        heartbeat: None,
        ..SimConfig::default()
    })
    .await
    .expect("starts");
    let stalled = stalled_subscriber(&sim).await;
    let sent = sim
        .flood(
            &tiny_corpus(),
            FloodSpec {
                events: Some(total),
                rate: Some(10_000_000),
                ..FloodSpec::default()
            },
        )
        .await
        .expect("flood");
    assert_eq!(sent, total, "a paced flood never waits for a slow reader");
    (sim, stalled)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_flood_drops_for_a_full_queue_then_kills_the_listener() {
    use tokio::io::AsyncReadExt;
    // far more than the socket buffers and the 100 000-event queue hold
    let total = 400_000u64;
    let (_sim, mut stalled) = paced_flood_into_a_stalled_subscriber(total).await;
    // now read what reached the socket: some events, then the notice, then the close
    let mut received = Vec::new();
    tokio::time::timeout(support::WAIT, stalled.read_to_end(&mut received))
        .await
        .expect("the killed connection closes")
        .expect("read");
    let text = String::from_utf8_lossy(&received);
    let delivered = text.matches("load%3A%3Atiny").count() as u64;
    assert!(
        delivered < total,
        "events were dropped, {delivered} delivered"
    );
    assert!(
        text.ends_with(
            "Content-Type: text/disconnect-notice\nContent-Length: 39\n\nkilled listener because of lost events\n"
        ),
        "ends with the kill notice: {:?}",
        &text[text.len().saturating_sub(200)..]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaced_flood_waits_for_a_stalled_reader_only_until_its_duration() {
    let sim = Simulator::start(SimConfig {
        heartbeat: None,
        ..SimConfig::default()
    })
    .await
    .expect("starts");
    let _stalled = stalled_subscriber(&sim).await;
    let started = std::time::Instant::now();
    let sent = sim
        .flood(
            &tiny_corpus(),
            FloodSpec {
                events: Some(10_000_000),
                duration: Some(std::time::Duration::from_millis(300)),
                ..FloodSpec::default()
            },
        )
        .await
        .expect("flood");
    assert!(sent < 10_000_000, "it stopped at the duration, sent {sent}");
    // the final flush barrier gives up on the stalled socket after 5 s
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_reply_overtakes_the_events_still_queued_for_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // ~9 MB: more than a socket that is not read holds, less than the 100 000-event queue
    let total = 90_000u64;
    let (_sim, mut stalled) = paced_flood_into_a_stalled_subscriber(total).await;
    stalled.write_all(b"api status\n\n").await.expect("send");
    // mod_event_socket writes a reply right after the command runs; queued events wait
    let mut received = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let events_before_reply = loop {
        let n = tokio::time::timeout(support::WAIT, stalled.read(&mut buf))
            .await
            .expect("data in time")
            .expect("read");
        assert!(n > 0, "closed before the api response");
        received.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&received);
        if let Some(at) = text.find("Content-Type: api/response") {
            break text[..at].matches("load%3A%3Atiny").count() as u64;
        }
    };
    assert!(
        events_before_reply < total / 2,
        "the reply waited behind {events_before_reply} of {total} queued events"
    );
}
