package org.esl4j.internal;

/**
 * Test-only native methods, present only in the library built with the {@code testing} cargo
 * feature (Gradle's {@code nativePanicTest} loads that build through {@code esl4j.native.path}).
 */
final class NativeTesting {
    static {
        Native.ensureLoaded();
    }

    private NativeTesting() {
    }

    /**
     * Panics in Rust.
     *
     * @return never returns normally
     */
    static native int panic();
}
