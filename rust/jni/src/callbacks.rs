//! Java classes and methods that Rust calls, looked up once on a Java thread, and the helpers
//! that call them from runtime threads.
//!
//! Lookups happen in `Native.init()` (a Java thread with the application's class loader):
//! `FindClass` on a runtime thread would only see the system class loader and fail in app
//! servers and fat jars. Keep the names and signatures in sync with `NativeCallbacks.java` and
//! `NativeLog.java`.

use jni::objects::{GlobalRef, JClass, JObject, JStaticMethodID, JThrowable, JValueOwned};
use jni::signature::{Primitive, ReturnType};
use jni::sys::jvalue;
use jni::{JNIEnv, JavaVM};
use once_cell::sync::OnceCell;

const CALLBACKS_CLASS: &str = "org/esl4j/internal/NativeCallbacks";
const LOG_CLASS: &str = "org/esl4j/internal/NativeLog";

/// Local references a callback may create before its frame is popped.
const CALLBACK_FRAME_CAPACITY: i32 = 8;

struct JavaRefs {
    vm: JavaVM,
    callbacks_class: GlobalRef,
    complete: JStaticMethodID,
    fail: JStaticMethodID,
    new_exception: JStaticMethodID,
    log_class: GlobalRef,
    log: JStaticMethodID,
}

static REFS: OnceCell<JavaRefs> = OnceCell::new();

/// Caches the classes and method ids. Must run on a Java thread; later calls are no-ops.
pub(crate) fn init(env: &mut JNIEnv<'_>) -> jni::errors::Result<()> {
    REFS.get_or_try_init(|| {
        let callbacks = env.find_class(CALLBACKS_CLASS)?;
        let log = env.find_class(LOG_CLASS)?;
        Ok::<_, jni::errors::Error>(JavaRefs {
            vm: env.get_java_vm()?,
            complete: env.get_static_method_id(
                &callbacks,
                "complete",
                "(Ljava/lang/Object;[B)V",
            )?,
            fail: env.get_static_method_id(
                &callbacks,
                "fail",
                "(Ljava/lang/Object;Ljava/lang/String;Ljava/lang/String;)V",
            )?,
            new_exception: env.get_static_method_id(
                &callbacks,
                "newException",
                "(Ljava/lang/String;Ljava/lang/String;)Ljava/lang/Throwable;",
            )?,
            log: env.get_static_method_id(
                &log,
                "log",
                "(ILjava/lang/String;Ljava/lang/String;)V",
            )?,
            callbacks_class: env.new_global_ref(callbacks)?,
            log_class: env.new_global_ref(log)?,
        })
    })?;
    Ok(())
}

fn refs() -> jni::errors::Result<&'static JavaRefs> {
    REFS.get()
        .ok_or(jni::errors::Error::JniCall(jni::errors::JniError::Unknown))
}

/// Builds (does not throw) the Java exception for `kind` and `message`:
/// `NativeCallbacks.newException(kind, message)`.
pub(crate) fn new_exception<'local>(
    env: &mut JNIEnv<'local>,
    kind: &str,
    message: &str,
) -> jni::errors::Result<JThrowable<'local>> {
    let refs = refs()?;
    let kind = env.new_string(kind)?;
    let message = env.new_string(message)?;
    let args = [
        jvalue { l: kind.as_raw() },
        jvalue {
            l: message.as_raw(),
        },
    ];
    // SAFETY: the method id was looked up on this class with signature
    // (String, String) -> Throwable, and `args` holds exactly two string references.
    let value = unsafe {
        env.call_static_method_unchecked(
            <&JClass>::from(refs.callbacks_class.as_obj()),
            refs.new_exception,
            ReturnType::Object,
            &args,
        )
    }?;
    Ok(JThrowable::from(value.l()?))
}

