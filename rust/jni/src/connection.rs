//! `Native.connection*`: one inbound client or outbound session, shared by both Java faces.
//!
//! Commands have one typed export per family (`connectionApi`, `connectionBgapi`, ...). Each
//! runs on the calling Java thread when Java passes no completion (the blocking forms: the caller
//! writes the command and the reader hands the reply straight back to it), or as a runtime task
//! that completes the Java `NativeCompletion` with a batch (see `codec.rs`). Events are pulled: a Java thread
//! calls `connectionPoll`, which blocks that (non-runtime) thread for at most its timeout and
//! returns every queued item at once, so one JNI crossing carries many events.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use esl4j_engine::proto::command::{self, SendMsg};
use esl4j_engine::proto::{Event, EventFormat, Reply};
use esl4j_engine::{
    Client, ClientConfig, Connection, ConnectionConfig, EslError, ExecuteOptions, Incoming,
    OverflowPolicy, Password, ReconnectPolicy, Response, Session,
};
use jni::objects::{JByteArray, JClass, JLongArray, JObject};
use jni::sys::{jboolean, jint, jlong, JNI_FALSE, JNI_TRUE};
use jni::JNIEnv;

use crate::callbacks::Completion;
use crate::codec::{decode_single, poll_batch_array, poll_batch_into, BatchWriter};
use crate::convert::{bytes, required_text, text, timeout};
use crate::error::{ffi_call, BridgeError};
use crate::{contract, handle, runtime};

/// An inbound client or an outbound session.
pub(crate) enum NativeConnection {
    Inbound(Client),
    Outbound {
        connection: Connection,
        /// The `connect` reply's channel data until Java takes it (`connectionChannelData`):
        /// Java keeps the one copy, the engine none (it was most of an idle session's memory).
        channel_data: Mutex<Option<Event>>,
    },
}

impl NativeConnection {
    fn connection(&self) -> &Connection {
        match self {
            NativeConnection::Inbound(client) => client.connection(),
            NativeConnection::Outbound { connection, .. } => connection,
        }
    }

    /// The channel data, the first time only; `None` afterwards and for inbound connections.
    fn take_channel_data(&self) -> Option<Event> {
        match self {
            NativeConnection::Inbound(_) => None,
            NativeConnection::Outbound { channel_data, .. } => channel_data
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take(),
        }
    }
}

/// Receive buffer of a client that blocks on a full queue. A reply waits behind every event
/// buffered ahead of it; Linux autotuning lets that grow to 32 MiB (~15,000 events). Under an
/// unbounded loopback flood, events delivered while an `api` call waited fell from p99 ~8-11k
/// (autotuned) to ~4.3k with a 64 KiB cap (the rest sits in the sender's buffer). 256 KiB (the
/// kernel doubles it) keeps ~1 GB/s on a LAN with a 0.5 ms round trip.
const BLOCKING_RECEIVE_BUFFER: u32 = 256 * 1024;

