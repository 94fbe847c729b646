//! `Native.connection*`: one inbound client or outbound session, shared by both Java faces.
//!
//! Commands are asynchronous: Java passes a `NativeCompletion`, a runtime task runs the
//! command and completes it with a batch (see `codec.rs`). Events are pulled: a Java thread
//! calls `connectionPoll`, which blocks that (non-runtime) thread for at most its timeout and
//! returns every queued item at once, so one JNI crossing carries many events.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use esl4j_engine::proto::command::{self, SendMsg};
use esl4j_engine::proto::{Event, EventFormat};
use esl4j_engine::{
    Client, ClientConfig, Connection, ConnectionConfig, EslError, ExecuteOptions, OverflowPolicy,
    Password, ReconnectPolicy, Response, Session,
};
use jni::objects::{JByteArray, JClass, JLongArray, JObject};
use jni::sys::{jboolean, jint, jlong, JNI_FALSE, JNI_TRUE};
use jni::JNIEnv;

use crate::callbacks::Completion;
use crate::codec::{decode_single, size_hint, BatchWriter};
use crate::convert::{bytes, required_text, text, timeout};
use crate::error::{ffi_call, BridgeError};
use crate::{handle, runtime};

/// An inbound client or an outbound session.
pub(crate) enum NativeConnection {
    Inbound(Client),
    Outbound(Session),
}

impl NativeConnection {
    fn connection(&self) -> &Connection {
        match self {
            NativeConnection::Inbound(client) => client.connection(),
            NativeConnection::Outbound(session) => session.connection(),
        }
    }

    fn channel_data(&self) -> Option<&Event> {
        match self {
            NativeConnection::Inbound(_) => None,
            NativeConnection::Outbound(session) => Some(session.channel_data()),
        }
    }
}

/// Receive buffer of a client that blocks on a full queue. A reply waits behind every event
/// buffered ahead of it; Linux autotuning lets that grow to 32 MiB (~15,000 events). Under an
/// unbounded loopback flood, events delivered while an `api` call waited fell from p99 ~8-11k
/// (autotuned) to ~4.3k with a 64 KiB cap (the rest sits in the sender's buffer). 256 KiB (the
/// kernel doubles it) keeps ~1 GB/s on a LAN with a 0.5 ms round trip.
const BLOCKING_RECEIVE_BUFFER: u32 = 256 * 1024;

/// Settings shared by inbound connects and outbound servers; zero or negative values keep
/// the engine's defaults. Keep in sync with `NativeConnection.Settings`.
pub(crate) fn connection_config(
    command_timeout_ms: jlong,
    queue_capacity: jint,
    block_on_overflow: jboolean,
    spill_max_events: jlong,
    spill_max_bytes: jlong,
) -> ConnectionConfig {
    let mut config = ConnectionConfig::default();
    let positive = |value: jlong| usize::try_from(value).ok().filter(|value| *value > 0);
    if let Some(events) = positive(spill_max_events) {
        config.spill_max_events = events;
    }
    if let Some(bytes) = positive(spill_max_bytes) {
        config.spill_max_bytes = bytes;
    }
    if let Some(timeout) = timeout(command_timeout_ms) {
        config.command_timeout = timeout;
    }
    if let Ok(capacity) = usize::try_from(queue_capacity) {
        if capacity > 0 {
            config.event_queue_capacity = capacity;
        }
    }
    if block_on_overflow == JNI_TRUE {
        config.overflow_policy = OverflowPolicy::Block;
        config.receive_buffer_size = Some(BLOCKING_RECEIVE_BUFFER);
    } else {
        config.overflow_policy = OverflowPolicy::DropOldest;
    }
    config
}

/// Runs `work` on the runtime and completes the Java `completion` with its batch.
fn spawn_completion<F>(
    env: &JNIEnv<'_>,
    completion: &JObject<'_>,
    work: F,
) -> Result<(), BridgeError>
where
    F: Future<Output = Result<Vec<u8>, EslError>> + Send + 'static,
{
    let completion = Completion::new(env, completion)?;
    runtime::get()?.spawn(async move {
        match work.await {
            Ok(payload) => completion.succeed(&payload),
            Err(error) => {
                completion.fail(crate::error::engine_kind(error.kind()), &error.to_string())
            }
        }
    });
    Ok(())
}

