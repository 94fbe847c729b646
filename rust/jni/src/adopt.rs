//! `Native.connectionAdoptDescriptor`: an outbound session on a socket the application
//! accepted itself and hands over by its descriptor (`ESLconnection(int fd)`, libesl's
//! `esl_attach_handle`). The engine works on a duplicate, so the caller may close its own.

use std::time::Duration;

use esl4j_engine::Session;
use jni::objects::JClass;
use jni::sys::{jboolean, jint, jlong};
use jni::JNIEnv;

use crate::connection::{connection_config, session_handle};
use crate::convert::timeout;
use crate::error::{ffi_call, BridgeError};
use crate::runtime;

/// `connect` reply deadline when Java passes none, as the outbound listener's.
const DEFAULT_HANDSHAKE: Duration = Duration::from_secs(5);

/// `static native long connectionAdoptDescriptor(int fd, long handshakeTimeoutMs,
/// long commandTimeoutMs, int queueCapacity, boolean blockOnOverflow, long spillMaxEvents,
/// long spillMaxBytes)`: duplicates `fd`, sends
/// `connect` on the duplicate and returns the session's connection handle, blocking the calling
/// Java thread up to the handshake deadline.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_connectionAdoptDescriptor<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    fd: jint,
    handshake_timeout_ms: jlong,
    command_timeout_ms: jlong,
    queue_capacity: jint,
    block_on_overflow: jboolean,
    spill_max_events: jlong,
    spill_max_bytes: jlong,
) -> jlong {
    ffi_call(&mut env, |_| {
        let socket = duplicate(fd)?;
        let config = connection_config(
            command_timeout_ms,
            queue_capacity,
            block_on_overflow,
            spill_max_events,
            spill_max_bytes,
        );
        let deadline = timeout(handshake_timeout_ms).unwrap_or(DEFAULT_HANDSHAKE);
        let session = runtime::block_on(Session::adopt(socket, config, deadline))??;
        Ok(session_handle(session))
    })
}

/// A duplicate of the caller's descriptor, checked to be a connected TCP socket.
#[cfg(unix)]
fn duplicate(fd: jint) -> Result<std::net::TcpStream, BridgeError> {
    use std::os::fd::BorrowedFd;

    if fd < 0 {
        return Err(BridgeError::InvalidArgument(format!(
            "{fd} is not a file descriptor"
        )));
    }
    // SAFETY: `fd` is not -1 and is borrowed only for the `dup` below, which the kernel checks:
    // a closed descriptor fails with EBADF, and the duplicate is owned by us alone.
    let owned = unsafe { BorrowedFd::borrow_raw(fd) }
        .try_clone_to_owned()
        .map_err(|error| {
            BridgeError::InvalidArgument(format!("descriptor {fd} cannot be duplicated: {error}"))
        })?;
    let socket = std::net::TcpStream::from(owned);
    // Only a connected TCP socket has a peer address (a file, a pipe or a Unix socket fails).
    socket.peer_addr().map_err(|error| {
        BridgeError::InvalidArgument(format!(
            "descriptor {fd} is not a connected TCP socket: {error}"
        ))
    })?;
    Ok(socket)
}

#[cfg(not(unix))]
fn duplicate(fd: jint) -> Result<std::net::TcpStream, BridgeError> {
    Err(BridgeError::InvalidState(format!(
        "adopting descriptor {fd} needs a Unix system; accept outbound calls with ESLserver or EslOutboundServer"
    )))
}