/// `Some(value)` when a Java count is above zero (zero or less keeps the engine's default).
pub(crate) fn positive(value: impl TryInto<usize>) -> Option<usize> {
    value.try_into().ok().filter(|&value| value > 0)
}

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
    if let Some(events) = positive(spill_max_events) {
        config.spill_max_events = events;
    }
    if let Some(bytes) = positive(spill_max_bytes) {
        config.spill_max_bytes = bytes;
    }
    if let Some(timeout) = timeout(command_timeout_ms) {
        config.command_timeout = timeout;
    }
    if let Some(capacity) = positive(queue_capacity) {
        config.event_queue_capacity = capacity;
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
    if completion.is_null() {
        return Err(BridgeError::InvalidArgument("completion is null".into()));
    }
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

/// Borrows the connection behind a Java handle.
fn borrow(handle: jlong) -> Result<Arc<NativeConnection>, BridgeError> {
    // SAFETY: Java's NativeConnection passes only handles made by `into_handle` below, under a
    // lease that keeps them from being destroyed during this call.
    unsafe { handle::borrow::<NativeConnection>(handle) }
}

/// Wraps an outbound session for Java; its channel data waits for `connectionChannelData`.
pub(crate) fn session_handle(session: Session) -> jlong {
    let (connection, channel_data) = session.into_parts();
    handle::into_handle(Arc::new(NativeConnection::Outbound {
        connection,
        channel_data: Mutex::new(Some(channel_data)),
    }))
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
/// byte[] serverName,
/// long connectTimeoutMs, long commandTimeoutMs, int queueCapacity, boolean blockOnOverflow,
/// long spillMaxEvents, long spillMaxBytes, long reconnectInitialDelayMs,
/// long reconnectMaxDelayMs, int reconnectMaxAttempts)`:
/// connects and authenticates, blocking the calling Java thread up to the deadlines. With a
/// reconnect policy, the engine reconnects after a loss and queues items of kind
/// `KIND_DISCONNECTED` and `KIND_RECONNECTED` for `connectionPoll`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionConnect<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    address: JByteArray<'local>,
    user: JByteArray<'local>,
    password: JByteArray<'local>,
    server_name: JByteArray<'local>,
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
        config.server_name = text(env, &server_name, "server name")?;
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

/// Runs one command. With a null `completion` it runs on the calling Java thread, which blocks
/// until the result (every command has a deadline) and gets the batch back: the command is
/// written from this thread and the reader hands the reply straight to it, with no runtime task,
/// no callback into Java and no executor hop. Otherwise it runs on the runtime, completes
/// `completion` with the batch, and this returns null at once.
///
/// Nothing Java needs is held while blocked: the arguments were copied out before, the result
/// is copied in after, and no JNI call happens in between.
fn run_command<'local, F>(
    env: &mut JNIEnv<'local>,
    completion: &JObject<'_>,
    work: F,
) -> Result<JByteArray<'local>, BridgeError>
where
    F: Future<Output = Result<Vec<u8>, EslError>> + Send + 'static,
{
    if completion.is_null() {
        let payload = runtime::block_on_reply(work)??;
        return Ok(env.byte_array_from_slice(&payload)?);
    }
    spawn_completion(env, completion, work)?;
    Ok(JByteArray::default())
}

/// Sends encoded command bytes; the batch holds the one reply. The blocking form (null
/// `completion`) reads its own reply when it can (`Connection::send_command_blocking`).
fn send_encoded<'local>(
    env: &mut JNIEnv<'local>,
    completion: &JObject<'_>,
    native: Arc<NativeConnection>,
    bytes: Vec<u8>,
    timeout_ms: jlong,
) -> Result<JByteArray<'local>, BridgeError> {
    let deadline = timeout(timeout_ms);
    if completion.is_null() {
        runtime::refuse_runtime_thread()?;
        let response = native.connection().send_command_blocking(bytes, deadline)?;
        return Ok(env.byte_array_from_slice(&single_response(&response))?);
    }
    run_command(env, completion, async move {
        let response = native.connection().send_command(bytes, deadline).await?;
        Ok(single_response(&response))
    })
}

/// Encodes a one-line command from Java text with `encode` and sends it.
fn send_line<'local>(
    env: &mut JNIEnv<'local>,
    handle: jlong,
    line: &JByteArray<'_>,
    encode: fn(&str) -> Result<Vec<u8>, esl4j_engine::CommandError>,
    timeout_ms: jlong,
    completion: &JObject<'_>,
) -> Result<JByteArray<'local>, BridgeError> {
    let native = borrow(handle)?;
    let bytes = encode(&required_text(env, line, "command")?).map_err(EslError::from)?;
    send_encoded(env, completion, native, bytes, timeout_ms)
}

/// `static native byte[] connectionSendRecv(long handle, byte[] command, long timeoutMs,
/// Object completion)`: a raw command (libesl `sendRecv`); the batch holds its reply.
/// Blocking or not as [`run_command`] says, like every command export below.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionSendRecv<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    command: JByteArray<'local>,
    timeout_ms: jlong,
    completion: JObject<'local>,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        send_line(env, handle, &command, command::raw, timeout_ms, &completion)
    })
}

/// `static native byte[] connectionApi(long handle, byte[] command, long timeoutMs, Object
/// completion)`: `api <command>`; the batch holds the `api/response` (or the `command/reply`
/// of a refused command).
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionApi<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    command: JByteArray<'local>,
    timeout_ms: jlong,
    completion: JObject<'local>,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        send_line(env, handle, &command, command::api, timeout_ms, &completion)
    })
}

