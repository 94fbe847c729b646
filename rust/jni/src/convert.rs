//! Java arguments to Rust values. Text crosses as UTF-8 `byte[]` (Java's
//! `String.getBytes(UTF_8)`), never as JNI's modified UTF-8.

use jni::objects::JByteArray;
use jni::JNIEnv;

use crate::error::BridgeError;

/// The bytes of a Java `byte[]`; `None` for null.
pub(crate) fn bytes(
    env: &JNIEnv<'_>,
    array: &JByteArray<'_>,
) -> Result<Option<Vec<u8>>, BridgeError> {
    if array.is_null() {
        return Ok(None);
    }
    Ok(Some(env.convert_byte_array(array)?))
}

/// UTF-8 text of a Java `byte[]`; `None` for null.
pub(crate) fn text(
    env: &JNIEnv<'_>,
    array: &JByteArray<'_>,
    what: &str,
) -> Result<Option<String>, BridgeError> {
    match bytes(env, array)? {
        None => Ok(None),
        Some(raw) => String::from_utf8(raw)
            .map(Some)
            .map_err(|_| BridgeError::InvalidArgument(format!("{what} is not valid UTF-8"))),
    }
}

/// Like [`text`] but null is an error.
pub(crate) fn required_text(
    env: &JNIEnv<'_>,
    array: &JByteArray<'_>,
    what: &str,
) -> Result<String, BridgeError> {
    text(env, array, what)?.ok_or_else(|| BridgeError::InvalidArgument(format!("{what} is null")))
}

/// A Java millisecond count as a timeout; zero or negative means "use the default".
pub(crate) fn timeout(millis: i64) -> Option<std::time::Duration> {
    u64::try_from(millis)
        .ok()
        .filter(|&ms| ms > 0)
        .map(std::time::Duration::from_millis)
}
