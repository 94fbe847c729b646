package org.esl4j.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

import java.net.URL;
import java.net.URLClassLoader;

import org.esl4j.EslEvent;
import org.junit.Test;

/**
 * The event classes' initialisers in a fresh class loader, so that no earlier test has run them:
 * the public event type must not reach into the decoder when it is initialised (an initialiser
 * that waits on another's can deadlock two threads starting from either end), and decoding must
 * work before any event was built.
 */
public class ClassInitialisationTest {
    /** A loader of the library's own classes only, none of them loaded yet. */
    private static final class FreshLoader extends URLClassLoader {
        FreshLoader() {
            super(new URL[] {EslEvent.class.getProtectionDomain().getCodeSource().getLocation()}, null);
        }

        boolean hasLoaded(Class<?> type) {
            return findLoadedClass(type.getName()) != null;
        }
    }

    @Test
    public void eslEventsInitialiserLeavesTheDecoderAlone() throws Exception {
        try (FreshLoader loader = new FreshLoader()) {
            Class.forName(EslEvent.class.getName(), true, loader);
            assertFalse("EslEvent's initialiser loaded WireEvent", loader.hasLoaded(WireEvent.class));
            assertFalse("EslEvent's initialiser loaded FrameCodec", loader.hasLoaded(FrameCodec.class));
        }
    }

    @Test
    public void decodingBeforeAnyEventWasBuiltMakesEvents() throws Exception {
        byte[] frame = FrameCodec.encodeSingle(EslEvent.builder().header("A", "b").build());
        try (FreshLoader loader = new FreshLoader()) {
            Class<?> codec = Class.forName(FrameCodec.class.getName(), true, loader);
            Object event = codec.getMethod("decodeSingle", byte[].class).invoke(null, (Object) frame);
            assertEquals("b", event.getClass().getMethod("header", String.class).invoke(event, "A"));
        }
    }
}
