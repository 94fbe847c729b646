//! Every timeout variable and failure outcome of originate and bridge, on the virtual clock:
//! nothing sleeps, time moves only through `advance`, and each deadline is checked on both
//! sides (not yet fired one millisecond before, fired at it).

mod support;

use std::time::Duration;

use esl4j_engine::proto::{Event as EngineEvent, Frame};
use esl4j_sim::Simulator;
use support::{route_ob_to_listener, virtual_sim, RawConn, WAIT};

const MS: Duration = Duration::from_millis(1);

async fn inbound(sim: &Simulator) -> RawConn {
    let mut conn = RawConn::connect(sim.port()).await;
    conn.wait_until("auth/request", |f| !f.is_empty()).await;
    let reply = conn.command(&format!("auth {}", sim.password())).await;
    assert_eq!(reply.header("Reply-Text").as_deref(), Some("+OK accepted"));
    conn.command("event plain ALL").await;
    conn
}

/// Starts `bgapi originate ...` and returns the Job-UUID.
async fn bgapi(conn: &mut RawConn, args: &str) -> String {
    let reply = conn.command(&format!("bgapi {args}")).await;
    reply.header("Job-UUID").expect("Job-UUID").into_owned()
}

/// The BACKGROUND_JOB body of a job, if it has arrived.
fn job_result(conn: &RawConn, job: &str) -> Option<String> {
    conn.events()
        .iter()
        .map(|f| EngineEvent::from_plain(&plain_body(f)))
        .find(|e| {
            e.name().as_deref() == Some("BACKGROUND_JOB")
                && e.header("Job-UUID").as_deref() == Some(job)
        })
        .map(|e| String::from_utf8_lossy(e.body().unwrap_or_default()).into_owned())
}

fn plain_body(inner: &Frame) -> Vec<u8> {
    // RawConn::events() returns the inner event parsed as a frame; rebuild its text
    let mut text = inner.header_block().to_vec();
    text.push(b'\n');
    text.extend_from_slice(inner.body());
    text
}

/// Events (decoded) received so far.
fn events(conn: &RawConn) -> Vec<EngineEvent> {
    conn.frames
        .lock()
        .expect("lock")
        .iter()
        .filter(|f| f.content_type().as_deref() == Some("text/event-plain"))
        .map(|f| EngineEvent::from_plain(f.body()))
        .collect()
}

/// Advances to `at` ms after the originate was sent, asserting the job has not finished just
/// before it and has finished at it; `at` 0: it finishes once the clock runs, without time
/// passing. Returns the result.
async fn expect_job_at(
    sim: &Simulator,
    conn: &mut RawConn,
    job: &str,
    start_ms: u64,
    at_ms: u64,
) -> String {
    if at_ms > 0 {
        let before = start_ms + at_ms - 1;
        sim.advance(Duration::from_millis(before - sim.now_ms()))
            .await;
        conn.sync().await;
        assert_eq!(job_result(conn, job), None, "finished before {at_ms} ms");
    }
    sim.advance(Duration::from_millis(start_ms + at_ms - sim.now_ms()))
        .await;
    conn.wait_until("BACKGROUND_JOB", |_| job_result(conn, job).is_some())
        .await;
    job_result(conn, job).expect("result")
}

/// How an originate's job must end.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// Exactly this body.
    Is(&'static str),
    /// `+OK <uuid>`.
    Answered,
}

/// One `bgapi originate`: sent `offset_ms` into a whole second, its job must still be running
/// 1 ms before `at_ms` after it was sent, and end at `at_ms` (0: at once) with `outcome`.
struct Job {
    args: &'static str,
    offset_ms: u64,
    at_ms: u64,
    outcome: Outcome,
}

const fn job(args: &'static str, offset_ms: u64, at_ms: u64, outcome: Outcome) -> Job {
    Job {
        args,
        offset_ms,
        at_ms,
        outcome,
    }
}

const NO_ANSWER: Outcome = Outcome::Is("-ERR NO_ANSWER\n");