/// `static native byte[] connectionBgapi(long handle, byte[] command, byte[] jobUuid, boolean
/// awaitJob, long timeoutMs, Object completion)`: `bgapi <command>`. Without `awaitJob` the
/// batch holds the `+OK Job-UUID` reply (`jobUuid` null: the server picks it). With it the
/// engine picks the `Job-UUID` (`jobUuid` must be null) and the batch holds the reply and the
/// job's `BACKGROUND_JOB` event, awaited up to `timeoutMs` (the connection must be subscribed).
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionBgapi<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    command: JByteArray<'local>,
    job_uuid: JByteArray<'local>,
    await_job: jboolean,
    timeout_ms: jlong,
    completion: JObject<'local>,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        let native = borrow(handle)?;
        let line = required_text(env, &command, "command")?;
        let job_uuid = text(env, &job_uuid, "job UUID")?;
        if await_job != JNI_TRUE {
            let bytes = command::bgapi(&line, job_uuid.as_deref()).map_err(EslError::from)?;
            return send_encoded(env, &completion, native, bytes, timeout_ms);
        }
        if job_uuid.is_some() {
            return Err(BridgeError::InvalidArgument(
                "an awaited bgapi job gets its Job-UUID from the engine".into(),
            ));
        }
        let deadline = timeout(timeout_ms);
        run_command(env, &completion, async move {
            let connection = native.connection();
            let job = connection.bgapi(&line).await?;
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
    })
}

/// `static native byte[] connectionExecute(long handle, byte[] app, byte[] arg, byte[] uuid,
/// int flags, long timeoutMs, Object completion)`: a dialplan application through `sendmsg`,
/// tagged with a fresh `Event-UUID`; `flags` are `NativeContract.EXECUTE_*`. The batch holds the
/// reply with an added `Event-UUID` header, then the `CHANNEL_EXECUTE_COMPLETE` when awaited.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionExecute<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    app: JByteArray<'local>,
    arg: JByteArray<'local>,
    uuid: JByteArray<'local>,
    flags: jint,
    timeout_ms: jlong,
    completion: JObject<'local>,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        let native = borrow(handle)?;
        let app = required_text(env, &app, "application")?;
        let arg = text(env, &arg, "argument")?;
        let options = ExecuteOptions {
            uuid: text(env, &uuid, "channel UUID")?,
            event_lock: flags & contract::EXECUTE_EVENT_LOCK != 0,
            async_execute: flags & contract::EXECUTE_ASYNC != 0,
            loops: None,
            wait_for_completion: flags & contract::EXECUTE_WAIT != 0,
            timeout: timeout(timeout_ms),
        };
        run_command(env, &completion, async move {
            let execution = native
                .connection()
                .execute(&app, arg.as_deref(), &options)
                .await?;
            let mut batch = BatchWriter::with_capacity(512);
            let id: [(&[u8], &[u8]); 1] = [(b"Event-UUID", execution.event_uuid.as_bytes())];
            batch.push_reply(&execution.reply, &id);
            if let Some(event) = &execution.completion {
                batch.push_event(event);
            }
            Ok(batch.finish())
        })
    })
}

/// `static native byte[] connectionSendMsg(long handle, byte[] uuid, byte[] message, long
/// timeoutMs, Object completion)`: `sendmsg [<uuid>]` built from a one-frame batch (see
/// [`sendmsg_from_frame`]); the batch holds the reply.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionSendMsg<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    uuid: JByteArray<'local>,
    message: JByteArray<'local>,
    timeout_ms: jlong,
    completion: JObject<'local>,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        let native = borrow(handle)?;
        let uuid = text(env, &uuid, "channel UUID")?;
        let frame = decode_single(&bytes(env, &message)?.unwrap_or_default())?;
        let bytes = sendmsg_from_frame(uuid.as_deref(), &frame)
            .encode()
            .map_err(EslError::from)?;
        send_encoded(env, &completion, native, bytes, timeout_ms)
    })
}

