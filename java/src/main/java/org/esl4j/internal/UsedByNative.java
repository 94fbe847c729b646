package org.esl4j.internal;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a member that Rust calls through JNI ({@code rust/jni/src/callbacks.rs}): it looks unused
 * from Java, but renaming or deleting it breaks the native library.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.METHOD, ElementType.TYPE, ElementType.FIELD})
public @interface UsedByNative {
}
