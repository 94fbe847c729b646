//! Client behaviours that real FreeSWITCH forces on us (esl-protocol.md §0.1, §1.7, §5.13):
//! every `Reply-Text` must be checked, because the same command can be refused.

mod support;

use std::time::Duration;

use esl4j_engine::proto::{EventFormat, FrameParser};
use esl4j_engine::{Client, ClientConfig, ErrorKind, Password};
use support::{accept_auth, read_message, reply_frame, serve_once};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn a_refused_subscription_is_an_error() {
    let (address, server) = serve_once(|mut stream| async move {
        let mut parser = FrameParser::default();
        accept_auth(&mut stream, &mut parser, "ClueCon").await;
        let mut commands = Vec::new();
        // An outbound socket without `full` answers `event` like this (MES:2236).
        for reply in ["-ERR command not found", "+OK event listener enabled plain"] {
            let command = read_message(&mut stream, &mut parser)
                .await
                .expect("a command");
            commands.push(String::from_utf8_lossy(command.first_line()).into_owned());
            stream.write_all(&reply_frame(reply)).await.expect("write");
        }
        commands
    })
    .await;
    let mut config = ClientConfig::new(&address, Password::new("ClueCon"));
    config.connection.command_timeout = Duration::from_secs(10);
    let client = Client::connect(config).await.expect("connected");
    let refused = client
        .subscribe(EventFormat::Plain, &["CHANNEL_ANSWER"])
        .await
        .expect_err("-ERR is a failure");
    assert_eq!(refused.kind(), ErrorKind::CommandFailed);
    assert!(refused.to_string().contains("-ERR command not found"));
    let accepted = client
        .subscribe(EventFormat::Plain, &["ALL"])
        .await
        .expect("+OK");
    assert!(accepted.is_ok());
    client.close().await;
    let commands = server.await.expect("no panic");
    assert_eq!(
        commands,
        ["event plain CHANNEL_ANSWER", "event plain ALL"].map(String::from)
    );
}