/// `static native byte[] connectionSendEvent(long handle, byte[] name, byte[] event, long
/// timeoutMs, Object completion)`: `sendevent <name>` with the headers (sent raw) and body of a
/// one-frame batch; the batch holds the reply.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionSendEvent<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JByteArray<'local>,
    event: JByteArray<'local>,
    timeout_ms: jlong,
    completion: JObject<'local>,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        let native = borrow(handle)?;
        let name = required_text(env, &name, "event name")?;
        let frame = decode_single(&bytes(env, &event)?.unwrap_or_default())?;
        let headers: Vec<(&str, &str)> = frame
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length"))
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let body = (!frame.body.is_empty()).then_some(frame.body.as_slice());
        let bytes = command::sendevent(&name, &headers, body).map_err(EslError::from)?;
        send_encoded(env, &completion, native, bytes, timeout_ms)
    })
}

/// `static native byte[] connectionSubscription(long handle, int command, int format, byte[]
/// first, byte[] second, Object completion)`: the commands that choose what the connection
/// receives, replayed after a reconnect; `command` is a `NativeContract.SUBSCRIPTION_*`,
/// `format` a `FORMAT_*`. `first`/`second`: names / - (`event`, `nixevent`), uuid or null / -
/// (`myevents`), header / value (`filter`), header or null for all / value or null
/// (`filter delete`), level or null for debug / - (`log`). The batch holds the `+OK` reply.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionSubscription<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    which: jint,
    format: jint,
    first: JByteArray<'local>,
    second: JByteArray<'local>,
    completion: JObject<'local>,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        let native = borrow(handle)?;
        let first = text(env, &first, "argument")?;
        let second = text(env, &second, "argument")?;
        let format = event_format(format)?;
        run_command(env, &completion, async move {
            let reply = subscription(native.connection(), which, format, first, second).await?;
            Ok(single_reply(&reply))
        })
    })
}

/// `static native byte[] connectionSession(long handle, int command, int number, Object
/// completion)`: `linger [number]` (no time when negative), `nolinger`, `resume`,
/// `divert_events on|off` (on when non-zero); `command` is a `NativeContract.SESSION_*`. The
/// batch holds the `+OK` reply.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionSession<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    which: jint,
    number: jint,
    completion: JObject<'local>,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        let native = borrow(handle)?;
        run_command(env, &completion, async move {
            let connection = native.connection();
            let reply = match which {
                contract::SESSION_LINGER => connection.linger(u32::try_from(number).ok()).await,
                contract::SESSION_NOLINGER => connection.nolinger().await,
                contract::SESSION_RESUME => connection.resume().await,
                contract::SESSION_DIVERT_EVENTS => connection.divert_events(number != 0).await,
                _ => Err(unknown_command()),
            }?;
            Ok(single_reply(&reply))
        })
    })
}

fn single_reply(reply: &Reply) -> Vec<u8> {
    let mut batch = BatchWriter::with_capacity(256);
    batch.push_reply(reply, &[]);
    batch.finish()
}

/// A command code this library does not know (a newer Java class against an older library is
/// refused at load by the ABI version, so this means a bug).
fn unknown_command() -> EslError {
    EslError::InvalidCommand(esl4j_engine::CommandError::Empty { part: "command" })
}

/// The event format of a `NativeContract.FORMAT_*` code.
fn event_format(code: jint) -> Result<EventFormat, BridgeError> {
    match code {
        contract::FORMAT_PLAIN => Ok(EventFormat::Plain),
        contract::FORMAT_JSON => Ok(EventFormat::Json),
        contract::FORMAT_XML => Ok(EventFormat::Xml),
        other => Err(BridgeError::InvalidArgument(format!(
            "unknown event format code {other}"
        ))),
    }
}

