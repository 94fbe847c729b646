//! `Arc<T>` <-> `jlong` handles held by Java objects.
//!
//! Java's `NativeHandle` guarantees that a handle is passed to native code only while it holds
//! a lease on it, and that `destroy` is called exactly once, after the last lease. Native code
//! clones the `Arc` on entry, so tasks that outlive the call keep the object alive on their own.

use std::sync::Arc;

use jni::sys::jlong;

use crate::error::BridgeError;

/// Moves `value` behind a handle owned by Java.
pub(crate) fn into_handle<T>(value: Arc<T>) -> jlong {
    Arc::into_raw(value) as jlong
}

/// A new strong reference to the object behind `handle`.
///
/// # Safety
/// `handle` must be 0 or come from `into_handle::<T>` and not have been destroyed.
pub(crate) unsafe fn borrow<T>(handle: jlong) -> Result<Arc<T>, BridgeError> {
    if handle == 0 {
        return Err(BridgeError::InvalidState("the object is closed".into()));
    }
    let ptr = handle as *const T;
    // SAFETY: per this function's contract `ptr` came from `Arc::into_raw::<T>` and the Java
    // owner still holds that strong count, so the allocation is alive while we add one.
    unsafe {
        Arc::increment_strong_count(ptr);
        Ok(Arc::from_raw(ptr))
    }
}

/// Releases Java's reference. The object is freed once native tasks drop their clones.
///
/// # Safety
/// `handle` must be 0 or come from `into_handle::<T>`, and this must be its only `destroy`.
pub(crate) unsafe fn destroy<T>(handle: jlong) {
    if handle != 0 {
        // SAFETY: per this function's contract this reclaims the one reference given to Java.
        drop(unsafe { Arc::from_raw(handle as *const T) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrow_and_destroy_balance_the_strong_count() {
        let value = Arc::new(5u32);
        let handle = into_handle(Arc::clone(&value));
        assert_eq!(Arc::strong_count(&value), 2);
        // SAFETY: the handle comes from into_handle and is destroyed only below.
        let borrowed = unsafe { borrow::<u32>(handle) }.expect("live handle");
        assert_eq!(*borrowed, 5);
        assert_eq!(Arc::strong_count(&value), 3);
        drop(borrowed);
        // SAFETY: first and only destroy of this handle.
        unsafe { destroy::<u32>(handle) };
        assert_eq!(Arc::strong_count(&value), 1);
    }

    #[test]
    fn zero_handle_is_reported_as_closed() {
        // SAFETY: 0 is allowed by the contract.
        let error = unsafe { borrow::<u32>(0) }.expect_err("0 is closed");
        assert_eq!(error.kind(), "INVALID_STATE");
    }
}
