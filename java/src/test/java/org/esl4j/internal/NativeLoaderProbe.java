package org.esl4j.internal;

/** Run in a child JVM by {@link NativeLoaderTest}: loads the library, prints where from. */
public final class NativeLoaderProbe {
    private NativeLoaderProbe() {
    }

    public static void main(String[] args) {
        Native.ensureLoaded();
        System.out.println(NativeLoader.loadedFrom());
    }
}