/// Every deadline whose only observable is the job's result, each checked 1 ms before and at
/// it, on one simulator with an endpoint per behaviour.
#[tokio::test]
async fn originate_jobs_end_at_their_deadlines() {
    let sim = virtual_sim().await;
    sim.never_answer("user/silent");
    sim.answer_after("user/rings30", Duration::from_secs(30));
    sim.early_media_never_answer("user/early");
    sim.busy("user/busy");
    sim.answer_after("user/answers", Duration::ZERO);
    // a destination that neither rings nor sends early media
    sim.set_route("quiet", &[("sleep", "100000")]);
    let mut conn = inbound(&sim).await;
    let table = [
        // originate_timeout counts whole epoch seconds, inclusive: sent on a whole second it
        // fires 3 s later, sent 700 ms into one after 2.3 s
        job("{originate_timeout=3}user/silent &park", 0, 3000, NO_ANSWER),
        job("{originate_timeout=3}user/silent &park", 700, 2300, NO_ANSWER),
        // the positional timeout, and the default of 60 s
        job("user/silent &park XML default undef undef 5", 0, 5000, NO_ANSWER),
        job("user/silent &park", 0, 60_000, NO_ANSWER),
        // a ringing leg satisfies progress_timeout; the overall timeout still applies
        job(
            "{progress_timeout=2,originate_timeout=4}user/rings30 &park",
            0,
            4000,
            NO_ANSWER,
        ),
        job(
            "{progress_timeout=2}loopback/quiet/default &park",
            0,
            2000,
            Outcome::Is("-ERR PROGRESS_TIMEOUT\n"),
        ),
        // early media is success unless ignored
        job("{originate_timeout=3}user/early &park", 0, 0, Outcome::Answered),
        job(
            "{ignore_early_media=true,originate_timeout=3}user/early &park",
            0,
            3000,
            NO_ANSWER,
        ),
        // a global timeout stops the `|` chain, unless originate_continue_on_timeout ...
        job("{originate_timeout=2}user/silent|user/answers &park", 0, 2000, NO_ANSWER),
        job(
            "{originate_timeout=2,originate_continue_on_timeout=true}user/silent|user/answers &park",
            0,
            2000,
            Outcome::Answered,
        ),
        // ... while a per-leg timeout moves on to the next group (exclusive: after 3 s)
        job("[leg_timeout=2]user/silent|user/answers &park", 0, 3000, Outcome::Answered),
        // leg_progress_timeout cuts a silent leg; a ringing one is not affected
        job(
            "[leg_progress_timeout=2]loopback/quiet/default &park",
            0,
            3000,
            Outcome::Is("-ERR PROGRESS_TIMEOUT\n"),
        ),
        job(
            "{originate_timeout=5}[leg_progress_timeout=2]user/silent &park",
            0,
            5000,
            NO_ANSWER,
        ),
        // fail_on_single_reject ends a ring-all at the first reject; without it the ringing
        // leg keeps the originate going until the timeout
        job(
            "{fail_on_single_reject=USER_BUSY}user/silent,user/busy &park",
            0,
            0,
            Outcome::Is("-ERR USER_BUSY\n"),
        ),
        job("{originate_timeout=3}user/silent,user/busy &park", 0, 3000, NO_ANSWER),
    ];
    for row in table {
        let into_second = sim.now_ms() % 1000;
        sim.advance(Duration::from_millis(
            (1000 + row.offset_ms - into_second) % 1000,
        ))
        .await;
        let start = sim.now_ms();
        let result = originate_job(&sim, &mut conn, row.args, start, row.at_ms).await;
        match row.outcome {
            Outcome::Is(expected) => assert_eq!(result, expected, "{}", row.args),
            Outcome::Answered => assert!(result.starts_with("+OK "), "{}: {result}", row.args),
        }
    }
}

/// `bgapi originate <args>` sent at `start_ms`; its result, checked to arrive at `at_ms`.
async fn originate_job(
    sim: &Simulator,
    conn: &mut RawConn,
    args: &str,
    start_ms: u64,
    at_ms: u64,
) -> String {
    let job = bgapi(conn, &format!("originate {args}")).await;
    expect_job_at(sim, conn, &job, start_ms, at_ms).await
}

#[tokio::test]
async fn leg_timeout_reports_allotted_timeout() {
    let sim = virtual_sim().await;
    sim.never_answer("user/1000");
    let mut conn = inbound(&sim).await;
    assert_eq!(
        originate_job(&sim, &mut conn, "{leg_timeout=3}user/1000 &park", 0, 4000).await,
        "-ERR ALLOTTED_TIMEOUT\n"
    );
    let hangup = events(&conn)
        .into_iter()
        .find(|e| e.name().as_deref() == Some("CHANNEL_HANGUP"))
        .expect("hangup");
    assert_eq!(
        hangup.header("Hangup-Cause").as_deref(),
        Some("ALLOTTED_TIMEOUT")
    );
}