fn single_response(response: &Response) -> Vec<u8> {
    let mut batch = BatchWriter::with_capacity(256);
    batch.push_response(response);
    batch.finish()
}

fn format_word(word: Option<&str>) -> Result<EventFormat, BridgeError> {
    match word.unwrap_or("plain") {
        "plain" => Ok(EventFormat::Plain),
        "json" => Ok(EventFormat::Json),
        "xml" => Ok(EventFormat::Xml),
        other => Err(BridgeError::InvalidArgument(format!(
            "unknown event format {other:?}"
        ))),
    }
}

/// Borrows the connection behind a Java handle.
fn borrow(handle: jlong) -> Result<Arc<NativeConnection>, BridgeError> {
    // SAFETY: Java's NativeConnection passes only handles made by `into_handle` below, under a
    // lease that keeps them from being destroyed during this call.
    unsafe { handle::borrow::<NativeConnection>(handle) }
}

/// Wraps an outbound session for Java.
pub(crate) fn session_handle(session: Session) -> jlong {
    handle::into_handle(Arc::new(NativeConnection::Outbound(session)))
}

/// The engine's reconnect policy from `NativeConnection.Settings`: a negative
/// `max_attempts` means no reconnect, 0 no limit.
fn reconnect_policy(
    initial_delay_ms: jlong,
    max_delay_ms: jlong,
    max_attempts: jint,
) -> Option<ReconnectPolicy> {
    let max_attempts = u32::try_from(max_attempts).ok()?;
    let millis = |value: jlong| Duration::from_millis(u64::try_from(value).unwrap_or(0));
    let initial_backoff = millis(initial_delay_ms);
    Some(ReconnectPolicy {
        initial_backoff,
        max_backoff: millis(max_delay_ms).max(initial_backoff),
        max_attempts: (max_attempts > 0).then_some(max_attempts),
    })
}

/// `static native long connectionConnect(byte[] address, byte[] user, byte[] password,
/// long connectTimeoutMs, long commandTimeoutMs, int queueCapacity, boolean blockOnOverflow,
/// long spillMaxEvents, long spillMaxBytes, long reconnectInitialDelayMs,
/// long reconnectMaxDelayMs, int reconnectMaxAttempts)`:
/// connects and authenticates, blocking the calling Java thread up to the deadlines. With a
/// reconnect policy, the engine reconnects after a loss and queues `esl4j/disconnected` and
/// `esl4j/reconnected` items for `connectionPoll`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionConnect<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    address: JByteArray<'local>,
    user: JByteArray<'local>,
    password: JByteArray<'local>,
    connect_timeout_ms: jlong,
    command_timeout_ms: jlong,
    queue_capacity: jint,
    block_on_overflow: jboolean,
    spill_max_events: jlong,
    spill_max_bytes: jlong,
    reconnect_initial_delay_ms: jlong,
    reconnect_max_delay_ms: jlong,
    reconnect_max_attempts: jint,
) -> jlong {
    ffi_call(&mut env, |env| {
        let address = required_text(env, &address, "address")?;
        let password = required_text(env, &password, "password")?;
        let mut config = ClientConfig::new(address, Password::new(password));
        config.user = text(env, &user, "user")?;
        if let Some(timeout) = timeout(connect_timeout_ms) {
            config.connect_timeout = timeout;
            config.auth_timeout = timeout;
        }
        config.connection = connection_config(
            command_timeout_ms,
            queue_capacity,
            block_on_overflow,
            spill_max_events,
            spill_max_bytes,
        );
        config.reconnect = reconnect_policy(
            reconnect_initial_delay_ms,
            reconnect_max_delay_ms,
            reconnect_max_attempts,
        );
        let client = runtime::block_on(Client::connect(config))??;
        Ok(handle::into_handle(Arc::new(NativeConnection::Inbound(
            client,
        ))))
    })
}

