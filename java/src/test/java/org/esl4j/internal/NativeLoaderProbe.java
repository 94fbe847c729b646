package org.esl4j.internal;

/**
 * Run in a fresh JVM (by {@link NativeLoaderTest} and the {@code jarSmokeTest} task): loads the
 * library and prints where from. With the argument {@code bundled} it exits with status 2 unless
 * the copy bundled in the jar was used.
 */
public final class NativeLoaderProbe {
    private NativeLoaderProbe() {
    }

    public static void main(String[] args) {
        Native.ensureLoaded();
        String from = NativeLoader.loadedFrom();
        System.out.println(from);
        if (args.length > 0 && args[0].equals("bundled") && !from.startsWith("bundled:")) {
            System.exit(2);
        }
    }
}
