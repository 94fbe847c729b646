//! Dial-string values reach the channel as FreeSWITCH unescapes them, through both the
//! `originate` API (which splits its line on blanks first) and `sendmsg execute bridge` (which
//! has no such layer).

mod support;

use std::time::Duration;

use esl4j_sim::Simulator;
use support::{RawConn, WAIT};

async fn sim() -> Simulator {
    let sim = support::virtual_sim().await;
    sim.answer_after("user/1000", Duration::ZERO);
    sim
}

async fn authed(sim: &Simulator) -> RawConn {
    let mut conn = RawConn::connect(sim.port()).await;
    conn.wait_until("auth/request", |f| !f.is_empty()).await;
    conn.command("auth ClueCon").await;
    conn
}

async fn getvar(conn: &mut RawConn, uuid: &str, name: &str) -> String {
    let reply = conn
        .command(&format!("api uuid_getvar {uuid} {name}"))
        .await;
    String::from_utf8_lossy(reply.body()).into_owned()
}

const API_LEG: &str = "0b5e8f3a-6c1d-4e2f-9a7b-3c4d5e6f7a81";
const BRIDGE_LEG: &str = "0b5e8f3a-6c1d-4e2f-9a7b-3c4d5e6f7a82";

#[tokio::test]
async fn originate_api_values_pass_the_blank_split_then_the_block_split() {
    let sim = sim().await;
    let mut conn = authed(&sim).await;
    let line = format!(
        r"api originate {{origination_uuid={API_LEG},comma=a\\,b,blank='p q',eq=k=v,uni=ü\\,☎,quoted='x,y'}}user/1000 &park"
    );
    let reply = conn.command(&line).await;
    assert_eq!(
        String::from_utf8_lossy(reply.body()),
        format!("+OK {API_LEG}\n")
    );
    for (name, value) in [
        ("comma", "a,b"),
        ("blank", "p q"),
        ("eq", "k=v"),
        ("uni", "ü,☎"),
        // the blank split stripped the quotes, so the comma split cuts the value
        ("quoted", "x"),
    ] {
        assert_eq!(getvar(&mut conn, API_LEG, name).await, value, "{name}");
    }
}

#[tokio::test]
async fn bridge_values_keep_their_quotes_for_the_block_split() {
    let sim = sim().await;
    let listener = support::route_ob_to_listener(&sim, "async full").await;
    let mut control = authed(&sim).await;
    control
        .command("bgapi originate loopback/ob/default &park")
        .await;
    let (stream, _) = tokio::time::timeout(WAIT, listener.accept())
        .await
        .expect("connects")
        .expect("accept");
    let mut out = RawConn::from_stream(stream);
    out.command("connect").await;
    let received = sim.commands_total();
    let dial = format!(
        r"{{origination_uuid={BRIDGE_LEG},comma='a,b',blank=p q,eq=k=v,uni='ü,☎',quote=\\\'q\\\'}}user/1000"
    );
    let message = format!(
        "sendmsg\ncall-command: execute\nexecute-app-name: bridge\nexecute-app-arg: {dial}\n\n"
    );
    out.send(message.as_bytes()).await;
    assert!(sim.wait_for_commands(received + 1, WAIT).await);
    sim.advance(Duration::from_millis(100)).await;
    for (name, value) in [
        ("comma", "a,b"),
        ("blank", "p q"),
        ("eq", "k=v"),
        ("uni", "ü,☎"),
        ("quote", "'q'"),
    ] {
        assert_eq!(
            getvar(&mut control, BRIDGE_LEG, name).await,
            value,
            "{name}"
        );
    }
}