/// Operation codes of `connectionCommand`. Keep in sync with `NativeConnection.Op`.
mod op {
    pub(super) const RAW: i32 = 0;
    pub(super) const API: i32 = 1;
    pub(super) const BGAPI: i32 = 2;
    pub(super) const BGAPI_JOB: i32 = 3;
    pub(super) const EXECUTE: i32 = 4;
    pub(super) const SUBSCRIBE: i32 = 5;
    pub(super) const UNSUBSCRIBE: i32 = 6;
    pub(super) const NOEVENTS: i32 = 7;
    pub(super) const MYEVENTS: i32 = 8;
    pub(super) const FILTER: i32 = 9;
    pub(super) const FILTER_DELETE: i32 = 10;
    pub(super) const LINGER: i32 = 11;
    pub(super) const NOLINGER: i32 = 12;
    pub(super) const RESUME: i32 = 13;
    pub(super) const DIVERT_EVENTS: i32 = 14;
    pub(super) const LOG: i32 = 15;
    pub(super) const NOLOG: i32 = 16;
    pub(super) const SENDEVENT: i32 = 17;
    pub(super) const SENDMSG: i32 = 18;
}

/// Flag bits of `EXECUTE`. Keep in sync with `NativeConnection`.
const EXECUTE_EVENT_LOCK: jlong = 1;
const EXECUTE_ASYNC: jlong = 2;
const EXECUTE_WAIT: jlong = 4;

/// `static native void connectionCommand(long handle, int op, byte[] a, byte[] b, byte[] c,
/// long number, long timeoutMs, Object completion)`: starts one command; see `NativeConnection`
/// for what each op expects and what its completion carries.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionCommand<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    operation: jint,
    a: JByteArray<'local>,
    b: JByteArray<'local>,
    c: JByteArray<'local>,
    number: jlong,
    timeout_ms: jlong,
    completion: JObject<'local>,
) {
    ffi_call(&mut env, |env| {
        let native = borrow(handle)?;
        let a = text(env, &a, "argument")?;
        let b_bytes = bytes(env, &b)?;
        let c = text(env, &c, "argument")?;
        let deadline = timeout(timeout_ms);
        let b_text = || -> Result<Option<String>, BridgeError> {
            b_bytes
                .clone()
                .map(|raw| {
                    String::from_utf8(raw)
                        .map_err(|_| BridgeError::InvalidArgument("argument is not UTF-8".into()))
                })
                .transpose()
        };
        let required = |value: Option<String>| {
            value.ok_or_else(|| BridgeError::InvalidArgument("missing argument".into()))
        };
        match operation {
            op::RAW | op::API | op::BGAPI => {
                let text = required(a)?;
                let bytes = match operation {
                    op::RAW => command::raw(&text),
                    op::API => command::api(&text),
                    _ => command::bgapi(&text, b_text()?.as_deref()),
                }
                .map_err(EslError::from)?;
                spawn_completion(env, &completion, async move {
                    let response = native.connection().send_command(bytes, deadline).await?;
                    Ok(single_response(&response))
                })
            }
            op::BGAPI_JOB => {
                let text = required(a)?;
                spawn_completion(env, &completion, async move {
                    let connection = native.connection();
                    let job = connection.bgapi(&text).await?;
                    let mut batch = BatchWriter::with_capacity(512);
                    if let Some(reply) = job.reply() {
                        batch.push_reply(reply, &[]);
                    }
                    let event = job
                        .wait(deadline.unwrap_or(connection.command_timeout()))
                        .await?;
                    batch.push_event(&event);
                    Ok(batch.finish())
                })
            }
            op::EXECUTE => {
                let app = required(a)?;
                let arg = b_text()?;
                let options = ExecuteOptions {
                    uuid: c,
                    event_lock: number & EXECUTE_EVENT_LOCK != 0,
                    async_execute: number & EXECUTE_ASYNC != 0,
                    loops: None,
                    wait_for_completion: number & EXECUTE_WAIT != 0,
                    timeout: deadline,
                };
                spawn_completion(env, &completion, async move {
                    let execution = native
                        .connection()
                        .execute(&app, arg.as_deref(), &options)
                        .await?;
                    let mut batch = BatchWriter::with_capacity(512);
                    let id: [(&[u8], &[u8]); 1] =
                        [(b"Event-UUID", execution.event_uuid.as_bytes())];
                    batch.push_reply(&execution.reply, &id);
                    if let Some(event) = &execution.completion {
                        batch.push_event(event);
                    }
                    Ok(batch.finish())
                })
            }
            op::SENDEVENT => {
                let name = required(a)?;
                let frame = decode_single(&b_bytes.unwrap_or_default())?;
                spawn_completion(env, &completion, async move {
                    let headers: Vec<(&str, &str)> = frame
                        .headers
                        .iter()
                        .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length"))
                        .map(|(n, v)| (n.as_str(), v.as_str()))
                        .collect();
                    let body = (!frame.body.is_empty()).then_some(frame.body.as_slice());
                    let bytes = command::sendevent(&name, &headers, body)?;
                    let response = native.connection().send_command(bytes, deadline).await?;
                    Ok(single_response(&response))
                })
            }
            op::SENDMSG => {
                let frame = decode_single(&b_bytes.unwrap_or_default())?;
                let message = sendmsg_from_frame(a.as_deref(), &frame);
                let bytes = message.encode().map_err(EslError::from)?;
                spawn_completion(env, &completion, async move {
                    let response = native.connection().send_command(bytes, deadline).await?;
                    Ok(single_response(&response))
                })
            }
            _ => {
                let b = b_text()?;
                spawn_completion(env, &completion, async move {
                    let reply = subscription(native.connection(), operation, a, b, number).await?;
                    let mut batch = BatchWriter::with_capacity(256);
                    batch.push_reply(&reply, &[]);
                    Ok(batch.finish())
                })
            }
        }
    })
}

