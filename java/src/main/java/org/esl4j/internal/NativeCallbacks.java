package org.esl4j.internal;

import org.esl4j.EslException;

/**
 * Static entry points that Rust calls ({@code rust/jni/src/callbacks.rs}); names and signatures
 * are part of the ABI. Each one catches everything: a Java exception must never unwind into Rust.
 * Not API.
 */
@UsedByNative
final class NativeCallbacks {
    private NativeCallbacks() {
    }

    @UsedByNative
    static void complete(Object completion, byte[] payload) {
        try {
            ((NativeCompletion<?>) completion).succeed(payload);
        } catch (Throwable t) {
            NativeLog.log(NativeLog.ERROR, "esl4j::callbacks", "completing a future failed: " + t);
        }
    }

    @UsedByNative
    static void fail(Object completion, String kind, String message) {
        try {
            ((NativeCompletion<?>) completion).fail(newException(kind, message));
        } catch (Throwable t) {
            NativeLog.log(NativeLog.ERROR, "esl4j::callbacks", "failing a future failed: " + t);
        }
    }

    /**
     * The exception for a native error kind; an unknown kind (newer library) maps to INTERNAL.
     *
     * @param kind an {@link EslException.Kind} name
     * @param message the details
     * @return the exception to throw
     */
    @UsedByNative
    static Throwable newException(String kind, String message) {
        EslException.Kind parsed;
        try {
            parsed = EslException.Kind.valueOf(kind);
        } catch (IllegalArgumentException | NullPointerException e) {
            parsed = EslException.Kind.INTERNAL;
        }
        return EslException.of(parsed, message);
    }
}
