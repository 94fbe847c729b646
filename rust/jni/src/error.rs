//! Every failure that can cross into Java, and the one place that turns it into a Java exception.
//!
//! Java builds the exception itself (`NativeCallbacks.newException(kind, message)`), so the
//! exception hierarchy lives in one language. A Rust panic becomes an `IllegalStateException`,
//! never an abort: a PBX integration must not lose its JVM.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use jni::JNIEnv;

use esl4j_engine::{ErrorKind, EslError};

use crate::callbacks;

/// Errors of the JNI layer. `kind()` names a constant of the Java `EslException.Kind` enum.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BridgeError {
    /// The engine reported a failure.
    #[error(transparent)]
    Engine(#[from] EslError),
    /// A JNI call failed; usually a Java exception is already pending.
    #[error("JNI call failed: {0}")]
    Jni(#[from] jni::errors::Error),
    /// The runtime or a socket could not be set up.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Java passed something the engine cannot accept (CR/LF in a command line, bad UTF-8, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The call is not allowed in the current state (e.g. blocking on a runtime thread).
    #[error("{0}")]
    InvalidState(String),
    /// A Rust panic caught at the boundary.
    #[error("esl4j native panic: {0}")]
    Panic(String),
}

impl BridgeError {
    /// The Java `EslException.Kind` name. Keep in sync with `EslException.Kind` and with
    /// `NativeCallbacks.newException`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            BridgeError::Engine(error) => engine_kind(error.kind()),
            BridgeError::Io(_) => "IO",
            BridgeError::InvalidArgument(_) => "INVALID_COMMAND",
            BridgeError::InvalidState(_) => "INVALID_STATE",
            BridgeError::Jni(_) | BridgeError::Panic(_) => "INTERNAL",
        }
    }
}

/// The Java `EslException.Kind` name of an engine error kind.
pub(crate) fn engine_kind(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Io => "IO",
        ErrorKind::Refused => "REFUSED",
        ErrorKind::Timeout => "TIMEOUT",
        ErrorKind::Auth => "AUTH",
        ErrorKind::Rejected => "REJECTED",
        ErrorKind::ConnectionClosed => "CONNECTION_CLOSED",
        ErrorKind::Protocol => "PROTOCOL",
        ErrorKind::InvalidCommand => "INVALID_COMMAND",
        ErrorKind::CommandFailed => "COMMAND_FAILED",
        ErrorKind::Overloaded => "OVERLOADED",
    }
}

/// Runs the body of a native method: `Err` and panics become a pending Java exception and the
/// method returns `R::default()` (0, false or null), which Java never sees because it throws.
pub(crate) fn ffi_call<'local, R: Default>(
    env: &mut JNIEnv<'local>,
    body: impl FnOnce(&mut JNIEnv<'local>) -> Result<R, BridgeError>,
) -> R {
    let outcome = catch_unwind(AssertUnwindSafe(|| body(&mut *env)));
    let error = match outcome {
        Ok(Ok(value)) => return value,
        Ok(Err(error)) => error,
        Err(payload) => {
            let error = BridgeError::Panic(panic_message(payload.as_ref()));
            tracing::error!(target: "esl4j::jni", "{error}");
            error
        }
    };
    throw(env, &error);
    R::default()
}

/// Makes `error` the pending Java exception, unless one is already pending (a failed JNI call
/// keeps the Java exception that caused it).
pub(crate) fn throw(env: &mut JNIEnv<'_>, error: &BridgeError) {
    if env.exception_check().unwrap_or(false) {
        return;
    }
    let thrown = callbacks::new_exception(env, error.kind(), &error.to_string())
        .and_then(|exception| env.throw(exception));
    if thrown.is_err() && !env.exception_check().unwrap_or(false) {
        // Last resort, as libsignal does: a future must never be left without an outcome.
        let _ = env.throw_new("java/lang/AssertionError", error.to_string());
    }
}

/// The text of a panic payload (`&str` or `String`; anything else is described generically).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_reads_str_and_string_payloads() {
        let str_payload = catch_unwind(|| panic!("static text")).expect_err("must panic");
        assert_eq!(panic_message(str_payload.as_ref()), "static text");
        let value = 7;
        let string_payload = catch_unwind(|| panic!("formatted {value}")).expect_err("must panic");
        assert_eq!(panic_message(string_payload.as_ref()), "formatted 7");
        let other_payload = catch_unwind(|| std::panic::panic_any(42u8)).expect_err("must panic");
        assert_eq!(
            panic_message(other_payload.as_ref()),
            "panic with a non-string payload"
        );
    }

    #[test]
    fn every_error_names_a_java_kind() {
        let errors = [
            BridgeError::Io(std::io::Error::other("x")),
            BridgeError::InvalidArgument("x".into()),
            BridgeError::InvalidState("x".into()),
            BridgeError::Panic("x".into()),
        ];
        let kinds: Vec<&str> = errors.iter().map(BridgeError::kind).collect();
        assert_eq!(
            kinds,
            ["IO", "INVALID_COMMAND", "INVALID_STATE", "INTERNAL"]
        );
        let engine = BridgeError::from(EslError::Auth("-ERR invalid".into()));
        assert_eq!(engine.kind(), "AUTH");
        assert_eq!(engine.to_string(), "authentication failed: -ERR invalid");
    }
}
