package org.esl4j.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.esl4j.EslException;
import org.junit.Test;

/**
 * A Rust panic inside a native method becomes a Java exception and the JVM goes on. Runs only in
 * Gradle's {@code nativePanicTest} task, against the library built with the {@code testing} feature.
 */
public class NativePanicTest {
    @Test
    public void aPanicBecomesAJavaExceptionAndTheLibraryKeepsWorking() {
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                NativeTesting.panic();
                fail("the panic did not reach Java");
            } catch (EslException expected) {
                assertEquals(EslException.Kind.INTERNAL, expected.kind());
                assertTrue(expected.getMessage(), expected.getMessage().contains("deliberate panic from NativeTesting"));
            }
        }
        assertNotNull("the library still answers after the panics", Native.nativeVersion());
    }
}
