//! Test-only exports, compiled with `--features testing` into a library that only Gradle's
//! `nativePanicTest` loads; the shipped library has none of them.

use jni::objects::JClass;
use jni::sys::jint;
use jni::JNIEnv;

use crate::error::{ffi_call, BridgeError};

/// `static native int panic()` of the test class `org.esl4j.internal.NativeTesting`: panics
/// inside an export, so a test can prove the panic reaches Java as an exception and the JVM lives.
#[no_mangle]
pub extern "system" fn Java_org_esl4j_internal_NativeTesting_panic<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> jint {
    ffi_call(&mut env, |_env| -> Result<jint, BridgeError> {
        panic!("deliberate panic from NativeTesting")
    })
}