/// The event-subscription and session commands, which the engine checks for `+OK` (and
/// replays after a reconnect).
async fn subscription(
    connection: &Connection,
    operation: i32,
    a: Option<String>,
    b: Option<String>,
    number: jlong,
) -> Result<esl4j_engine::proto::Reply, EslError> {
    let invalid = |what: &str| {
        EslError::InvalidCommand(esl4j_engine::CommandError::Empty {
            part: if what == "header" {
                "header"
            } else {
                "argument"
            },
        })
    };
    match operation {
        op::SUBSCRIBE | op::UNSUBSCRIBE => {
            let names_text = b.unwrap_or_default();
            let names: Vec<&str> = names_text.split_whitespace().collect();
            if operation == op::SUBSCRIBE {
                let format = format_word(a.as_deref()).map_err(|_| invalid("format"))?;
                connection.subscribe(format, &names).await
            } else {
                connection.unsubscribe(&names).await
            }
        }
        op::NOEVENTS => connection.noevents().await,
        op::MYEVENTS => {
            let format = format_word(a.as_deref()).map_err(|_| invalid("format"))?;
            connection.myevents(b.as_deref(), format).await
        }
        op::FILTER => {
            let header = a.ok_or_else(|| invalid("header"))?;
            connection.filter(&header, &b.unwrap_or_default()).await
        }
        op::FILTER_DELETE => match a {
            Some(header) => connection.filter_delete(&header, b.as_deref()).await,
            None => connection.filter_delete_all().await,
        },
        op::LINGER => connection.linger(u32::try_from(number).ok()).await,
        op::NOLINGER => connection.nolinger().await,
        op::RESUME => connection.resume().await,
        op::DIVERT_EVENTS => connection.divert_events(number != 0).await,
        op::LOG => connection.log(a.as_deref().unwrap_or("debug")).await,
        op::NOLOG => connection.nolog().await,
        _ => Err(invalid("operation")),
    }
}

/// A `sendmsg` from an event's headers (libesl's `sendMSG`): `call-command` (default
/// `execute`), `execute-app-name` and `execute-app-arg` (or the body) go through the engine's
/// encoder, which keeps long or multi-line arguments intact; every other header is passed on.
fn sendmsg_from_frame(uuid: Option<&str>, frame: &crate::codec::OwnedFrame) -> SendMsg {
    const HANDLED: [&str; 6] = [
        "call-command",
        "execute-app-name",
        "execute-app-arg",
        "event-name",
        "content-length",
        "content-type",
    ];
    let call_command = frame.header("call-command").unwrap_or("execute");
    let mut message = if call_command.eq_ignore_ascii_case("execute") {
        let body = String::from_utf8_lossy(&frame.body);
        let arg = frame
            .header("execute-app-arg")
            .map(str::to_owned)
            .or_else(|| (!body.is_empty()).then(|| body.into_owned()));
        SendMsg::execute(
            frame.header("execute-app-name").unwrap_or(""),
            arg.as_deref(),
        )
    } else {
        SendMsg::new(call_command)
    };
    if let Some(uuid) = uuid {
        message = message.uuid(uuid);
    }
    for (name, value) in &frame.headers {
        if !HANDLED
            .iter()
            .any(|handled| name.eq_ignore_ascii_case(handled))
        {
            message = message.header(name, value);
        }
    }
    message
}

