package org.esl4j.internal;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * Finds and loads the {@code esl4j_jni} native library, once per class loader.
 *
 * <p>Order: the file named by the system property {@value #PATH_PROPERTY}; else the copy bundled
 * in the jar under {@code native/<os>-<arch>/}, extracted to a fresh uniquely named temporary file
 * (so concurrent JVMs on one host never share or overwrite a file) in {@value #TMPDIR_PROPERTY} or
 * {@code java.io.tmpdir}; else {@code System.loadLibrary} from {@code java.library.path}. The
 * loaded library must report {@link Native#ABI_VERSION}, so a stale library found on the system
 * path is rejected with an error that names the platform and both versions.
 */
public final class NativeLoader {
    /** System property: absolute path of the native library to load instead of the bundled one. */
    public static final String PATH_PROPERTY = "esl4j.native.path";
    /** System property: folder for the extracted copy of the bundled library. */
    public static final String TMPDIR_PROPERTY = "esl4j.native.tmpdir";
    /** Base name of the library ({@code libesl4j_jni.so}, {@code esl4j_jni.dll}, ...). */
    public static final String LIBRARY_NAME = "esl4j_jni";

    private static String loadedFrom;

    private NativeLoader() {
    }

    /**
     * Loads the library unless this class loader already did.
     *
     * @throws UnsatisfiedLinkError with the platform, version and every place tried
     */
    static synchronized void load() {
        if (loadedFrom != null) {
            return;
        }
        String from = loadFirstAvailable(System.getProperty(PATH_PROPERTY), resourcePath(platformId()), LIBRARY_NAME);
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
     * @param resource the class-path resource of the bundled library
     * @param libraryName the name for {@code System.loadLibrary}
     * @return a description of the source that was loaded
     * @throws UnsatisfiedLinkError listing every attempt
     */
    static String loadFirstAvailable(String overridePath, String resource, String libraryName) {
        List<String> attempts = new ArrayList<>();
        if (overridePath != null && !overridePath.isEmpty()) {
            // An explicit override must win or fail loudly, never fall back silently.
            try {
                System.load(new File(overridePath).getAbsolutePath());
                return "property:" + overridePath;
            } catch (UnsatisfiedLinkError e) {
                throw linkError("-D" + PATH_PROPERTY + "=" + overridePath + " could not be loaded: " + e.getMessage(),
                        null);
            }
        }
        try (InputStream in = NativeLoader.class.getClassLoader() == null
                ? ClassLoader.getSystemResourceAsStream(resource)
                : NativeLoader.class.getClassLoader().getResourceAsStream(resource)) {
            if (in != null) {
                loadExtracted(in);
                return "bundled:" + resource;
            }
            attempts.add("no bundled resource " + resource);
        } catch (IOException | UnsatisfiedLinkError e) {
            attempts.add("bundled " + resource + ": " + e);
        }
        try {
            System.loadLibrary(libraryName);
            return "library-path:" + libraryName;
        } catch (UnsatisfiedLinkError e) {
            attempts.add("java.library.path (" + System.getProperty("java.library.path") + "): " + e.getMessage());
        }
        throw linkError("no esl4j native library for this platform", attempts);
    }

    private static void loadExtracted(InputStream in) throws IOException {
        String mapped = System.mapLibraryName(LIBRARY_NAME);
        int dot = mapped.lastIndexOf('.');
        String suffix = dot < 0 ? "" : mapped.substring(dot);
        String tmp = System.getProperty(TMPDIR_PROPERTY, System.getProperty("java.io.tmpdir"));
        Path dir = new File(tmp).toPath();
        Files.createDirectories(dir);
        // createTempFile makes a new, unique, owner-only file: no other JVM can race on it.
        Path file = Files.createTempFile(dir, LIBRARY_NAME + "-" + version() + "-", suffix);
        boolean windows = platformId().startsWith("windows");
        try {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            System.load(file.toAbsolutePath().toString());
        } finally {
            if (windows) {
                file.toFile().deleteOnExit();
            } else {
                // Unix keeps the mapping after unlink, so nothing is left behind even on a crash.
                Files.deleteIfExists(file);
            }
        }
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
        Properties properties = new Properties();
        try (InputStream in = NativeLoader.class.getResourceAsStream("esl4j-native.properties")) {
            if (in != null) {
                properties.load(in);
            }
        } catch (IOException e) {
            return "unknown";
        }
        return properties.getProperty("version", "unknown");
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
     * The class-path resource of the bundled library for a platform.
     *
     * @param platform a {@link #platformId()}
     * @return e.g. {@code native/linux-x86_64/libesl4j_jni.so}
     */
    public static String resourcePath(String platform) {
        return "native/" + platform + "/" + System.mapLibraryName(LIBRARY_NAME);
    }
}
