package org.esl4j.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.Test;

public class NativeLoaderTest {
    @Test
    public void platformIdsAreNormalised() {
        assertEquals("linux-x86_64", NativeLoader.platformId("Linux", "amd64"));
        assertEquals("linux-aarch64", NativeLoader.platformId("Linux", "aarch64"));
        assertEquals("osx-aarch64", NativeLoader.platformId("Mac OS X", "arm64"));
        assertEquals("osx-x86_64", NativeLoader.platformId("Mac OS X", "x86_64"));
        assertEquals("windows-x86_64", NativeLoader.platformId("Windows 10", "amd64"));
        assertTrue(NativeLoader.resourcePath("linux-x86_64").startsWith("native/linux-x86_64/"));
    }

    @Test
    public void bundledLibraryIsLoadedAndPassesTheAbiCheck() {
        Native.ensureLoaded();
        assertTrue(NativeLoader.loadedFrom(), NativeLoader.loadedFrom().startsWith("bundled:"));
        assertEquals(Native.ABI_VERSION, Native.abiVersion());
        assertTrue(Native.nativeVersion().matches("\\d+\\.\\d+\\.\\d+.*"));
    }

    @Test
    public void missingLibraryGivesAnErrorNamingPlatformVersionAndAttempts() {
        try {
            NativeLoader.loadFirstAvailable(null, "native/none-none/libmissing.so", "esl4j_definitely_missing");
            fail("loaded a library that does not exist");
        } catch (UnsatisfiedLinkError e) {
            String message = e.getMessage();
            assertTrue(message, message.contains(NativeLoader.platformId()));
            assertTrue(message, message.contains(NativeLoader.version()));
            assertTrue(message, message.contains("native/none-none/libmissing.so"));
            assertTrue(message, message.contains("java.library.path"));
        }
    }

    @Test
    public void badOverridePathFailsLoudlyInsteadOfFallingBack() {
        String missing = new File("build/no-such-dir/libesl4j_jni.so").getAbsolutePath();
        try {
            NativeLoader.loadFirstAvailable(missing, NativeLoader.resourcePath(NativeLoader.platformId()),
                    NativeLoader.LIBRARY_NAME);
            fail("a broken override was ignored");
        } catch (UnsatisfiedLinkError e) {
            assertTrue(e.getMessage(), e.getMessage().contains(NativeLoader.PATH_PROPERTY));
            assertTrue(e.getMessage(), e.getMessage().contains(missing));
        }
    }

    @Test
    public void overridePropertyIsHonouredInAFreshJvm() throws Exception {
        Native.ensureLoaded();
        // Extract the bundled library to a known file, then start a JVM told to use that file.
        File copy = File.createTempFile("esl4j-override-", System.mapLibraryName("x").replace("libx", ""));
        copy.deleteOnExit();
        try (java.io.InputStream in = getClass().getClassLoader()
                .getResourceAsStream(NativeLoader.resourcePath(NativeLoader.platformId()))) {
            java.nio.file.Files.copy(in, copy.toPath(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        List<String> output = runProbe("-D" + NativeLoader.PATH_PROPERTY + "=" + copy.getAbsolutePath());
        assertEquals(output.toString(), "property:" + copy.getAbsolutePath(), output.get(output.size() - 1));
    }

    @Test
    public void concurrentJvmsEachExtractTheirOwnCopy() throws Exception {
        Process[] probes = new Process[3];
        for (int i = 0; i < probes.length; i++) {
            probes[i] = startProbe();
        }
        for (Process probe : probes) {
            List<String> output = finish(probe);
            assertTrue(output.toString(), output.get(output.size() - 1).startsWith("bundled:"));
        }
    }

    private static List<String> runProbe(String... jvmArgs) throws Exception {
        return finish(startProbe(jvmArgs));
    }

    private static Process startProbe(String... jvmArgs) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(new File(System.getProperty("java.home"), "bin/java").getAbsolutePath());
        for (String arg : jvmArgs) {
            command.add(arg);
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(NativeLoaderProbe.class.getName());
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    private static List<String> finish(Process process) throws Exception {
        List<String> lines = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                lines.add(line);
            }
        }
        assertTrue("probe JVM did not finish", process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(lines.toString(), 0, process.exitValue());
        return lines;
    }
}
