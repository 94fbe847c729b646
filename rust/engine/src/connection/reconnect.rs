//! A connection's lifetime: drive the socket, and after an unwanted loss reconnect with
//! backoff and replay the subscriptions.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::driver::Attached;
use super::state::Shared;
use super::Gap;
use crate::error::EslError;
use crate::handshake::{read_message, send};
use crate::proto::{FrameParser, ServerMessage};
use crate::queue::Incoming;

/// Reconnect with exponential backoff after an unexpected disconnect.
#[derive(Debug, Clone)]
pub struct ReconnectPolicy {
    /// Delay before the first attempt.
    pub initial_backoff: Duration,
    /// Upper bound of the doubling delay.
    pub max_backoff: Duration,
    /// Give up after this many attempts; `None` retries forever (until `close`).
    pub max_attempts: Option<u32>,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            max_attempts: None,
        }
    }
}

/// Opens a fresh, authenticated socket: the inbound handshake, repeated on each attempt.
pub(crate) type Establish = Box<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<(TcpStream, FrameParser), EslError>> + Send>>
        + Send
        + Sync,
>;

/// How a connection that may reconnect gets a new socket, and how often it tries.
pub(crate) struct Reconnect {
    pub(crate) policy: ReconnectPolicy,
    pub(crate) establish: Establish,
}

/// Runs a connection until it ends for good: drives the socket, fails what was in flight
/// when it drops, and reconnects when a policy allows.
pub(super) async fn run(
    shared: Arc<Shared>,
    attached: Attached,
    parser: FrameParser,
    reconnect: Option<Reconnect>,
    guard: Option<Box<dyn Send>>,
) {
    let mut stop = shared.stop.subscribe();
    let mut next = Some((attached, parser));
    let reason = loop {
        let Some((attached, parser)) = next.take() else {
            break "reconnect gave up".to_owned();
        };
        let ended = shared.drive(attached, parser, &mut stop).await;
        shared.fail_in_flight(&ended);
        let reason = ended.reason;
        let wanted_end = shared.closing.load(Ordering::SeqCst) || *stop.borrow();
        let Some(reconnect) = reconnect.as_ref().filter(|_| !wanted_end) else {
            break reason;
        };
        warn!(%reason, "connection lost; reconnecting");
        let lost_at = Instant::now();
        shared.queue.push_notice(Incoming::Disconnected {
            reason: reason.clone(),
        });
        match reconnect_with_backoff(&shared, reconnect, &mut stop).await {
            Some(restored) => {
                info!(
                    attempts = restored.attempts,
                    "reconnected; subscriptions replayed"
                );
                let known = |value: u64| (value != 0).then_some(value);
                shared.lock().last_gap = Some(Gap {
                    reason: reason.clone(),
                    attempts: restored.attempts,
                    last_sequence: known(shared.last_sequence.load(Ordering::Relaxed)),
                    last_timestamp: known(shared.last_timestamp.load(Ordering::Relaxed)),
                });
                // Connected before the notice is seen, so a consumer reacting to it can send.
                let attached = shared.attach(restored.stream);
                shared.queue.push_notice(Incoming::Reconnected {
                    attempts: restored.attempts,
                    gap: lost_at.elapsed(),
                });
                // Events that came after a replayed subscription took effect, in order.
                let early: Vec<Incoming> = restored
                    .early_messages
                    .into_iter()
                    .filter_map(|message| shared.dispatch(message))
                    .collect();
                // At the hard cap the overload is queued and counted here; the reader of the
                // new socket then meets the same cap and ends it.
                let _ = shared.queue.push_all(early).await;
                next = Some((attached, restored.parser));
            }
            None => break format!("{reason}; reconnect gave up"),
        }
    };
    debug!(%reason, "connection ended");
    shared.fail_in_flight(&reason.clone().into());
    shared.lock().closed = Some(reason.clone());
    shared.queue.close(&reason);
    // Release the session slot before anyone waiting on `closed()` looks at the listener.
    drop(guard);
    shared.finished.send_replace(true);
}

/// A socket re-established by [`reconnect_with_backoff`], its subscriptions replayed.
struct Restored {
    stream: TcpStream,
    parser: FrameParser,
    attempts: u32,
    /// Messages other than the replay replies that arrived during the replay.
    early_messages: Vec<ServerMessage>,
}

/// Connects and replays the subscriptions until an attempt succeeds, the policy gives up
/// (`None`) or the connection is closed (`None`, at once, even mid-attempt).
async fn reconnect_with_backoff(
    shared: &Shared,
    reconnect: &Reconnect,
    stop: &mut watch::Receiver<bool>,
) -> Option<Restored> {
    let policy = &reconnect.policy;
    let mut delay = policy.initial_backoff;
    let mut attempts = 0u32;
    loop {
        if policy.max_attempts.is_some_and(|max| attempts >= max) {
            return None;
        }
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return None,
            () = tokio::time::sleep(delay) => {}
        }
        attempts += 1;
        let attempt = async {
            let (mut stream, mut parser) = (reconnect.establish)().await?;
            let commands = shared.replay_commands();
            let early_messages = tokio::time::timeout(
                shared.config.command_timeout,
                replay(&mut stream, &mut parser, &commands),
            )
            .await
            .map_err(|_| EslError::Timeout {
                what: "subscription replay",
                after: shared.config.command_timeout,
            })??;
            Ok::<_, EslError>(Restored {
                stream,
                parser,
                attempts,
                early_messages,
            })
        };
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return None,
            outcome = attempt => match outcome {
                Ok(restored) => return Some(restored),
                Err(error) => warn!(%error, attempts, "reconnect attempt failed"),
            },
        }
        delay = (delay * 2).min(policy.max_backoff);
    }
}

