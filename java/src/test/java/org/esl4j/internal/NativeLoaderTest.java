package org.esl4j.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
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
        assertTrue(NativeLoader.resourcePath("linux-x86_64", NativeLoader.LIBRARY_NAME)
                .startsWith("native/linux-x86_64/"));
    }

    @Test
    public void bundledLibraryIsLoadedAndPassesTheAbiCheck() {
        Native.ensureLoaded();
        // esl4j-test is on this class path: its library (with the simulator) wins over esl4j's.
        assertEquals("bundled:" + NativeLoader.resourcePath(NativeLoader.platformId(), NativeLoader.TEST_LIBRARY_NAME),
                NativeLoader.loadedFrom());
        assertEquals(Native.ABI_VERSION, Native.abiVersion());
        assertTrue(Native.nativeVersion().matches("\\d+\\.\\d+\\.\\d+.*"));
    }

    @Test
    public void missingLibraryGivesAnErrorNamingPlatformVersionAndAttempts() {
        try {
            NativeLoader.loadFirstAvailable(null, Collections.singletonList("native/none-none/libmissing.so"),
                    "esl4j_definitely_missing");
            fail("loaded a library that does not exist");
        } catch (UnsatisfiedLinkError e) {
            String message = e.getMessage();
            assertTrue(message, message.contains(NativeLoader.platformId()));
            assertTrue(message, message.contains(NativeLoader.version()));
            assertTrue(message, message.contains("native/none-none/libmissing.so"));
            assertTrue(message, message.contains("java.library.path"));
            // The platforms this jar does carry, and the property that points at a library built by hand.
            assertTrue(message, message.contains("carries libraries for " + NativeLoader.platformId()));
            assertTrue(message, message.contains(NativeLoader.PATH_PROPERTY));
        }
    }

    @Test
    public void anOldGlibcIsNamedAsTheCause() {
        String hint = NativeLoader.hint("/tmp/libesl4j_jni-1.so: /lib64/libc.so.6: version `GLIBC_2.34' not found "
                + "(required by /tmp/libesl4j_jni-1.so)", Paths.get("/tmp"));
        assertTrue(hint, hint.contains("glibc is older than 2.34"));
        assertTrue(hint, hint.contains("2.17"));
    }

    @Test
    public void aNoexecTemporaryFolderIsNamedWithThePropertyThatFixesIt() {
        String hint = NativeLoader.hint("/tmp/x.so: failed to map segment from shared object", Paths.get("/tmp"));
        assertTrue(hint, hint.contains("noexec"));
        assertTrue(hint, hint.contains("-D" + NativeLoader.TMPDIR_PROPERTY));
        assertEquals("an unknown error gets no guessed cause", "", NativeLoader.hint("something else", null));
    }

    @Test
    public void noexecIsReadFromTheLongestMountPoint() {
        String mounts = "/dev/sda1 / ext4 rw,relatime 0 0\n"
                + "tmpfs /tmp tmpfs rw,nosuid,nodev,noexec,relatime 0 0\n"
                + "tmpfs /tmp/exec tmpfs rw,relatime 0 0\n";
        assertTrue(NativeLoader.noexecMount(Paths.get("/tmp/jvm-1"), mounts));
        assertTrue(NativeLoader.noexecMount(Paths.get("/tmp"), mounts));
        assertFalse(NativeLoader.noexecMount(Paths.get("/tmp/exec/a"), mounts));
        assertFalse(NativeLoader.noexecMount(Paths.get("/tmpfoo"), mounts));
        assertFalse(NativeLoader.noexecMount(Paths.get("/var/tmp"), mounts));
    }

    @Test
    public void anUnwritableTmpdirFailsNamingTheProperty() throws Exception {
        String unwritable = "/proc/esl4j-cannot-create-this";
        Process probe = startProbe("-D" + NativeLoader.TMPDIR_PROPERTY + "=" + unwritable);
        List<String> output = readAll(probe);
        assertTrue("probe JVM did not finish", probe.waitFor(60, TimeUnit.SECONDS));
        assertTrue(output.toString(), probe.exitValue() != 0);
        String text = String.join("\n", output);
        assertTrue(text, text.contains("cannot create a file in " + unwritable));
        assertTrue(text, text.contains("-D" + NativeLoader.TMPDIR_PROPERTY));
    }

    @Test
    public void badOverridePathFailsLoudlyInsteadOfFallingBack() {
        String missing = new File("build/no-such-dir/libesl4j_jni.so").getAbsolutePath();
        try {
            NativeLoader.loadFirstAvailable(missing, Collections.singletonList(
                    NativeLoader.resourcePath(NativeLoader.platformId(), NativeLoader.LIBRARY_NAME)), NativeLoader.LIBRARY_NAME);
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
                .getResourceAsStream(NativeLoader.resourcePath(NativeLoader.platformId(), NativeLoader.LIBRARY_NAME))) {
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
        List<String> lines = readAll(process);
        assertTrue("probe JVM did not finish", process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(lines.toString(), 0, process.exitValue());
        return lines;
    }

    private static List<String> readAll(Process process) throws IOException {
        List<String> lines = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                lines.add(line);
            }
        }
        return lines;
    }
}
