//! esl4j JNI glue: the only crate with `unsafe` code and `Java_*` exports.
//!
//! # Layout
//! - `runtime`: the one tokio runtime of the process.
//! - `handle`: `Arc<T>` <-> `jlong` handles owned by Java `NativeHandle`s.
//! - `error`: `BridgeError`, and `ffi_call`, which turns errors and panics into Java exceptions.
//! - `callbacks`: classes and method ids cached on a Java thread; completing Java futures.
//! - `logging`: `tracing` -> `NativeLog` (slf4j or java.util.logging).
//! - `codec`: the batch byte layout frames use to cross into Java.
//! - `contract`: the constants Rust and Java share, and the tests that fail when they drift.
//! - `convert`: Java arguments (UTF-8 `byte[]`, millisecond timeouts) to Rust values.
//! - `connection`: `Native.connection*`, inbound clients and outbound sessions.
//! - `server`: `Native.server*`, the outbound listener.
//! - `sim` (feature `sim` only): `NativeSimulator.sim*`, the FreeSWITCH simulator for the test
//!   kit; the library shipped in the esl4j jar has no simulator.
//! - `testing` (feature `testing` only): exports the Java tests use to reach error paths that
//!   production inputs cannot, e.g. a panic.
//!
//! Every export is a static native method of `org.esl4j.internal.Native`.
// `#[no_mangle]` exports and JNI calls are unsafe by nature; this crate is where they live.
#![allow(unsafe_code)]
#![deny(clippy::unwrap_used)]

mod adopt;
mod callbacks;
mod codec;
mod connection;
mod contract;
mod convert;
mod error;
mod handle;
mod logging;
mod runtime;
mod server;
#[cfg(feature = "sim")]
mod sim;
#[cfg(feature = "testing")]
mod testing;

use jni::objects::{JClass, JString};
use jni::sys::jint;
use jni::JNIEnv;

use crate::error::ffi_call;

/// `static native int abiVersion()`: lets the loader reject a stale library before any other
/// call.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_abiVersion(
    _env: JNIEnv<'_>,
    _class: JClass<'_>,
) -> jint {
    contract::ABI_VERSION
}

/// `static native String nativeVersion()`: the crate version, for error messages.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_nativeVersion<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> JString<'local> {
    ffi_call(&mut env, |env| {
        Ok(env.new_string(env!("CARGO_PKG_VERSION"))?)
    })
}

/// `static native void init(int workers, int logLevel)`: caches Java classes (we are on a Java
/// thread with the application's class loader), installs log forwarding, starts the runtime.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_init(
    mut env: JNIEnv<'_>,
    _class: JClass<'_>,
    workers: jint,
    log_level: jint,
) {
    ffi_call(&mut env, |env| {
        callbacks::init(env)?;
        logging::init(log_level);
        runtime::init(usize::try_from(workers).unwrap_or(0))?;
        Ok(())
    })
}

/// `static native void setLogLevel(int level)`: 0 = off ... 5 = trace.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_Native_setLogLevel(
    _env: JNIEnv<'_>,
    _class: JClass<'_>,
    level: jint,
) {
    logging::set_max_level(level);
}
