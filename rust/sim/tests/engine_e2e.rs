//! The engine's inbound `Client` and outbound `Server` against the simulator, end to end, on
//! the virtual clock: originate no-answer / busy / early media / answer, and an outbound
//! session that answers and bridges with leg_timeout, call_timeout and continue_on_fail.

use std::time::Duration;

use esl4j_engine::proto::{Event, EventFormat};
use esl4j_engine::{Client, ClientConfig, ExecuteOptions, Password, Server, ServerConfig, Session};
use esl4j_sim::{ClockMode, SimConfig, Simulator};

const WAIT: Duration = Duration::from_secs(10);

async fn setup() -> (Simulator, Client) {
    let sim = Simulator::start(SimConfig {
        clock: ClockMode::Virtual,
        heartbeat: None,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let config = ClientConfig::new(
        format!("127.0.0.1:{}", sim.port()),
        Password::new(sim.password()),
    );
    let client = Client::connect(config).await.expect("client connects");
    client
        .subscribe(EventFormat::Plain, &["ALL"])
        .await
        .expect("subscribed");
    (sim, client)
}

/// `bgapi originate`, then the virtual clock moves `after`; returns the job's output.
async fn originate(sim: &Simulator, client: &Client, args: &str, after: Duration) -> String {
    let job = client
        .bgapi(&format!("originate {args}"))
        .await
        .expect("bgapi accepted");
    sim.advance(after).await;
    let result = job.wait(WAIT).await.expect("job result");
    String::from_utf8_lossy(result.body().unwrap_or_default()).into_owned()
}

#[tokio::test]
async fn inbound_originate_outcomes() {
    let (sim, client) = setup().await;
    sim.never_answer("user/1000");
    sim.busy("user/1001");
    sim.early_media_never_answer("user/1002");
    sim.answer_after("user/1003", Duration::from_secs(2));

    let out = originate(
        &sim,
        &client,
        "{originate_timeout=30}user/1000 &park",
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(out, "-ERR NO_ANSWER\n");
    let busy = client.api("originate user/1001 &park").await.expect("api");
    assert_eq!(busy.text(), "-ERR USER_BUSY\n");
    let early = client.api("originate user/1002 &park").await.expect("api");
    assert!(
        early.text().starts_with("+OK "),
        "early media succeeds: {}",
        early.text()
    );
    let out = originate(
        &sim,
        &client,
        "{ignore_early_media=true,originate_timeout=5}user/1002 &park",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(out, "-ERR NO_ANSWER\n");
    let out = originate(&sim, &client, "user/1003 &park", Duration::from_secs(2)).await;
    let uuid = out
        .strip_prefix("+OK ")
        .expect("answered")
        .trim()
        .to_string();
    let state = client
        .api(&format!("uuid_getvar {uuid} endpoint_disposition"))
        .await
        .expect("api");
    assert_eq!(state.text(), "_undef_");
    assert_eq!(
        client
            .api(&format!("uuid_kill {uuid}"))
            .await
            .expect("api")
            .text(),
        "+OK\n"
    );
    client.close().await;
}

struct OutboundCall {
    sim: Simulator,
    client: Client,
    session: Session,
}

async fn outbound_call() -> OutboundCall {
    let (sim, client) = setup().await;
    let server = Server::bind(ServerConfig::new("127.0.0.1:0"))
        .await
        .expect("bind");
    sim.route_to_socket("ob", &format!("{} async full", server.local_addr()));
    let _job = client
        .bgapi("originate loopback/ob/default &park")
        .await
        .expect("bgapi");
    let session = server
        .accept_timeout(WAIT)
        .await
        .expect("accept")
        .expect("session");
    session
        .myevents(None, EventFormat::Plain)
        .await
        .expect("myevents");
    session.linger(None).await.expect("linger");
    let answered = session
        .execute("answer", None, &wait())
        .await
        .expect("answer");
    assert!(answered.completion.is_some());
    OutboundCall {
        sim,
        client,
        session,
    }
}

fn wait() -> ExecuteOptions {
    ExecuteOptions {
        wait_for_completion: true,
        timeout: Some(WAIT),
        ..ExecuteOptions::default()
    }
}

impl OutboundCall {
    /// Runs an application and moves the clock once the simulator has the command.
    async fn execute_while_advancing(
        &self,
        app: &str,
        arg: &str,
        advance: Duration,
    ) -> Result<Event, String> {
        let session = self.session.clone();
        let (app, arg) = (app.to_string(), arg.to_string());
        let commands = self.sim.commands().len() as u64;
        let task = tokio::spawn(async move { session.execute(&app, Some(&arg), &wait()).await });
        assert!(
            self.sim.wait_for_commands(commands + 1, WAIT).await,
            "sendmsg arrived"
        );
        self.sim.advance(advance).await;
        let execution = task.await.expect("task").map_err(|e| e.to_string())?;
        execution
            .completion
            .ok_or_else(|| "no completion".to_string())
    }

    async fn set(&self, assignment: &str) {
        self.session
            .execute("set", Some(assignment), &wait())
            .await
            .expect("set");
    }

    /// Up = the channel exists and has no hangup cause.
    async fn channel_up(&self) -> bool {
        let uuid = self.session.uuid().expect("uuid");
        let answer = self
            .client
            .api(&format!("uuid_getvar {uuid} hangup_cause"))
            .await
            .expect("api");
        answer.text() == "_undef_"
    }
}

fn var(event: &Event, name: &str) -> String {
    event
        .header(name)
        .map(|v| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn outbound_bridge_call_timeout_keeps_the_call() {
    let call = outbound_call().await;
    call.sim.never_answer("user/2000");
    call.set("call_timeout=3").await;
    let done = call
        .execute_while_advancing("bridge", "user/2000", Duration::from_secs(3))
        .await
        .expect("completion");
    assert_eq!(var(&done, "variable_DIALSTATUS"), "NOANSWER");
    assert_eq!(var(&done, "variable_originate_disposition"), "NO_ANSWER");
    assert!(call.channel_up().await, "NO_ANSWER keeps the A-leg");
}

#[tokio::test]
async fn outbound_bridge_leg_timeout_hangs_up_without_continue_on_fail() {
    let call = outbound_call().await;
    call.sim.never_answer("user/2000");
    // ALLOTTED_TIMEOUT hangs the A-leg up first; the bridge's completion then carries the cause
    let done = call
        .execute_while_advancing("bridge", "{leg_timeout=3}user/2000", Duration::from_secs(4))
        .await
        .expect("completion");
    assert_eq!(var(&done, "Hangup-Cause"), "ALLOTTED_TIMEOUT");
    assert_eq!(var(&done, "Answer-State"), "hangup");
    assert_eq!(var(&done, "variable_DIALSTATUS"), "ALLOTTED_TIMEOUT");
    assert!(!call.channel_up().await, "the A-leg is gone");
}

#[tokio::test]
async fn outbound_bridge_leg_timeout_with_continue_on_fail() {
    let call = outbound_call().await;
    call.sim.never_answer("user/2000");
    call.set("continue_on_fail=true").await;
    let done = call
        .execute_while_advancing("bridge", "{leg_timeout=3}user/2000", Duration::from_secs(4))
        .await
        .expect("completion");
    assert_eq!(var(&done, "variable_DIALSTATUS"), "ALLOTTED_TIMEOUT");
    assert_eq!(
        var(&done, "variable_originate_failed_cause"),
        "ALLOTTED_TIMEOUT"
    );
    assert!(call.channel_up().await, "continue_on_fail keeps the A-leg");
}

#[tokio::test]
async fn outbound_answered_bridge() {
    let call = outbound_call().await;
    call.sim.answer_after("user/2000", Duration::from_secs(1));
    call.set("hangup_after_bridge=false").await;
    let session = call.session.clone();
    let commands = call.sim.commands().len() as u64;
    let task =
        tokio::spawn(async move { session.execute("bridge", Some("user/2000"), &wait()).await });
    assert!(call.sim.wait_for_commands(commands + 1, WAIT).await);
    call.sim.advance(Duration::from_secs(1)).await;
    // bridged now: the B-leg is the other leg of the A-leg
    let uuid = call.session.uuid().expect("uuid");
    let peer = call
        .client
        .api(&format!("uuid_getvar {uuid} bridge_uuid"))
        .await
        .expect("api")
        .text()
        .into_owned();
    assert_ne!(peer, "_undef_");
    assert_eq!(
        call.client
            .api(&format!("uuid_kill {peer}"))
            .await
            .expect("api")
            .text(),
        "+OK\n"
    );
    call.sim.flush().await;
    let done = task
        .await
        .expect("task")
        .expect("bridge completes")
        .completion
        .expect("completion");
    assert_eq!(var(&done, "variable_DIALSTATUS"), "SUCCESS");
    assert_eq!(
        var(&done, "variable_last_bridge_hangup_cause"),
        "NORMAL_CLEARING"
    );
    assert!(call.channel_up().await);
}
