/**
 * Not API: the bridge between the Java faces and the Rust engine. Nothing here is stable across
 * releases; applications use {@code org.esl4j} or {@code org.freeswitch.esl}.
 *
 * <ul>
 *   <li>{@link org.esl4j.internal.NativeLoader} finds the native library for this platform (a
 *       system property, the copy bundled in the jar, the library path) and {@link
 *       org.esl4j.internal.Native} checks that its ABI version matches these classes.
 *   <li>{@link org.esl4j.internal.NativeConnection} and {@link org.esl4j.internal.NativeServer} own
 *       one native handle each (the simulator's, {@code NativeSimulator}, is in esl4j-test); a handle is freed
 *       once, and a call through a closed handle fails with a typed error instead of touching
 *       freed memory.
 *   <li>Commands complete through {@link org.esl4j.internal.NativeCompletion} on esl4j's own
 *       daemon threads ({@link org.esl4j.internal.CompletionThreads}), never on the engine's I/O
 *       threads and never on the common fork-join pool.
 *   <li>Events arrive in poll batches, taken by every Java poll loop through one
 *       {@link org.esl4j.internal.EventInbox} and decoded by {@link org.esl4j.internal.FrameCodec}
 *       (a kind byte per item); each event reads its frame in place through a {@link
 *       org.esl4j.internal.WireEvent} (plain event values stay URL-encoded until read); log
 *       records of the engine reach slf4j or JUL through {@link org.esl4j.internal.NativeLog}.
 *   <li>{@link org.esl4j.internal.EventSerializer} writes an event as plain text, JSON or XML,
 *       for the compat {@code ESLevent.serialize} and the CLI.
 * </ul>
 *
 * <p>The contract with the native side (export names, batch layout, error kinds) lives in {@code
 * NativeContract} (checked against {@code rust/jni/src/contract.rs} by a test) and is versioned by
 * its {@code ABI_VERSION}; see {@code docs/design/overload-and-native-contract.md}.
 */
package org.esl4j.internal;