/// Sends the subscription commands on a fresh socket and waits for every reply; a refused
/// one fails the attempt, as the subscriptions would otherwise silently differ. Returns the
/// other messages that arrived meanwhile (events of subscriptions already replayed).
async fn replay(
    stream: &mut TcpStream,
    parser: &mut FrameParser,
    commands: &[Vec<u8>],
) -> Result<Vec<ServerMessage>, EslError> {
    for bytes in commands {
        send(stream, bytes).await?;
    }
    let mut early_messages = Vec::new();
    let mut replies = 0;
    while replies < commands.len() {
        match read_message(stream, parser).await? {
            Some(ServerMessage::CommandReply(reply)) if reply.is_ok() => replies += 1,
            Some(ServerMessage::CommandReply(reply)) => {
                return Err(EslError::CommandFailed(format!(
                    "replaying a subscription: {}",
                    reply.text().trim_end()
                )))
            }
            Some(other) => early_messages.push(other),
            None => {
                return Err(EslError::ConnectionClosed(
                    "closed by peer during the subscription replay".to_owned(),
                ))
            }
        }
    }
    Ok(early_messages)
}

/// Merges runs of `event <format> ...` commands of one format into one command. A run stops
/// after `CUSTOM`, since every word after it names a subclass.
fn merge_event_commands(commands: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let event_words = |bytes: &[u8]| -> Option<Vec<String>> {
        let line = std::str::from_utf8(bytes).ok()?.strip_suffix("\n\n")?;
        let words: Vec<String> = line.split(' ').map(str::to_owned).collect();
        (words.len() > 2 && words[0] == "event" && !line.contains('\n')).then_some(words)
    };
    let mut merged: Vec<Vec<u8>> = Vec::with_capacity(commands.len());
    let mut run: Option<Vec<String>> = None;
    let finish = |run: &mut Option<Vec<String>>, merged: &mut Vec<Vec<u8>>| {
        if let Some(words) = run.take() {
            merged.push(format!("{}\n\n", words.join(" ")).into_bytes());
        }
    };
    for bytes in commands {
        match (event_words(bytes), run.as_mut()) {
            (Some(words), Some(current))
                if current[1] == words[1] && !current.iter().any(|word| word == "CUSTOM") =>
            {
                current.extend(words.into_iter().skip(2));
            }
            (Some(words), _) => {
                finish(&mut run, &mut merged);
                run = Some(words);
            }
            (None, _) => {
                finish(&mut run, &mut merged);
                merged.push(bytes.clone());
            }
        }
    }
    finish(&mut run, &mut merged);
    merged
}

impl Shared {
    /// The recorded subscription commands to send on a fresh socket, with runs of `event`
    /// commands of one format merged into one command, as a fresh subscriber would send them.
    pub(super) fn replay_commands(&self) -> Vec<Vec<u8>> {
        merge_event_commands(&self.lock().replay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{command, EventFormat};

    fn lines(commands: &[Vec<u8>]) -> Vec<String> {
        commands
            .iter()
            .map(|bytes| String::from_utf8_lossy(bytes).trim_end().to_owned())
            .collect()
    }

    #[test]
    fn replay_merges_event_runs_of_one_format_and_stops_after_custom() {
        let recorded = [
            command::event(EventFormat::Plain, &["BACKGROUND_JOB"]),
            command::event(EventFormat::Plain, &["CHANNEL_ANSWER"]),
            command::filter("Event-Name", "CHANNEL_ANSWER"),
            command::event(EventFormat::Plain, &["HEARTBEAT"]),
            command::event(EventFormat::Json, &["CHANNEL_HANGUP"]),
            command::event(EventFormat::Json, &["CUSTOM", "sofia::register"]),
            command::event(EventFormat::Json, &["DTMF"]),
            command::nixevent(&["DTMF"]),
        ]
        .map(|command| command.expect("valid command"));
        assert_eq!(
            lines(&merge_event_commands(&recorded)),
            [
                "event plain BACKGROUND_JOB CHANNEL_ANSWER",
                "filter Event-Name CHANNEL_ANSWER",
                "event plain HEARTBEAT",
                "event json CHANNEL_HANGUP CUSTOM sofia::register",
                "event json DTMF",
                "nixevent DTMF",
            ]
        );
        for merged in merge_event_commands(&recorded) {
            assert!(merged.ends_with(b"\n\n") && !merged[..merged.len() - 2].contains(&b'\n'));
        }
    }
}
