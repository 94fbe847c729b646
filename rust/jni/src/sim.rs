//! `NativeSimulator.sim*`: the FreeSWITCH simulator (`esl4j-sim`) for Java tests, behind
//! `org.esl4j.testing.internal.NativeSimulator` and the test kit `org.esl4j.testing`. Built only
//! with the cargo feature `sim` (the esl4j-test artifact's library); the esl4j library has none.
//!
//! The simulator runs on the shared runtime; every export blocks the calling Java thread (never
//! a runtime thread) for at most its own deadline. Text crosses as UTF-8 `byte[]`; lists and
//! events cross as one frame of the batch layout (`codec.rs`), so no separator can be injected.

use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use esl4j_engine::EslError;
use esl4j_sim::{Behavior, ClockMode, EslUser, Event, FloodSpec, SimConfig, Simulator};
use jni::objects::{JByteArray, JClass, JObjectArray};
use jni::sys::{jboolean, jint, jlong, JNI_FALSE, JNI_TRUE};
use jni::JNIEnv;

use crate::codec::{decode_single, BatchWriter, OwnedFrame};
use crate::contract::KIND_REPLY;
use crate::convert::{bytes, required_text, text, timeout};
use crate::error::{ffi_call, BridgeError};
use crate::{handle, runtime};

/// A simulator owned by a Java `NativeSimulator`. `None` once shut down: `Simulator::shutdown`
/// consumes it, and the write lock waits for calls still running (each is bounded).
struct SimHandle {
    simulator: RwLock<Option<Simulator>>,
}

impl SimHandle {
    fn running(&self) -> Result<RwLockReadGuard<'_, Option<Simulator>>, BridgeError> {
        let guard = self
            .simulator
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.is_none() {
            return Err(BridgeError::InvalidState("the simulator is closed".into()));
        }
        Ok(guard)
    }
}

/// Runs `body` on the running simulator behind `handle`.
fn with_sim<R>(
    handle: jlong,
    body: impl FnOnce(&Simulator) -> Result<R, BridgeError>,
) -> Result<R, BridgeError> {
    // SAFETY: Java's NativeSimulator passes only handles made by `into_handle::<SimHandle>`
    // below, under a lease that keeps them from being destroyed during this call.
    let owner = unsafe { handle::borrow::<SimHandle>(handle) }?;
    let guard = owner.running()?;
    let simulator = guard
        .as_ref()
        .ok_or_else(|| BridgeError::InvalidState("the simulator is closed".into()))?;
    body(simulator)
}

/// Endpoint behaviours. Keep in sync with `NativeSimulator.BEHAVIOR_*`.
mod behavior {
    pub(super) const ANSWER_AFTER: i32 = 0;
    pub(super) const NEVER_ANSWER: i32 = 1;
    pub(super) const EARLY_MEDIA_NEVER_ANSWER: i32 = 2;
    pub(super) const EARLY_MEDIA_THEN_ANSWER: i32 = 3;
    pub(super) const BUSY: i32 = 4;
    pub(super) const REJECT: i32 = 5;
}

fn behavior_of(
    kind: jint,
    delay_ms: jlong,
    cause: Option<String>,
) -> Result<Behavior, BridgeError> {
    let delay = Duration::from_millis(u64::try_from(delay_ms).unwrap_or(0));
    Ok(match kind {
        behavior::ANSWER_AFTER => Behavior::AnswerAfter(delay),
        behavior::NEVER_ANSWER => Behavior::NeverAnswer,
        behavior::EARLY_MEDIA_NEVER_ANSWER => Behavior::EarlyMediaNeverAnswer,
        behavior::EARLY_MEDIA_THEN_ANSWER => Behavior::EarlyMediaThenAnswer(delay),
        behavior::BUSY => Behavior::Busy,
        behavior::REJECT => Behavior::Reject(
            cause.ok_or_else(|| BridgeError::InvalidArgument("reject needs a cause".into()))?,
        ),
        other => {
            return Err(BridgeError::InvalidArgument(format!(
                "unknown endpoint behaviour {other}"
            )))
        }
    })
}

/// The header of each line in `simCommands`' frame. Keep in sync with `NativeSimulator`.
const COMMAND_HEADER: &str = "Command";

/// A frame Java encoded with `FrameCodec.encodeSingle`; null is an error.
fn required_frame(
    env: &JNIEnv<'_>,
    array: &JByteArray<'_>,
    what: &str,
) -> Result<OwnedFrame, BridgeError> {
    let raw = bytes(env, array)?
        .ok_or_else(|| BridgeError::InvalidArgument(format!("{what} is null")))?;
    decode_single(&raw)
}