/// Frame bytes one poll takes at most (at least one item): the batch is written, copied into
/// Java and decoded there while it still sits in the CPU cache; a 4096-event batch (~14 MB)
/// cost 2.1 + 1.35 us per event in native poll + Java decode, 256 KiB batches 1.35 + 1.0 us.
const POLL_BATCH_BYTES: usize = 192 * 1024;

/// `static native byte[] connectionPoll(long handle, int max, long timeoutMs)`: queued items
/// up to `max` and [`POLL_BATCH_BYTES`], waiting up to `timeoutMs` for the first; an empty
/// batch on timeout; null once the connection has ended and its queue is drained.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionPoll<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    max: jint,
    timeout_ms: jlong,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        let native = borrow(handle)?;
        let max = usize::try_from(max).unwrap_or(1).max(1);
        let wait = std::time::Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0));
        let receive = native
            .connection()
            .recv_batch_bytes(max, POLL_BATCH_BYTES, Some(wait));
        let items = match runtime::block_on(receive)? {
            Ok(items) => items,
            Err(EslError::ConnectionClosed(_)) => return Ok(JByteArray::default()),
            Err(error) => return Err(error.into()),
        };
        let mut batch = BatchWriter::with_capacity(items.iter().map(size_hint).sum());
        for item in &items {
            batch.push_incoming(item);
        }
        Ok(env.byte_array_from_slice(&batch.finish())?)
    })
}

/// `static native byte[] connectionChannelData(long handle)`: the outbound session's channel
/// data as a one-frame batch; null for inbound connections.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionChannelData<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        let native = borrow(handle)?;
        match native.channel_data() {
            None => Ok(JByteArray::default()),
            Some(event) => {
                let mut batch = BatchWriter::with_capacity(4096);
                batch.push_event(event);
                Ok(env.byte_array_from_slice(&batch.finish())?)
            }
        }
    })
}

/// `static native boolean connectionIsConnected(long handle)`.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionIsConnected<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jboolean {
    ffi_call(&mut env, |_| {
        Ok(if borrow(handle)?.connection().is_connected() {
            JNI_TRUE
        } else {
            JNI_FALSE
        })
    })
}

/// `static native long[] connectionStats(long handle)`: received, dropped, readerWaits,
/// queued, highWater, criticalDropped, spilled, spillHighWater, overloads,
/// unsolicitedReplies, queuedBytes. Keep in sync with `NativeConnection.Stats`.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionStats<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JLongArray<'local> {
    ffi_call(&mut env, |env| {
        let stats = borrow(handle)?.connection().queue_stats();
        let values = [
            stats.received as jlong,
            stats.dropped as jlong,
            stats.reader_waits as jlong,
            stats.queued as jlong,
            stats.high_water as jlong,
            stats.critical_dropped as jlong,
            stats.spilled as jlong,
            stats.spill_high_water as jlong,
            stats.overloads as jlong,
            stats.unsolicited_replies as jlong,
            stats.queued_bytes as jlong,
        ];
        let array = env.new_long_array(values.len() as i32)?;
        env.set_long_array_region(&array, 0, &values)?;
        Ok(array)
    })
}

/// `static native void connectionClose(long handle)`: starts closing (`exit`, then the
/// socket); blocked polls return once the queue is closed. Does not wait.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionClose<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    ffi_call(&mut env, |_| {
        let native = borrow(handle)?;
        runtime::get()?.spawn(async move { native.connection().close().await });
        Ok(())
    })
}

/// `static native void connectionDestroy(long handle)`: releases Java's reference.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionDestroy<'local>(
    _env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    // SAFETY: NativeHandle calls destroy exactly once, after the last lease, with a handle
    // from `into_handle::<NativeConnection>`.
    unsafe { handle::destroy::<NativeConnection>(handle) }
}
