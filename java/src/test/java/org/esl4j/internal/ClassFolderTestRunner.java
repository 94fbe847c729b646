package org.esl4j.internal;

import java.io.File;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.Test;
import org.junit.runner.JUnitCore;
import org.junit.runner.Result;
import org.junit.runner.notification.Failure;

/**
 * Runs every JUnit 4 test class found in class folders, outside Gradle's test worker.
 *
 * <p>Gradle 4.4's test worker cannot start on Java 24+ (it installs a SecurityManager), yet the
 * library has paths that only run on Java 21+ (virtual threads for outbound sessions) and Java 24+
 * prints restricted-method warnings for {@code System.load}. The build's {@code testOnNewerJava}
 * task runs this class on such a JVM. Usage: {@code ClassFolderTestRunner <folder>[:<folder>...]
 * [ExcludedClassName ...]}; exits 1 when a test fails or no test is found.
 */
public final class ClassFolderTestRunner {
    private ClassFolderTestRunner() {
    }

    /**
     * Entry point.
     *
     * @param args the class folders (path-separated), then fully qualified class names to skip
     * @throws ClassNotFoundException when a class file found cannot be loaded
     */
    public static void main(String[] args) throws ClassNotFoundException {
        if (args.length == 0) {
            System.err.println("usage: ClassFolderTestRunner <folder>[:<folder>...] [ExcludedClass ...]");
            System.exit(2);
        }
        Set<String> excluded = new HashSet<>(Arrays.asList(args).subList(1, args.length));
        List<Class<?>> testClasses = new ArrayList<>();
        for (String folder : args[0].split(File.pathSeparator)) {
            File root = new File(folder);
            collect(root, root, excluded, testClasses);
        }
        Result result = new JUnitCore().run(testClasses.toArray(new Class<?>[0]));
        for (Failure failure : result.getFailures()) {
            System.out.println("FAILED " + failure.getTestHeader() + ": " + failure.getTrace());
        }
        int failed = result.getFailureCount();
        int skipped = result.getIgnoreCount();
        int passed = result.getRunCount() - failed;
        System.out.println("JUnit on Java " + System.getProperty("java.version") + ": " + passed + " passed, "
                + failed + " failed, " + skipped + " skipped (" + testClasses.size() + " classes)");
        System.exit(failed == 0 && result.getRunCount() > 0 ? 0 : 1);
    }

    private static void collect(File root, File dir, Set<String> excluded, List<Class<?>> out)
            throws ClassNotFoundException {
        File[] entries = dir.listFiles();
        if (entries == null) {
            return;
        }
        Arrays.sort(entries);
        for (File entry : entries) {
            if (entry.isDirectory()) {
                collect(root, entry, excluded, out);
                continue;
            }
            String name = entry.getName();
            if (!name.endsWith("Test.class") || name.contains("$")) {
                continue;
            }
            String relative = root.toURI().relativize(entry.toURI()).getPath();
            String className = relative.substring(0, relative.length() - ".class".length()).replace('/', '.');
            if (excluded.contains(className)) {
                continue;
            }
            Class<?> type = Class.forName(className);
            if (!Modifier.isAbstract(type.getModifiers()) && hasTests(type)) {
                out.add(type);
            }
        }
    }

    private static boolean hasTests(Class<?> type) {
        for (Method method : type.getMethods()) {
            if (method.isAnnotationPresent(Test.class)) {
                return true;
            }
        }
        return false;
    }
}