/// The simulator event of a Java frame: `Event-Name` names it, the other headers follow in
/// order, a non-empty body is kept.
fn sim_event(frame: OwnedFrame) -> Result<Event, BridgeError> {
    let name = frame
        .header("Event-Name")
        .ok_or_else(|| BridgeError::InvalidArgument("the event has no Event-Name".into()))?;
    let mut event = Event::named(name);
    for (header, value) in frame
        .headers
        .iter()
        .filter(|(header, _)| !header.eq_ignore_ascii_case("Event-Name"))
    {
        event.add(header, value.clone());
    }
    if !frame.body.is_empty() {
        let body = String::from_utf8(frame.body)
            .map_err(|_| BridgeError::InvalidArgument("the event body is not UTF-8".into()))?;
        event.set_body(body);
    }
    Ok(event)
}

/// `static native long simStart(int port, byte[] password, boolean virtualClock,
/// long heartbeatMs)`: binds 127.0.0.1:`port` (0: a free port). A null password means
/// `ClueCon`; a zero or negative heartbeat disables HEARTBEAT events.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simStart<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    port: jint,
    password: JByteArray<'local>,
    virtual_clock: jboolean,
    heartbeat_ms: jlong,
) -> jlong {
    ffi_call(&mut env, |env| {
        let port = u16::try_from(port)
            .map_err(|_| BridgeError::InvalidArgument(format!("port {port} out of range")))?;
        let defaults = SimConfig::default();
        let config = SimConfig {
            port,
            password: text(env, &password, "password")?.unwrap_or(defaults.password.clone()),
            clock: if virtual_clock == JNI_TRUE {
                ClockMode::Virtual
            } else {
                ClockMode::Real
            },
            heartbeat: timeout(heartbeat_ms),
            ..defaults
        };
        let simulator = runtime::block_on(Simulator::start(config))??;
        Ok(handle::into_handle(Arc::new(SimHandle {
            simulator: RwLock::new(Some(simulator)),
        })))
    })
}

/// `static native int simPort(long handle)`.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simPort<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jint {
    ffi_call(&mut env, |_| {
        with_sim(handle, |sim| Ok(jint::from(sim.port())))
    })
}

/// `static native void simSetEndpoint(long handle, byte[] name, int behavior, long delayMs,
/// byte[] cause)`: scripts a dialable endpoint such as `user/1000`.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simSetEndpoint<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JByteArray<'local>,
    behavior: jint,
    delay_ms: jlong,
    cause: JByteArray<'local>,
) {
    ffi_call(&mut env, |env| {
        let name = required_text(env, &name, "endpoint")?;
        let behavior = behavior_of(behavior, delay_ms, text(env, &cause, "cause")?)?;
        with_sim(handle, |sim| {
            sim.set_endpoint(&name, behavior);
            Ok(())
        })
    })
}

/// `static native void simSetRoute(long handle, byte[] extension, byte[] apps)`: the
/// extension's dialplan, one frame whose headers are `application: argument` in order.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simSetRoute<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    extension: JByteArray<'local>,
    apps: JByteArray<'local>,
) {
    ffi_call(&mut env, |env| {
        let extension = required_text(env, &extension, "extension")?;
        let apps = required_frame(env, &apps, "applications")?;
        let apps: Vec<(&str, &str)> = apps
            .headers
            .iter()
            .map(|(app, arg)| (app.as_str(), arg.as_str()))
            .collect();
        with_sim(handle, |sim| {
            sim.set_route(&extension, &apps);
            Ok(())
        })
    })
}

/// `static native void simRouteToSocket(long handle, byte[] extension, byte[] target)`: routes
/// an extension to an outbound server (`host:port [async] [full]`).
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simRouteToSocket<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    extension: JByteArray<'local>,
    target: JByteArray<'local>,
) {
    ffi_call(&mut env, |env| {
        let extension = required_text(env, &extension, "extension")?;
        let target = required_text(env, &target, "socket target")?;
        with_sim(handle, |sim| {
            sim.route_to_socket(&extension, &target);
            Ok(())
        })
    })
}

/// `static native byte[] simCommands(long handle)`: every command line received (the most
/// recent 10 000), as one frame with a `Command` header per line.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simCommands<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        let commands = with_sim(handle, |sim| Ok(sim.commands()))?;
        let mut batch = BatchWriter::with_capacity(commands.iter().map(|c| c.len() + 16).sum());
        // The answer to this call, read as one frame: a reply.
        batch.push(
            KIND_REPLY,
            commands
                .iter()
                .map(|line| (COMMAND_HEADER.as_bytes(), line.as_bytes())),
            b"",
        );
        Ok(env.byte_array_from_slice(&batch.finish())?)
    })
}

/// `static native boolean simWaitForCommands(long handle, long count, long timeoutMs)`: true
/// once `count` commands were received in total, false after the timeout.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simWaitForCommands<
    'local,