/// Runs `body` on this thread's JNI environment, attaching the thread (as a daemon, once) if
/// needed, inside a local frame so long-lived runtime threads never accumulate local
/// references. A Java exception thrown by `body` is logged and cleared: it must not leak into
/// unrelated later calls on the same thread.
pub(crate) fn with_attached_env(
    body: impl FnOnce(&mut JNIEnv<'_>) -> jni::errors::Result<()>,
) -> jni::errors::Result<()> {
    let refs = refs()?;
    let mut env = refs.vm.attach_current_thread_as_daemon()?;
    let result = env.with_local_frame(CALLBACK_FRAME_CAPACITY, |env| body(env));
    if env.exception_check().unwrap_or(false) {
        let _ = env.exception_describe();
        let _ = env.exception_clear();
    }
    result
}

/// A Java `NativeCompletion` that Rust completes exactly once, from any thread.
///
/// Java's `NativeCallbacks.complete/fail` hand the result to the connection's executor, so user
/// code chained on the future never runs on a runtime thread. Dropped without an outcome (a
/// panicking or cancelled task), it fails the future, so no Java caller waits forever.
pub(crate) struct Completion {
    target: Option<GlobalRef>,
}

impl Completion {
    /// Keeps a global reference to the Java completion object (the caller checks it is not
    /// null).
    pub(crate) fn new(env: &JNIEnv<'_>, target: &JObject<'_>) -> jni::errors::Result<Self> {
        Ok(Completion {
            target: Some(env.new_global_ref(target)?),
        })
    }

    /// Completes the Java future with `payload` (an encoded batch, see `codec.rs`).
    pub(crate) fn succeed(mut self, payload: &[u8]) {
        let Some(target) = self.target.take() else {
            return;
        };
        let outcome = with_attached_env(|env| {
            let refs = refs()?;
            let bytes = env.byte_array_from_slice(payload)?;
            let args = [
                jvalue {
                    l: target.as_obj().as_raw(),
                },
                jvalue { l: bytes.as_raw() },
            ];
            // SAFETY: `complete` has signature (Object, byte[]) -> void and `args` holds an
            // object and a byte[] reference that are live for this frame.
            unsafe { call_void(env, &refs.callbacks_class, refs.complete, &args) }
        });
        if let Err(error) = outcome {
            tracing::error!(target: "esl4j::jni", "could not complete a Java future: {error}");
        }
    }

    /// Fails the Java future with the exception for `kind` and `message`.
    pub(crate) fn fail(mut self, kind: &str, message: &str) {
        if let Some(target) = self.target.take() {
            fail_target(&target, kind, message);
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if let Some(target) = self.target.take() {
            fail_target(
                &target,
                "INTERNAL",
                "the native task ended without a result",
            );
        }
    }
}

fn fail_target(target: &GlobalRef, kind: &str, message: &str) {
    let outcome = with_attached_env(|env| {
        let refs = refs()?;
        let kind = env.new_string(kind)?;
        let message = env.new_string(message)?;
        let args = [
            jvalue {
                l: target.as_obj().as_raw(),
            },
            jvalue { l: kind.as_raw() },
            jvalue {
                l: message.as_raw(),
            },
        ];
        // SAFETY: `fail` has signature (Object, String, String) -> void and `args` holds
        // three live references of those types.
        unsafe { call_void(env, &refs.callbacks_class, refs.fail, &args) }
    });
    if let Err(error) = outcome {
        tracing::error!(target: "esl4j::jni", "could not fail a Java future: {error}");
    }
}

/// Calls a cached static void method.
///
/// # Safety
/// `method` must belong to `class`, return void, and take exactly the types in `args`.
unsafe fn call_void(
    env: &mut JNIEnv<'_>,
    class: &GlobalRef,
    method: JStaticMethodID,
    args: &[jvalue],
) -> jni::errors::Result<()> {
    // SAFETY: forwarded from this function's contract.
    let value: JValueOwned = unsafe {
        env.call_static_method_unchecked(
            <&JClass>::from(class.as_obj()),
            method,
            ReturnType::Primitive(Primitive::Void),
            args,
        )
    }?;
    value.v()
}

/// `NativeLog.log(level, target, message)`; used by the tracing subscriber.
pub(crate) fn log(level: i32, target: &str, message: &str) -> jni::errors::Result<()> {
    with_attached_env(|env| {
        let refs = refs()?;
        let target = env.new_string(target)?;
        let message = env.new_string(message)?;
        let args = [
            jvalue { i: level },
            jvalue { l: target.as_raw() },
            jvalue {
                l: message.as_raw(),
            },
        ];
        // SAFETY: `log` has signature (int, String, String) -> void, matching `args`.
        unsafe { call_void(env, &refs.log_class, refs.log, &args) }
    })
}