#[tokio::test]
async fn immediate_failures_report_their_cause() {
    let sim = virtual_sim().await;
    sim.busy("user/busy");
    sim.reject("user/rejects", "CALL_REJECTED");
    let mut conn = inbound(&sim).await;
    for (dial, expected) in [
        ("user/busy", "-ERR USER_BUSY\n"),
        ("user/rejects", "-ERR CALL_REJECTED\n"),
        ("user/unknown", "-ERR USER_NOT_REGISTERED\n"),
        ("loopback/busy/default", "-ERR USER_BUSY\n"),
        (
            "error/NORMAL_TEMPORARY_FAILURE",
            "-ERR NORMAL_TEMPORARY_FAILURE\n",
        ),
    ] {
        let reply = conn.command(&format!("api originate {dial} &park")).await;
        assert_eq!(String::from_utf8_lossy(reply.body()), expected, "{dial}");
    }
    let reply = conn.command("api originate").await;
    assert!(String::from_utf8_lossy(reply.body()).starts_with("-USAGE: "));
}

#[tokio::test]
async fn answer_after_delay_and_simultaneous_legs() {
    let sim = virtual_sim().await;
    sim.answer_after("user/1000", Duration::from_secs(2));
    sim.never_answer("user/1001");
    let mut conn = inbound(&sim).await;
    let args = "{origination_uuid=aaaaaaaa-0000-4000-8000-000000000001}user/1001,user/1000 &park";
    let result = originate_job(&sim, &mut conn, args, 0, 2000).await;
    assert!(
        result.starts_with("+OK ") && !result.contains("aaaaaaaa"),
        "user/1000 wins: {result}"
    );
    let loser = events(&conn)
        .into_iter()
        .find(|e| {
            e.name().as_deref() == Some("CHANNEL_HANGUP")
                && e.header("Channel-Name").as_deref() == Some("user/1001")
        })
        .expect("losing leg hung up");
    assert_eq!(loser.header("Hangup-Cause").as_deref(), Some("LOSE_RACE"));
}

/// An outbound async session: the simulator dials `loopback/ob/default`, whose dialplan
/// hands the call to our listener.
struct Outbound {
    sim: Simulator,
    inbound: RawConn,
    out: RawConn,
    uuid: String,
}

async fn outbound_session() -> Outbound {
    let sim = virtual_sim().await;
    let listener = route_ob_to_listener(&sim, "async full").await;
    let mut inbound = inbound(&sim).await;
    bgapi(&mut inbound, "originate loopback/ob/default &park").await;
    let (stream, _) = tokio::time::timeout(WAIT, listener.accept())
        .await
        .expect("sim connects")
        .expect("accept");
    let mut out = RawConn::from_stream(stream);
    let reply = out.command("connect").await;
    let uuid = reply.header("Unique-ID").expect("Unique-ID").into_owned();
    assert_eq!(
        out.command("myevents")
            .await
            .header("Reply-Text")
            .as_deref(),
        Some("+OK Events Enabled")
    );
    assert_eq!(
        out.command("linger").await.header("Reply-Text").as_deref(),
        Some("+OK will linger")
    );
    let mut session = Outbound {
        sim,
        inbound,
        out,
        uuid,
    };
    session.execute("answer", "", "answer-1").await;
    session
}

impl Outbound {
    async fn execute(&mut self, app: &str, arg: &str, id: &str) {
        let mut msg =
            format!("sendmsg\ncall-command: execute\nexecute-app-name: {app}\nEvent-UUID: {id}");
        if !arg.is_empty() {
            msg.push_str(&format!("\nexecute-app-arg: {arg}"));
        }
        let reply = self.out.command(&msg).await;
        assert_eq!(reply.header("Reply-Text").as_deref(), Some("+OK"));
        self.sim.flush().await;
    }

    fn completion(&self, id: &str) -> Option<EngineEvent> {
        events(&self.out).into_iter().find(|e| {
            e.name().as_deref() == Some("CHANNEL_EXECUTE_COMPLETE")
                && e.header("Application-UUID").as_deref() == Some(id)
        })
    }

    /// Advances to `at_ms` (from now), checking the app has not completed just before.
    async fn completes_at(&mut self, id: &str, at_ms: u64) -> EngineEvent {
        self.sim.advance(Duration::from_millis(at_ms - 1)).await;
        self.out.sync().await;
        assert!(
            self.completion(id).is_none(),
            "{id} completed before {at_ms} ms"
        );
        self.sim.advance(MS).await;
        self.out
            .wait_until(id, |_| self.completion(id).is_some())
            .await;
        self.completion(id).expect("completion")
    }