/// The subscription commands, which the engine checks for `+OK` and replays after a reconnect.
async fn subscription(
    connection: &Connection,
    which: jint,
    format: EventFormat,
    first: Option<String>,
    second: Option<String>,
) -> Result<Reply, EslError> {
    let words = |text: &Option<String>| -> Vec<String> {
        text.as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    let names = words(&first);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    match which {
        contract::SUBSCRIPTION_EVENT => connection.subscribe(format, &names).await,
        contract::SUBSCRIPTION_NIXEVENT => connection.unsubscribe(&names).await,
        contract::SUBSCRIPTION_NOEVENTS => connection.noevents().await,
        contract::SUBSCRIPTION_MYEVENTS => connection.myevents(first.as_deref(), format).await,
        contract::SUBSCRIPTION_FILTER => {
            let header = first.ok_or(EslError::InvalidCommand(
                esl4j_engine::CommandError::Empty { part: "header" },
            ))?;
            connection
                .filter(&header, &second.unwrap_or_default())
                .await
        }
        contract::SUBSCRIPTION_FILTER_DELETE => match first {
            Some(header) => connection.filter_delete(&header, second.as_deref()).await,
            None => connection.filter_delete_all().await,
        },
        contract::SUBSCRIPTION_LOG => connection.log(first.as_deref().unwrap_or("debug")).await,
        contract::SUBSCRIPTION_NOLOG => connection.nolog().await,
        _ => Err(unknown_command()),
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

/// `static native byte[] connectionPoll(long handle, int max, long timeoutMs)`: queued items
/// up to `max` and [`POLL_BATCH_BYTES`](contract::POLL_BATCH_BYTES), waiting up to `timeoutMs`
/// for the first; an empty batch on timeout; null once the connection has ended and its queue is
/// drained.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionPoll<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    max: jint,
    timeout_ms: jlong,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| match poll_items(handle, max, timeout_ms)? {
        Some(items) => poll_batch_array(env, &items),
        None => Ok(JByteArray::default()),
    })
}

/// `static native byte[] connectionPollInto(long handle, byte[] into, int max, long timeoutMs)`:
/// the items `connectionPoll` would return, written from the first byte of the caller's `into`
/// when the batch fits in it (returning `into` itself), else in a new array of the batch's exact
/// length; null once the connection has ended and its queue is drained. Lets a poll thread reuse
/// its arrays; it must not touch `into` during the call.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionPollInto<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    into: JByteArray<'local>,
    max: jint,
    timeout_ms: jlong,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| match poll_items(handle, max, timeout_ms)? {
        Some(items) => poll_batch_into(env, &items, into),
        None => Ok(JByteArray::default()),
    })
}

/// Takes queued items up to `max` and about [`POLL_BATCH_BYTES`](contract::POLL_BATCH_BYTES) of
/// frames (a batch written into its Java array and decoded there while it still sits in the CPU
/// cache), waiting up to `timeout_ms` for the first; None once the connection has ended.
fn poll_items(
    handle: jlong,
    max: jint,
    timeout_ms: jlong,
) -> Result<Option<Vec<Incoming>>, BridgeError> {
    let native = borrow(handle)?;
    let max = usize::try_from(max).unwrap_or(1).max(1);
    let wait = std::time::Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0));
    let receive =
        native
            .connection()
            .recv_batch_bytes(max, contract::POLL_BATCH_BYTES as usize, Some(wait));
    unless_ended(runtime::block_on(receive)?)
}

/// The received items, or None when the queue reports the connection's end (every item before
/// it has been taken).
fn unless_ended(
    received: Result<Vec<Incoming>, EslError>,
) -> Result<Option<Vec<Incoming>>, BridgeError> {
    match received {
        Ok(items) => Ok(Some(items)),
        Err(EslError::ConnectionClosed(_)) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// `static native byte[] connectionChannelData(long handle)`: the outbound session's channel
/// data as a one-frame batch, handed over: the engine keeps no copy, so a second call (and any
/// call for an inbound connection) returns null.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionChannelData<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        let native = borrow(handle)?;
        match native.take_channel_data() {
            None => Ok(JByteArray::default()),
            Some(event) => {
                let mut batch = BatchWriter::with_capacity(4096);
                batch.push_event(&event);
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

#[cfg(test)]
mod tests {
    use super::*;
    use esl4j_engine::proto::EventFormat;

    /// The end of the stream is null for Java (both polls), a timeout an empty batch, any other
    /// failure an exception.
    #[test]
    fn a_poll_ends_only_at_the_connection_end() {
        let closed = unless_ended(Err(EslError::ConnectionClosed("gone".into())));
        assert!(matches!(closed, Ok(None)));
        assert!(matches!(unless_ended(Ok(Vec::new())), Ok(Some(items)) if items.is_empty()));
        let event = Event::from_pairs([("Event-Name", "HEARTBEAT")], None, EventFormat::Plain);
        let received = unless_ended(Ok(vec![Incoming::Event(event)]));
        assert!(matches!(received, Ok(Some(items)) if items.len() == 1));
        let failed = unless_ended(Err(EslError::Protocol(
            esl4j_engine::ProtocolError::InvalidContentLength,
        )));
        assert!(failed.is_err());
    }
}
