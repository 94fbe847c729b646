package org.esl4j.internal;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds and loads the {@code esl4j_jni} native library, once per class loader.
 *
 * <p>Order: the file named by the system property {@value #PATH_PROPERTY}; else a copy bundled in
 * a jar under {@code native/<os>-<arch>/}: the esl4j-test jar's {@value #TEST_LIBRARY_NAME} (the
 * same library plus the simulator) when that jar is on the class path, else the esl4j jar's
 * {@value #LIBRARY_NAME}; the copy is extracted to a fresh uniquely named temporary file (so
 * concurrent JVMs on one host never share or overwrite a file) in {@value #TMPDIR_PROPERTY} or
 * {@code java.io.tmpdir}; else {@code System.loadLibrary} from {@code java.library.path}. The
 * loaded library must report {@link Native#ABI_VERSION}, so a stale library found on the system
 * path is rejected with an error that names the platform and both versions.
 *
 * <p>A failure names its cause and the setting that fixes it: a temporary folder mounted
 * {@code noexec} or not writable ({@value #TMPDIR_PROPERTY}), a glibc older than the library needs,
 * a platform the jar carries no library for (the error lists those it carries).
 */
public final class NativeLoader {
    /** System property: absolute path of the native library to load instead of the bundled one. */
    public static final String PATH_PROPERTY = "esl4j.native.path";
    /** System property: folder for the extracted copy of the bundled library. */
    public static final String TMPDIR_PROPERTY = "esl4j.native.tmpdir";
    /** Base name of the library ({@code libesl4j_jni.so}, {@code esl4j_jni.dll}, ...). */
    public static final String LIBRARY_NAME = "esl4j_jni";
    /** Base name of the esl4j-test jar's library: {@value #LIBRARY_NAME} built with the simulator. */
    public static final String TEST_LIBRARY_NAME = "esl4j_test_jni";
    /** The oldest glibc the bundled Linux libraries load on (checked by the build). */
    static final String GLIBC_FLOOR = "2.17";

    private static String loadedFrom;

    private NativeLoader() {
    }

    /**
     * Loads the library unless this class loader already did.
     *
     * @throws UnsatisfiedLinkError with the platform, version, every place tried and the cause
     */
    static synchronized void load() {
        if (loadedFrom != null) {
            return;
        }
        String platform = platformId();
        String from = loadFirstAvailable(System.getProperty(PATH_PROPERTY),
                Arrays.asList(resourcePath(platform, TEST_LIBRARY_NAME), resourcePath(platform, LIBRARY_NAME)),
                LIBRARY_NAME);
        checkAbi(from);
        loadedFrom = from;
    }

    /**
     * Where the library was loaded from: {@code "property:<path>"}, {@code "bundled:<resource>"} or
     * {@code "library-path:<name>"}.
     *
     * @return the source, or null before loading
     */
    public static synchronized String loadedFrom() {
        return loadedFrom;
    }

    /**
     * Tries each source in order and loads the first that exists.
     *
     * @param overridePath the value of {@value #PATH_PROPERTY}, or null
     * @param resources the class-path resources of the bundled libraries, preferred first
     * @param libraryName the name for {@code System.loadLibrary}
     * @return a description of the source that was loaded
     * @throws UnsatisfiedLinkError listing every attempt, with the likely cause and its fix
     */
    static String loadFirstAvailable(String overridePath, List<String> resources, String libraryName) {
        List<String> attempts = new ArrayList<>();
        if (overridePath != null && !overridePath.isEmpty()) {
            // An explicit override must win or fail loudly, never fall back silently.
            try {
                System.load(new File(overridePath).getAbsolutePath());
                return "property:" + overridePath;
            } catch (UnsatisfiedLinkError e) {
                throw linkError("-D" + PATH_PROPERTY + "=" + overridePath + " could not be loaded: " + e.getMessage()
                        + hint(e.getMessage(), null), null);
            }
        }
        for (String resource : resources) {
            try (InputStream in = NativeLoader.class.getClassLoader() == null
                    ? ClassLoader.getSystemResourceAsStream(resource)
                    : NativeLoader.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    attempts.add("no bundled resource " + resource);
                    continue;
                }
                loadExtracted(in);
                return "bundled:" + resource;
            } catch (ExtractionException e) {
                // The bundled copy exists but cannot be used here: say why, not "no library".
                throw linkError("the bundled " + resource + " could not be loaded: " + e.getMessage(), attempts);
            } catch (IOException e) {
                attempts.add("bundled " + resource + ": " + e);
            }
        }
        try {
            System.loadLibrary(libraryName);
            return "library-path:" + libraryName;
        } catch (UnsatisfiedLinkError e) {
            attempts.add("java.library.path (" + System.getProperty("java.library.path") + "): " + e.getMessage());
        }
        throw linkError("no esl4j native library for this platform; this jar carries libraries for "
                + bundledPlatforms() + ". Use a release jar that carries " + platformId() + ", or build the library ("
                + "cargo build --release -p esl4j-jni) and point -D" + PATH_PROPERTY + " at it", attempts);
    }

    /** The bundled library was found but could not be written out or loaded. */
    private static final class ExtractionException extends IOException {
        private static final long serialVersionUID = 1L;

        ExtractionException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static void loadExtracted(InputStream in) throws ExtractionException {
        String mapped = System.mapLibraryName(LIBRARY_NAME);
        int dot = mapped.lastIndexOf('.');
        String suffix = dot < 0 ? "" : mapped.substring(dot);
        String tmp = System.getProperty(TMPDIR_PROPERTY, System.getProperty("java.io.tmpdir"));
        Path dir = new File(tmp).toPath().toAbsolutePath();
        Path file;
        try {
            Files.createDirectories(dir);
            // createTempFile makes a new, unique, owner-only file: no other JVM can race on it.
            file = Files.createTempFile(dir, LIBRARY_NAME + "-" + version() + "-", suffix);
        } catch (IOException e) {
            throw new ExtractionException("cannot create a file in " + dir + " (" + e + "); set -D"
                    + TMPDIR_PROPERTY + " to a writable folder on a file system that allows executables", e);
        }
        boolean windows = platformId().startsWith("windows");
        try {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            System.load(file.toAbsolutePath().toString());
        } catch (IOException e) {
            throw new ExtractionException("cannot write " + file + " (" + e + "); set -D" + TMPDIR_PROPERTY
                    + " to a writable folder with free space", e);
        } catch (UnsatisfiedLinkError e) {
            throw new ExtractionException(e.getMessage() + hint(e.getMessage(), dir), e);
        } finally {
            try {
                if (windows) {
                    file.toFile().deleteOnExit();
                } else {
                    // Unix keeps the mapping after unlink, so nothing is left behind even on a crash.
                    Files.deleteIfExists(file);
                }
            } catch (IOException e) {
                file.toFile().deleteOnExit();
            }
        }
    }

    /**
     * The likely cause of a failed {@code System.load} and the setting that fixes it.
     *
     * @param error the {@link UnsatisfiedLinkError}'s message
     * @param extractedTo the folder the library was extracted to, or null when it was not extracted
     * @return {@code ". Cause: ..."}, or an empty string when the cause is not recognised
     */
    static String hint(String error, Path extractedTo) {
        String text = error == null ? "" : error;
        Matcher glibc = Pattern.compile("GLIBC_([0-9.]+)' not found").matcher(text);
        if (glibc.find()) {
            return ". Cause: this system's glibc is older than " + glibc.group(1) + ". The libraries in esl4j's "
                    + "release jars need glibc " + GLIBC_FLOOR + " or newer; a library built on a newer system "
                    + "needs that system's glibc (build it with cargo-zigbuild, see the README)";
        }
        if (text.contains("wrong ELF class") || text.contains("ELF file's class")) {
            return ". Cause: the library was built for another architecture than this JVM (" + platformId() + ")";
        }
        if (extractedTo != null && (text.contains("failed to map segment") || text.contains("Operation not permitted")
                || text.contains("Permission denied") || noexecMount(extractedTo, readMounts()))) {
            return ". Cause: " + extractedTo + " is on a file system mounted noexec (or one that forbids "
                    + "loading code from it). Set -D" + TMPDIR_PROPERTY + "=<a folder on a file system that allows "
                    + "executables>, or extract the library yourself and set -D" + PATH_PROPERTY;
        }
        return "";
    }

    private static String readMounts() {
        try {
            return new String(Files.readAllBytes(new File("/proc/self/mounts").toPath()), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /**
     * Whether the longest mount point containing {@code dir} is mounted {@code noexec}.
     *
     * @param dir an absolute folder
     * @param mounts the text of {@code /proc/self/mounts} (empty where there is none)
     * @return true when the folder's file system forbids executables
     */
    static boolean noexecMount(Path dir, String mounts) {
        String path = dir.toString();
        String best = "";
        boolean noexec = false;
        for (String line : mounts.split("\n")) {
            String[] fields = line.split(" ");
            if (fields.length < 4) {
                continue;
            }
            String mountPoint = fields[1].replace("\\040", " ");
            boolean contains = path.equals(mountPoint) || path.startsWith(mountPoint.endsWith("/") ? mountPoint
                    : mountPoint + "/");
            if (contains && mountPoint.length() >= best.length()) {
                best = mountPoint;
                noexec = Arrays.asList(fields[3].split(",")).contains("noexec");
            }
        }
        return noexec;
    }

    /**
     * The platforms this esl4j jar carries a library for, from {@code esl4j-native.properties}.
     *
     * @return e.g. {@code "linux-x86_64"}, or {@code "no platform"}
     */
    static String bundledPlatforms() {
        String platforms = properties().getProperty("platforms", "");
        return platforms.isEmpty() ? "no platform" : platforms.replace(",", ", ");
    }

    private static void checkAbi(String from) {
        int found;
        try {
            found = Native.abiVersion();
        } catch (UnsatisfiedLinkError e) {
            throw linkError("the library from " + from + " is not an esl4j library (no abiVersion): " + e.getMessage(),
                    null);
        }
        if (found != Native.ABI_VERSION) {
            throw linkError("the library from " + from + " has ABI version " + found + ", but this jar needs "
                    + Native.ABI_VERSION + "; remove the stale library or set -D" + PATH_PROPERTY, null);
        }
    }

    private static UnsatisfiedLinkError linkError(String what, List<String> attempts) {
        StringBuilder message = new StringBuilder("esl4j ").append(version()).append(" on platform ")
                .append(platformId()).append(": ").append(what);
        if (attempts != null) {
            for (String attempt : attempts) {
                message.append("\n  tried ").append(attempt);
            }
        }
        return new UnsatisfiedLinkError(message.toString());
    }

    /**
     * The jar's version, from {@code esl4j-native.properties}.
     *
     * @return the version, or {@code "unknown"}
     */
    public static String version() {
        return properties().getProperty("version", "unknown");
    }

    private static Properties properties() {
        Properties properties = new Properties();
        try (InputStream in = NativeLoader.class.getResourceAsStream("esl4j-native.properties")) {
            if (in != null) {
                properties.load(in);
            }
        } catch (IOException e) {
            // An unreadable file reads as an empty one: "unknown" version, "no platform".
            properties.clear();
        }
        return properties;
    }

    /**
     * This JVM's platform id, e.g. {@code linux-x86_64}. Keep in sync with {@code platformId} in
     * {@code build.gradle}.
     *
     * @return {@code <os>-<arch>}
     */
    public static String platformId() {
        return platformId(System.getProperty("os.name"), System.getProperty("os.arch"));
    }

    /**
     * The platform id for an {@code os.name} and {@code os.arch}.
     *
     * @param osName as in {@code os.name}
     * @param osArch as in {@code os.arch}
     * @return {@code linux|osx|windows} + "-" + {@code x86_64|aarch64|<arch>}
     */
    public static String platformId(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        if (os.startsWith("windows")) {
            os = "windows";
        } else if (os.startsWith("mac") || os.startsWith("darwin")) {
            os = "osx";
        } else {
            os = "linux";
        }
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            arch = "x86_64";
        } else if (arch.equals("aarch64") || arch.equals("arm64")) {
            arch = "aarch64";
        }
        return os + "-" + arch;
    }

    /**
     * The class-path resource of a bundled library for a platform.
     *
     * @param platform a {@link #platformId()}
     * @param libraryName {@link #LIBRARY_NAME} or {@link #TEST_LIBRARY_NAME}
     * @return e.g. {@code native/linux-x86_64/libesl4j_jni.so}
     */
    public static String resourcePath(String platform, String libraryName) {
        return "native/" + platform + "/" + System.mapLibraryName(libraryName);
    }
}