>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    count: jlong,
    timeout_ms: jlong,
) -> jboolean {
    ffi_call(&mut env, |_| {
        let count = u64::try_from(count).unwrap_or(0);
        let wait = Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0));
        let reached = with_sim(handle, |sim| {
            runtime::block_on(sim.wait_for_commands(count, wait))
        })?;
        Ok(if reached { JNI_TRUE } else { JNI_FALSE })
    })
}

/// The directory user of a Java frame: headers `user`, `domain`, `esl-password`, and optionally
/// `esl-allowed-events`, `esl-allowed-api`, `esl-allowed-log` (the directory param names).
fn esl_user(frame: &OwnedFrame) -> Result<EslUser, BridgeError> {
    let required = |name: &str| {
        frame
            .header(name)
            .map(str::to_string)
            .ok_or_else(|| BridgeError::InvalidArgument(format!("the user has no {name}")))
    };
    Ok(EslUser {
        allowed_events: frame.header("esl-allowed-events").map(str::to_string),
        allowed_api: frame.header("esl-allowed-api").map(str::to_string),
        allowed_log: frame
            .header("esl-allowed-log")
            .map_or(true, |v| v.eq_ignore_ascii_case("true")),
        ..EslUser::new(
            &required("user")?,
            &required("domain")?,
            &required("esl-password")?,
        )
    })
}

/// `static native void simAddUser(long handle, byte[] user)`: registers a directory user for
/// `userauth` (one frame, see `esl_user`).
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simAddUser<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    user: JByteArray<'local>,
) {
    ffi_call(&mut env, |env| {
        let user = esl_user(&required_frame(env, &user, "user")?)?;
        with_sim(handle, |sim| {
            sim.add_user(user);
            Ok(())
        })
    })
}

/// `static native void simRejectInbound(long handle, boolean reject)`: inbound connections
/// accepted from now on get `text/rude-rejection` and are closed, like a denying ACL.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simRejectInbound<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    reject: jboolean,
) {
    ffi_call(&mut env, |_| {
        with_sim(handle, |sim| {
            sim.reject_inbound(reject == JNI_TRUE);
            Ok(())
        })
    })
}

/// `static native byte[] simApi(long handle, byte[] command, long timeoutMs)`: runs an API
/// command against the simulator's state without a connection and returns its output (UTF-8);
/// an `originate` returns when it ends. TIMEOUT after `timeoutMs` (zero or negative: no limit).
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simApi<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    command: JByteArray<'local>,
    timeout_ms: jlong,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        let command = required_text(env, &command, "command")?;
        if command.contains(['\r', '\n']) {
            return Err(BridgeError::InvalidArgument(
                "the API command contains a line break".into(),
            ));
        }
        let output = with_sim(handle, |sim| match timeout(timeout_ms) {
            // the timer is made inside the runtime: `timeout` needs its context when created
            Some(limit) => {
                runtime::block_on(async { tokio::time::timeout(limit, sim.api(&command)).await })?
                    .map_err(|_| {
                        BridgeError::Engine(EslError::Timeout {
                            what: "simulator api",
                            after: limit,
                        })
                    })
            }
            None => runtime::block_on(sim.api(&command)),
        })?;
        Ok(env.byte_array_from_slice(output.as_bytes())?)
    })
}

/// `static native int simChannelCount(long handle)`: live channels.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simChannelCount<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jint {
    ffi_call(&mut env, |_| {
        with_sim(handle, |sim| {
            Ok(jint::try_from(sim.channel_count()).unwrap_or(jint::MAX))
        })
    })
}

/// `static native void simFireEvents(long handle, byte[][] events)`: fires every event, in
/// order, to subscribed connections (each one frame with `Event-Name` and the other headers,
/// body optional) and returns once all are written to their sockets.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simFireEvents<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    events: JObjectArray<'local>,
) {
    ffi_call(&mut env, |env| {
        if events.is_null() {
            return Err(BridgeError::InvalidArgument("events is null".into()));
        }
        let count = env.get_array_length(&events)?;
        let mut decoded = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        for index in 0..count {
            let event = JByteArray::from(env.get_object_array_element(&events, index)?);
            decoded.push(sim_event(required_frame(env, &event, "an event")?)?);
            // Frees the local reference now: a large array would otherwise fill the local frame.
            env.delete_local_ref(event)?;
        }
        with_sim(handle, |sim| {
            runtime::block_on(sim.fire_events(&decoded))?;
            Ok(())
        })
    })
}

/// `static native void simAdvance(long handle, long millis)`: virtual clock only; fires every
/// timer due and returns once the resulting frames are written.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simAdvance<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    millis: jlong,
) {
    ffi_call(&mut env, |_| {
        let by = Duration::from_millis(u64::try_from(millis).unwrap_or(0));
        with_sim(handle, |sim| {
            runtime::block_on(sim.advance(by))?;
            Ok(())
        })
    })
}

