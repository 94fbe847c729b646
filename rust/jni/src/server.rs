//! `Native.server*`: the listener for FreeSWITCH's outbound `socket` connections.
//!
//! A Java acceptor thread calls `serverAccept` (blocking it, never a runtime thread, for at
//! most its timeout); each accepted session becomes a connection handle (see `connection.rs`)
//! whose channel data came from the `connect` handshake. The Java server routes every
//! session's items to one shared poll (`serverRoute`, `serverPoll`), so it needs one reader
//! thread in all instead of one per session.

use std::sync::Arc;
use std::time::Duration;

use esl4j_engine::{EslError, Server, ServerConfig};
use jni::objects::{JByteArray, JClass, JLongArray};
use jni::sys::{jboolean, jint, jlong};
use jni::JNIEnv;

use crate::codec::poll_batch_array;
use crate::connection::{connection_config, positive, session_handle, NativeConnection};
use crate::convert::{required_text, timeout};
use crate::error::{ffi_call, BridgeError};
use crate::{handle, runtime};

fn borrow(handle: jlong) -> Result<Arc<Server>, BridgeError> {
    // SAFETY: Java's NativeServer passes only handles made by `into_handle::<Server>` below,
    // under a lease that keeps them from being destroyed during this call.
    unsafe { handle::borrow::<Server>(handle) }
}

/// `static native long serverBind(byte[] address, int maxSessions, int maxHandshakes,
/// long handshakeTimeoutMs, int listenBacklog, long commandTimeoutMs, int queueCapacity,
/// boolean blockOnOverflow, long spillMaxEvents, long spillMaxBytes)`; 0 (or less) for a count
/// or deadline keeps the engine's default.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_serverBind<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    address: JByteArray<'local>,
    max_sessions: jint,
    max_handshakes: jint,
    handshake_timeout_ms: jlong,
    listen_backlog: jint,
    command_timeout_ms: jlong,
    queue_capacity: jint,
    block_on_overflow: jboolean,
    spill_max_events: jlong,
    spill_max_bytes: jlong,
) -> jlong {
    ffi_call(&mut env, |env| {
        let mut config = ServerConfig::new(required_text(env, &address, "address")?);
        if let Some(max) = positive(max_sessions) {
            config.max_sessions = max;
        }
        if let Some(max) = positive(max_handshakes) {
            config.max_handshakes = max;
        }
        if let Some(backlog) = positive(listen_backlog) {
            config.listen_backlog = u32::try_from(backlog).unwrap_or(u32::MAX);
        }
        if let Some(timeout) = timeout(handshake_timeout_ms) {
            config.handshake_timeout = timeout;
        }
        config.connection = connection_config(
            command_timeout_ms,
            queue_capacity,
            block_on_overflow,
            spill_max_events,
            spill_max_bytes,
        );
        let server = runtime::block_on(Server::bind(config))??;
        Ok(handle::into_handle(Arc::new(server)))
    })
}

/// `static native int serverPort(long handle)`: the bound port (useful after binding port 0).
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_serverPort<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jint {
    ffi_call(&mut env, |_| {
        Ok(jint::from(borrow(handle)?.local_addr().port()))
    })
}

/// `static native long serverAccept(long handle, long timeoutMs)`: the next session's
/// connection handle, or 0 when none arrived in time.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_serverAccept<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    timeout_ms: jlong,
) -> jlong {
    ffi_call(&mut env, |_| {
        let server = borrow(handle)?;
        let wait = Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0));
        let accepted: Result<_, EslError> = runtime::block_on(server.accept_timeout(wait))?;
        Ok(accepted?.map_or(0, session_handle))
    })
}

/// `static native void serverRoute(long handle, long session, long key)`: from now on the
/// session's items (a connection handle from `serverAccept`) go to `serverPoll`, tagged `key`.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_serverRoute<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    session: jlong,
    key: jlong,
) {
    ffi_call(&mut env, |_| {
        let server = borrow(handle)?;
        // SAFETY: Java's NativeServer passes the handle of a NativeConnection it holds a
        // lease on, made by `session_handle` (an `into_handle::<NativeConnection>`).
        let native = unsafe { handle::borrow::<NativeConnection>(session) }?;
        let NativeConnection::Outbound { connection, .. } = &*native else {
            return Err(BridgeError::InvalidArgument(
                "only outbound sessions can be routed".into(),
            ));
        };
        let _in_runtime = runtime::get()?.enter();
        server.route(connection, key as u64);
        Ok(())
    })
}

/// `static native byte[] serverPoll(long handle, long[] route, long timeoutMs)`: the next
/// items of any routed session as a batch (as `connectionPoll` returns them), with `route[0]`
/// = its key and `route[1]` = 1 once it has ended (the batch then holds its last items, if
/// any); null when nothing arrived within the timeout.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_serverPoll<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    route: JLongArray<'local>,
    timeout_ms: jlong,
) -> JByteArray<'local> {
    ffi_call(&mut env, |env| {
        let server = borrow(handle)?;
        let wait = Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0));
        let Some(routed) = runtime::block_on(server.recv_routed(wait))? else {
            return Ok(JByteArray::default());
        };
        env.set_long_array_region(&route, 0, &[routed.key as jlong, jlong::from(routed.ended)])?;
        poll_batch_array(env, &routed.items)
    })
}

/// `static native long[] serverStats(long handle)`: sessions, rejectedOverCap,
/// handshakeFailures, active. Keep in sync with `NativeServer.Stats`.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_serverStats<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JLongArray<'local> {
    ffi_call(&mut env, |env| {
        let server = borrow(handle)?;
        let stats = server.stats();
        let values = [
            stats.sessions as jlong,
            stats.rejected_over_cap as jlong,
            stats.handshake_failures as jlong,
            server.active_sessions() as jlong,
        ];
        let array = env.new_long_array(values.len() as i32)?;
        env.set_long_array_region(&array, 0, &values)?;
        Ok(array)
    })
}

/// `static native void serverShutdown(long handle, long drainMs)`: stops accepting and waits
/// up to `drainMs` for sessions to end, blocking the calling Java thread.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_serverShutdown<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    drain_ms: jlong,
) {
    ffi_call(&mut env, |_| {
        let server = borrow(handle)?;
        let drain = Duration::from_millis(u64::try_from(drain_ms).unwrap_or(0));
        runtime::block_on(server.shutdown(drain))?;
        Ok(())
    })
}

/// `static native void serverDestroy(long handle)`.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_serverDestroy<'local>(
    _env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    // SAFETY: NativeHandle calls destroy exactly once, after the last lease, with a handle
    // from `into_handle::<Server>`.
    unsafe { handle::destroy::<Server>(handle) }
}