    /// Whether the controlled channel hung up, after a round trip on the socket.
    async fn hung_up(&mut self) -> bool {
        self.out.sync().await;
        events(&self.out)
            .iter()
            .any(|e| e.name().as_deref() == Some("CHANNEL_HANGUP"))
    }
}

fn header(event: &EngineEvent, name: &str) -> String {
    event
        .header(name)
        .map(|v| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn bridge_call_timeout_from_the_caller_keeps_the_channel() {
    let mut s = outbound_session().await;
    s.sim.never_answer("user/2000");
    s.execute("set", "call_timeout=3", "set-1").await;
    s.execute("bridge", "user/2000", "bridge-1").await;
    let done = s.completes_at("bridge-1", 3000).await;
    assert_eq!(header(&done, "variable_originate_disposition"), "NO_ANSWER");
    assert_eq!(header(&done, "variable_DIALSTATUS"), "NOANSWER");
    assert_eq!(
        header(&done, "variable_originate_failed_cause"),
        "NO_ANSWER"
    );
    assert_eq!(header(&done, "Application-Response"), "_none_");
    assert!(header(&done, "variable_originate_causes").ends_with(";NO_ANSWER"));
    assert!(!s.hung_up().await, "NO_ANSWER keeps the caller up");
}

#[tokio::test]
async fn bridge_leg_timeout_hangs_up_the_caller_unless_continue_on_fail() {
    let mut s = outbound_session().await;
    s.sim.never_answer("user/2000");
    s.execute("bridge", "{leg_timeout=3}user/2000", "bridge-1")
        .await;
    let done = s.completes_at("bridge-1", 4000).await;
    assert_eq!(header(&done, "variable_DIALSTATUS"), "ALLOTTED_TIMEOUT");
    assert_eq!(header(&done, "Hangup-Cause"), "ALLOTTED_TIMEOUT");
    assert!(s.hung_up().await, "ALLOTTED_TIMEOUT hangs the caller up");
    s.out
        .wait_until("linger notice", |f| {
            f.iter()
                .any(|f| f.header("Content-Disposition").as_deref() == Some("linger"))
        })
        .await;

    let mut s = outbound_session().await;
    s.sim.never_answer("user/2000");
    s.execute("set", "continue_on_fail=true", "set-1").await;
    s.execute("bridge", "{leg_timeout=3}user/2000", "bridge-1")
        .await;
    let done = s.completes_at("bridge-1", 4000).await;
    assert_eq!(
        header(&done, "variable_originate_disposition"),
        "ALLOTTED_TIMEOUT"
    );
    assert!(!s.hung_up().await, "continue_on_fail keeps the caller up");
}

#[tokio::test]
async fn set_originate_timeout_on_the_caller_is_ignored_but_export_works() {
    let mut s = outbound_session().await;
    s.sim.never_answer("user/2000");
    s.execute("set", "originate_timeout=2", "set-1").await;
    s.execute("set", "call_timeout=5", "set-2").await;
    s.execute("bridge", "user/2000", "bridge-1").await;
    s.completes_at("bridge-1", 5000).await;

    s.execute("export", "originate_timeout=2", "export-1").await;
    s.execute("bridge", "user/2000", "bridge-2").await;
    let done = s.completes_at("bridge-2", 2000).await;
    assert_eq!(header(&done, "variable_DIALSTATUS"), "NOANSWER");
}

#[tokio::test]
async fn busy_and_reject_causes_decide_whether_the_caller_survives() {
    let mut s = outbound_session().await;
    s.sim.reject("user/2000", "CALL_REJECTED");
    s.execute("set", "continue_on_fail=USER_BUSY,CALL_REJECTED", "set-1")
        .await;
    s.execute("bridge", "user/2000", "bridge-1").await;
    s.sim.advance(MS).await;
    s.out
        .wait_until("bridge done", |_| s.completion("bridge-1").is_some())
        .await;
    assert_eq!(
        header(
            &s.completion("bridge-1").expect("done"),
            "variable_DIALSTATUS"
        ),
        "CALL_REJECTED"
    );
    assert!(!s.hung_up().await, "a listed cause continues");

    s.sim.busy("user/2001");
    s.execute("set", "continue_on_fail=false", "set-2").await;
    s.execute("bridge", "user/2001", "bridge-2").await;
    s.sim.advance(MS).await;
    s.out
        .wait_until("bridge done", |_| s.completion("bridge-2").is_some())
        .await;
    assert_eq!(
        header(
            &s.completion("bridge-2").expect("done"),
            "variable_DIALSTATUS"
        ),
        "BUSY"
    );
    assert!(s.hung_up().await, "USER_BUSY hangs the caller up");
}

#[tokio::test]
async fn answered_bridge_then_hangup_after_bridge() {
    let mut s = outbound_session().await;
    s.sim.answer_after("user/2000", Duration::from_secs(1));
    s.execute("bridge", "user/2000", "bridge-1").await;
    s.sim.advance(Duration::from_secs(1)).await;
    s.out
        .wait_until("CHANNEL_BRIDGE", |_| {
            events(&s.out)
                .iter()
                .any(|e| e.name().as_deref() == Some("CHANNEL_BRIDGE"))
        })
        .await;
    let bridge = events(&s.out)
        .into_iter()
        .find(|e| e.name().as_deref() == Some("CHANNEL_BRIDGE"))
        .expect("bridge");
    let peer = header(&bridge, "Bridge-B-Unique-ID");
    assert_eq!(header(&bridge, "Bridge-A-Unique-ID"), s.uuid);
    s.out.sync().await;
    assert!(
        s.completion("bridge-1").is_none(),
        "bridge runs while the call is up"
    );
    // the far end hangs up: without hangup_after_bridge the caller continues
    let reply = s.inbound.command(&format!("api uuid_kill {peer}")).await;
    assert_eq!(String::from_utf8_lossy(reply.body()), "+OK\n");
    s.sim.flush().await;
    s.out
        .wait_until("bridge done", |_| s.completion("bridge-1").is_some())
        .await;
    let done = s.completion("bridge-1").expect("done");
    assert_eq!(
        header(&done, "variable_last_bridge_hangup_cause"),
        "NORMAL_CLEARING"
    );
    assert!(events(&s.out)
        .iter()
        .any(|e| e.name().as_deref() == Some("CHANNEL_UNBRIDGE")));
    assert!(!s.hung_up().await);
    // with hangup_after_bridge=true the caller goes too
    s.execute("set", "hangup_after_bridge=true", "set-1").await;
    s.execute("bridge", "user/2000", "bridge-2").await;
    s.sim.advance(Duration::from_secs(1)).await;
    s.out
        .wait_until("second bridge", |_| {
            events(&s.out)
                .iter()
                .filter(|e| e.name().as_deref() == Some("CHANNEL_BRIDGE"))
                .count()
                == 2
        })
        .await;
    let peer = events(&s.out)
        .into_iter()
        .filter(|e| e.name().as_deref() == Some("CHANNEL_BRIDGE"))
        .nth(1)
        .map(|e| header(&e, "Bridge-B-Unique-ID"))
        .expect("peer");
    s.inbound.command(&format!("api uuid_kill {peer}")).await;
    s.sim.flush().await;
    s.out
        .wait_until("caller hangup", |_| {
            events(&s.out)
                .iter()
                .any(|e| e.name().as_deref() == Some("CHANNEL_HANGUP"))
        })
        .await;
}

#[tokio::test]
async fn bridge_answer_timeout_cuts_an_early_media_bridge() {
    let mut s = outbound_session().await;
    s.sim.early_media_never_answer("user/2000");
    s.execute("set", "bridge_answer_timeout=5", "set-1").await;
    s.execute("set", "continue_on_fail=true", "set-2").await;
    s.execute("bridge", "user/2000", "bridge-1").await;
    s.out
        .wait_until("early bridge", |_| {
            events(&s.out)
                .iter()
                .any(|e| e.name().as_deref() == Some("CHANNEL_BRIDGE"))
        })
        .await;
    let done = s.completes_at("bridge-1", 5000).await;
    assert_eq!(
        header(&done, "variable_last_bridge_hangup_cause"),
        "ALLOTTED_TIMEOUT"
    );
}

fn creates_of(conn: &RawConn, name: &str) -> usize {
    events(conn)
        .iter()
        .filter(|e| {
            e.name().as_deref() == Some("CHANNEL_CREATE")
                && e.header("Channel-Name").as_deref() == Some(name)
        })
        .count()
}

#[tokio::test]
async fn originate_retries_redial_after_the_retry_sleep() {
    let sim = virtual_sim().await;
    sim.busy("user/2000");
    let mut conn = inbound(&sim).await;
    let job = bgapi(
        &mut conn,
        "originate {originate_retries=3,originate_retry_sleep_ms=500}user/2000 &park",
    )
    .await;
    // tries at 0, 500 and 1000 ms; the last failure ends the job
    assert_eq!(
        expect_job_at(&sim, &mut conn, &job, 0, 1000).await,
        "-ERR USER_BUSY\n"
    );
    assert_eq!(creates_of(&conn, "user/2000"), 3);

    // out of range (1..=100): one attempt only
    let job = bgapi(
        &mut conn,
        "originate {originate_retries=101}user/2000 &park",
    )
    .await;
    conn.wait_until("BACKGROUND_JOB", |_| job_result(&conn, &job).is_some())
        .await;
    assert_eq!(creates_of(&conn, "user/2000"), 4);
}

#[tokio::test]
async fn the_overall_timeout_ends_the_retries_too() {
    let sim = virtual_sim().await;
    sim.never_answer("user/1000");
    let mut conn = inbound(&sim).await;
    let args = "{originate_retries=3,originate_timeout=2}user/1000 &park";
    assert_eq!(
        originate_job(&sim, &mut conn, args, 0, 2000).await,
        "-ERR NO_ANSWER\n"
    );
    sim.advance(Duration::from_secs(5)).await;
    conn.sync().await;
    assert_eq!(creates_of(&conn, "user/1000"), 1, "no second attempt");
}

/// The `Hangup-Cause` of the CHANNEL_HANGUP of the channel named `name`, if it hung up.
fn hangup_cause_of(conn: &RawConn, name: &str) -> Option<String> {
    events(conn)
        .into_iter()
        .find(|e| {
            e.name().as_deref() == Some("CHANNEL_HANGUP")
                && e.header("Channel-Name").as_deref() == Some(name)
        })
        .map(|e| header(&e, "Hangup-Cause"))
}

fn created(conn: &RawConn, name: &str) -> bool {
    events(conn).iter().any(|e| {
        e.name().as_deref() == Some("CHANNEL_CREATE")
            && e.header("Channel-Name").as_deref() == Some(name)
    })
}

#[tokio::test]
async fn leg_delay_start_holds_one_leg_of_a_ring_all() {
    let sim = virtual_sim().await;
    sim.never_answer("user/1");
    sim.answer_after("user/2", Duration::ZERO);
    let mut conn = inbound(&sim).await;
    // user/2 is dialled once `elapsed > 3` whole seconds, and answers at once
    let job = bgapi(
        &mut conn,
        "originate user/1,[leg_delay_start=3]user/2 &park",
    )
    .await;
    assert!(created(&conn, "user/1"));
    let result = expect_job_at(&sim, &mut conn, &job, 0, 4000).await;
    assert!(result.starts_with("+OK "), "{result}");
    assert_eq!(
        hangup_cause_of(&conn, "user/1").as_deref(),
        Some("LOSE_RACE")
    );
}

#[tokio::test]
async fn when_every_leg_is_delayed_the_shortest_delay_is_dropped() {
    let sim = virtual_sim().await;
    sim.answer_after("user/2", Duration::ZERO);
    sim.never_answer("user/3");
    let mut conn = inbound(&sim).await;
    let job = bgapi(
        &mut conn,
        "originate [leg_delay_start=5]user/3,[leg_delay_start=7]user/2 &park",
    )
    .await;
    sim.advance(MS).await;
    conn.sync().await;
    assert!(
        created(&conn, "user/3"),
        "the shortest delay starts at once"
    );
    assert!(!created(&conn, "user/2"));
    // user/2 waits the difference: 2 s, exclusive
    let result = expect_job_at(&sim, &mut conn, &job, 0, 3000).await;
    assert!(result.starts_with("+OK "), "{result}");
}

#[tokio::test]
async fn leg_timeout_of_a_delayed_leg_counts_its_delay_too() {
    let sim = virtual_sim().await;
    sim.never_answer("user/1");
    sim.never_answer("user/2");
    let mut conn = inbound(&sim).await;
    let job = bgapi(
        &mut conn,
        "originate [leg_timeout=4]user/1,[leg_delay_start=2,leg_timeout=4]user/2 &park",
    )
    .await;
    // user/1: elapsed > 4; user/2: elapsed > 2 + 4; the job ends with the last leg
    sim.advance(Duration::from_millis(5000)).await;
    conn.sync().await;
    assert_eq!(
        hangup_cause_of(&conn, "user/1").as_deref(),
        Some("ALLOTTED_TIMEOUT")
    );
    assert_eq!(hangup_cause_of(&conn, "user/2"), None);
    assert_eq!(
        expect_job_at(&sim, &mut conn, &job, 0, 7000).await,
        "-ERR ALLOTTED_TIMEOUT\n"
    );
}

#[tokio::test]
async fn per_leg_timeouts_in_brackets_with_comma_and_pipe() {
    let sim = virtual_sim().await;
    for user in ["user/1", "user/2", "user/3"] {
        sim.never_answer(user);
    }
    sim.answer_after("user/4", Duration::ZERO);
    let mut conn = inbound(&sim).await;
    // group 1 rings two legs with their own limits; when both ran out, group 2 starts
    let job = bgapi(
        &mut conn,
        "originate [leg_timeout=1]user/1,[leg_timeout=2]user/2|[leg_timeout=1]user/3|user/4 &park",
    )
    .await;
    sim.advance(Duration::from_millis(2000)).await;
    conn.sync().await;
    assert_eq!(
        hangup_cause_of(&conn, "user/1").as_deref(),
        Some("ALLOTTED_TIMEOUT")
    );
    assert!(!created(&conn, "user/3"), "group 2 waits for user/2");
    // user/2 ends at 3 s, user/3 (started at 3 s) at 5 s, then user/4 answers
    let result = expect_job_at(&sim, &mut conn, &job, 0, 5000).await;
    assert!(result.starts_with("+OK "), "{result}");
    for user in ["user/2", "user/3"] {
        assert_eq!(
            hangup_cause_of(&conn, user).as_deref(),
            Some("ALLOTTED_TIMEOUT"),
            "{user}"
        );
    }
}

#[tokio::test]
async fn bridge_early_media_keeps_waiting_for_the_answer() {
    let mut s = outbound_session().await;
    s.sim.early_media_never_answer("user/2000");
    s.execute(
        "bridge",
        "{bridge_early_media=true,originate_timeout=3}user/2000",
        "bridge-1",
    )
    .await;
    let done = s.completes_at("bridge-1", 3000).await;
    assert_eq!(header(&done, "variable_DIALSTATUS"), "NOANSWER");
    assert!(!events(&s.out)
        .iter()
        .any(|e| e.name().as_deref() == Some("CHANNEL_BRIDGE")));
    // the same early media without it bridges at once
    s.execute("bridge", "{originate_timeout=3}user/2000", "bridge-2")
        .await;
    s.sim.advance(MS).await;
    s.out
        .wait_until("early bridge", |_| {
            events(&s.out)
                .iter()
                .any(|e| e.name().as_deref() == Some("CHANNEL_BRIDGE"))
        })
        .await;
}

#[tokio::test]
async fn queued_messages_run_inside_a_ringing_and_an_answered_bridge() {
    let mut s = outbound_session().await;
    s.sim.answer_after("user/2000", Duration::from_secs(2));
    s.execute("bridge", "user/2000", "bridge-1").await;
    // the originate loop runs queued messages while it waits
    s.execute("set", "during_ring=yes", "set-1").await;
    s.out.sync().await;
    assert!(s.completion("set-1").is_some(), "ran while ringing");
    assert!(s.completion("bridge-1").is_none());
    s.sim.advance(Duration::from_secs(2)).await;
    s.out
        .wait_until("CHANNEL_BRIDGE", |_| {
            events(&s.out)
                .iter()
                .any(|e| e.name().as_deref() == Some("CHANNEL_BRIDGE"))
        })
        .await;
    let peer = events(&s.out)
        .into_iter()
        .find(|e| e.name().as_deref() == Some("CHANNEL_BRIDGE"))
        .map(|e| header(&e, "Bridge-B-Unique-ID"))
        .expect("peer");
    // and so does the bridge loop; the bridge goes on after the application
    s.execute("playback", "silence_stream://1000", "play-1")
        .await;
    s.completes_at("play-1", 1000).await;
    let unbridged = |s: &Outbound| {
        events(&s.out)
            .iter()
            .any(|e| e.name().as_deref() == Some("CHANNEL_UNBRIDGE"))
    };
    assert!(s.completion("bridge-1").is_none() && !unbridged(&s));
    // the far end hangs up during a nested playback: the bridge ends after the playback
    s.execute("playback", "silence_stream://5000", "play-2")
        .await;
    s.inbound.command(&format!("api uuid_kill {peer}")).await;
    s.sim.flush().await;
    s.out.sync().await;
    assert!(s.completion("bridge-1").is_none() && !unbridged(&s));
    s.completes_at("play-2", 5000).await;
    s.out
        .wait_until("bridge done", |_| s.completion("bridge-1").is_some())
        .await;
    assert!(unbridged(&s));
    assert!(
        !s.hung_up().await,
        "no hangup_after_bridge: the caller stays"
    );
}

#[tokio::test]
async fn hangup_after_bridge_does_not_apply_to_a_failed_bridge() {
    let mut s = outbound_session().await;
    s.sim.never_answer("user/2000");
    s.execute("set", "hangup_after_bridge=true", "set-1").await;
    s.execute("set", "continue_on_fail=true", "set-2").await;
    s.execute("bridge", "{originate_timeout=2}user/2000", "bridge-1")
        .await;
    let done = s.completes_at("bridge-1", 2000).await;
    assert_eq!(header(&done, "variable_DIALSTATUS"), "NOANSWER");
    assert!(!s.hung_up().await, "the bridge never happened");
}

#[tokio::test]
async fn callback_originate_a_leg_hangs_up_with_the_b_legs_failure() {
    let sim = virtual_sim().await;
    sim.answer_after("user/1000", Duration::ZERO);
    sim.busy("user/2000");
    sim.never_answer("user/2001");
    let mut conn = inbound(&sim).await;
    // B busy: not a cause that continues, so A hangs up with it
    let job = bgapi(&mut conn, "originate user/1000 &bridge(user/2000)").await;
    sim.advance(MS).await;
    conn.wait_until("job", |_| job_result(&conn, &job).is_some())
        .await;
    assert!(job_result(&conn, &job).expect("result").starts_with("+OK "));
    conn.wait_until("A hangs up", |_| {
        hangup_cause_of(&conn, "user/1000").is_some()
    })
    .await;
    assert_eq!(
        hangup_cause_of(&conn, "user/1000").as_deref(),
        Some("USER_BUSY")
    );
    // B unanswered: A continues, and with nothing after the bridge hangs up normally
    let start = sim.now_ms();
    let job = bgapi(
        &mut conn,
        "originate {origination_caller_id_number=77}user/1000 &bridge({originate_timeout=2}user/2001)",
    )
    .await;
    sim.advance(MS).await;
    conn.wait_until("job", |_| job_result(&conn, &job).is_some())
        .await;
    let a_uuid = job_result(&conn, &job)
        .expect("result")
        .trim()
        .trim_start_matches("+OK ")
        .to_string();
    sim.advance(Duration::from_millis(3000 - (sim.now_ms() - start)))
        .await;
    conn.sync().await;
    let a_hangup = events(&conn)
        .into_iter()
        .find(|e| {
            e.name().as_deref() == Some("CHANNEL_HANGUP")
                && e.header("Unique-ID").as_deref() == Some(a_uuid.as_str())
        })
        .expect("A hung up");
    assert_eq!(header(&a_hangup, "Hangup-Cause"), "NORMAL_CLEARING");
    assert_eq!(
        header(&a_hangup, "variable_originate_disposition"),
        "NO_ANSWER"
    );
}

#[tokio::test]
async fn enterprise_originate_races_independent_branches() {
    let sim = virtual_sim().await;
    sim.never_answer("user/1");
    sim.answer_after("user/2", Duration::from_secs(2));
    sim.early_media_never_answer("user/5");
    sim.busy("user/3");
    sim.reject("user/4", "CALL_REJECTED");
    let mut conn = inbound(&sim).await;
    // the first branch to answer wins; early media does not count (ignore_early_media=true)
    let job = bgapi(
        &mut conn,
        "originate <origination_caller_id_number=55>user/1:_:user/5:_:{originate_timeout=30}user/2 &park",
    )
    .await;
    let result = expect_job_at(&sim, &mut conn, &job, 0, 2000).await;
    assert!(result.starts_with("+OK "), "{result}");
    assert_eq!(
        hangup_cause_of(&conn, "user/1").as_deref(),
        Some("LOSE_RACE")
    );
    assert_eq!(
        hangup_cause_of(&conn, "user/5").as_deref(),
        Some("LOSE_RACE")
    );
    let create = events(&conn)
        .into_iter()
        .find(|e| {
            e.name().as_deref() == Some("CHANNEL_CREATE")
                && e.header("Channel-Name").as_deref() == Some("user/2")
        })
        .expect("user/2 created");
    assert_eq!(
        header(&create, "Caller-Caller-ID-Number"),
        "55",
        "<> reaches every branch"
    );
    // every branch failed: the last cause in branch order
    let reply = conn
        .command("api originate user/3:_:user/4:_:user/3 &park")
        .await;
    assert_eq!(String::from_utf8_lossy(reply.body()), "-ERR USER_BUSY\n");
    let reply = conn.command("api originate user/3:_:user/4 &park").await;
    assert_eq!(
        String::from_utf8_lossy(reply.body()),
        "-ERR CALL_REJECTED\n"
    );
}