/// `static native long simFlood(long handle, byte[] corpus, long events, long durationMs,
/// int rate)`: streams the corpus's event frames to every subscribed connection; zero or
/// negative limits mean "none" (at least one of `events` and `durationMs` must be set).
/// Returns the events sent per connection.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simFlood<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    corpus: JByteArray<'local>,
    events: jlong,
    duration_ms: jlong,
    rate: jint,
) -> jlong {
    ffi_call(&mut env, |env| {
        let corpus = bytes(env, &corpus)?
            .ok_or_else(|| BridgeError::InvalidArgument("corpus is null".into()))?;
        let spec = FloodSpec {
            events: u64::try_from(events).ok().filter(|&n| n > 0),
            duration: timeout(duration_ms),
            rate: u32::try_from(rate).ok().filter(|&r| r > 0),
        };
        if spec.events.is_none() && spec.duration.is_none() {
            return Err(BridgeError::InvalidArgument(
                "a flood needs an event count or a duration".into(),
            ));
        }
        let sent = with_sim(handle, |sim| {
            runtime::block_on(sim.flood(&corpus, spec))?.map_err(|error| match error.kind() {
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
                    BridgeError::InvalidArgument(format!("flood corpus: {error}"))
                }
                _ => BridgeError::Io(error),
            })
        })?;
        Ok(jlong::try_from(sent).unwrap_or(jlong::MAX))
    })
}

/// `static native void simShutdown(long handle)`: stops listening and closes every connection.
/// Idempotent; the handle stays valid until `simDestroy`.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simShutdown<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    ffi_call(&mut env, |_| {
        // SAFETY: as in `with_sim`.
        let owner = unsafe { handle::borrow::<SimHandle>(handle) }?;
        let taken = owner
            .simulator
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(simulator) = taken {
            runtime::block_on(simulator.shutdown())?;
        }
        Ok(())
    })
}

/// `static native void simDestroy(long handle)`.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_testing_internal_NativeSimulator_simDestroy<'local>(
    _env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    // SAFETY: NativeHandle calls destroy exactly once, after the last lease, with a handle
    // from `into_handle::<SimHandle>`.
    unsafe { handle::destroy::<SimHandle>(handle) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviours_map_from_java_codes() {
        assert_eq!(
            behavior_of(behavior::ANSWER_AFTER, 1500, None).expect("valid"),
            Behavior::AnswerAfter(Duration::from_millis(1500))
        );
        assert_eq!(
            behavior_of(behavior::REJECT, 0, Some("CALL_REJECTED".into())).expect("valid"),
            Behavior::Reject("CALL_REJECTED".into())
        );
        assert_eq!(
            behavior_of(behavior::REJECT, 0, None)
                .expect_err("no cause")
                .kind(),
            "INVALID_COMMAND"
        );
        assert!(behavior_of(42, 0, None).is_err());
    }

    #[test]
    fn java_frames_become_directory_users() {
        let frame = OwnedFrame {
            headers: vec![
                ("user".into(), "1000".into()),
                ("domain".into(), "example.com".into()),
                ("esl-password".into(), "secret".into()),
                ("esl-allowed-api".into(), "status".into()),
                ("esl-allowed-log".into(), "false".into()),
            ],
            body: Vec::new(),
        };
        let user = esl_user(&frame).expect("valid");
        assert_eq!(
            user,
            EslUser {
                allowed_api: Some("status".into()),
                allowed_log: false,
                ..EslUser::new("1000", "example.com", "secret")
            }
        );
        let nameless = OwnedFrame {
            headers: vec![("domain".into(), "example.com".into())],
            body: Vec::new(),
        };
        assert_eq!(
            esl_user(&nameless).expect_err("no user").kind(),
            "INVALID_COMMAND"
        );
    }

    #[test]
    fn java_frames_become_simulator_events() {
        let frame = OwnedFrame {
            headers: vec![
                ("Event-Name".into(), "CUSTOM".into()),
                ("Event-Subclass".into(), "test::ping".into()),
                ("X-Note".into(), "a: b".into()),
            ],
            body: b"hello".to_vec(),
        };
        let event = sim_event(frame).expect("valid");
        assert_eq!(event.name(), "CUSTOM");
        assert_eq!(event.get("Event-Subclass"), Some("test::ping"));
        assert_eq!(event.get("X-Note"), Some("a: b"));
        assert_eq!(event.body(), Some("hello"));
        let nameless = OwnedFrame {
            headers: vec![("X".into(), "y".into())],
            body: Vec::new(),
        };
        assert_eq!(
            sim_event(nameless).expect_err("no name").kind(),
            "INVALID_COMMAND"
        );
    }
}
