package org.esl4j.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.lang.reflect.Field;
import java.net.URL;
import java.net.URLClassLoader;

import org.esl4j.EslEvent;
import org.junit.Test;

/**
 * The event classes' initialisers in a fresh class loader, so that no earlier test has run them:
 * decoding must never need {@code EslEvent}'s initialiser to have run from {@code FrameCodec}'s
 * (an initialiser that waits on another's can deadlock two threads starting from either end).
 */
public class ClassInitialisationTest {
    /** A loader of the library's own classes only, none of them initialised yet. */
    private static ClassLoader freshLoader() {
        URL classes = EslEvent.class.getProtectionDomain().getCodeSource().getLocation();
        return new URLClassLoader(new URL[] {classes}, null);
    }

    @Test
    public void frameCodecsInitialiserLeavesEslEventsAlone() throws Exception {
        ClassLoader loader = freshLoader();
        Class.forName(FrameCodec.class.getName(), true, loader);
        Field wrapper = Class.forName(WireEvent.class.getName(), false, loader).getDeclaredField("wrapper");
        wrapper.setAccessible(true);
        assertNull("EslEvent's initialiser ran", wrapper.get(null));
    }

    @Test
    public void decodingBeforeAnyEventWasBuiltMakesEvents() throws Exception {
        byte[] frame = FrameCodec.encodeSingle(EslEvent.builder().header("A", "b").build());
        Class<?> codec = Class.forName(FrameCodec.class.getName(), true, freshLoader());
        Object event = codec.getMethod("decodeSingle", byte[].class).invoke(null, (Object) frame);
        assertEquals("b", event.getClass().getMethod("header", String.class).invoke(event, "A"));
    }
}
