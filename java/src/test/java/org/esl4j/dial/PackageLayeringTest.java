package org.esl4j.dial;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.Test;

/**
 * {@code org.esl4j.dial} is the vocabulary the client package builds on (requests, dial strings,
 * causes, outcomes): its classes must name no type of another esl4j package, or the two packages
 * depend on each other again. Read from the compiled classes, so a reference in code counts and
 * one in a comment does not.
 */
public class PackageLayeringTest {
    private static final Pattern ESL4J_TYPE = Pattern.compile("org/esl4j/([A-Za-z0-9_/$]+)");

    @Test
    public void dialNamesNoOtherEsl4jPackage() throws Exception {
        Map<String, List<String>> foreignByClass = new TreeMap<>();
        List<Path> classes = dialClasses();
        assertTrue("found the compiled dial classes", classes.size() > 10);
        for (Path file : classes) {
            List<String> foreign = new ArrayList<>(new TreeSet<>(foreignReferences(Files.readAllBytes(file))));
            if (!foreign.isEmpty()) {
                foreignByClass.put(file.getFileName().toString(), foreign);
            }
        }
        assertEquals("dial classes naming other esl4j packages", new TreeMap<String, List<String>>(), foreignByClass);
    }

    @Test
    public void theCheckSeesAReferenceToTheClientPackage() throws IOException {
        // The client's EslClient names its ClientOptions in a method signature.
        byte[] clientClass = readResource("/org/esl4j/EslClient.class");
        assertTrue(foreignReferences(clientClass).contains("org/esl4j/ClientOptions"));
    }

    /** The esl4j types a class file names outside {@code org/esl4j/dial/}. */
    private static List<String> foreignReferences(byte[] classFile) {
        // Class and descriptor names are stored as modified UTF-8, ASCII for these names.
        Matcher matcher = ESL4J_TYPE.matcher(new String(classFile, StandardCharsets.ISO_8859_1));
        List<String> foreign = new ArrayList<>();
        while (matcher.find()) {
            if (!matcher.group(1).startsWith("dial/")) {
                foreign.add(matcher.group());
            }
        }
        return foreign;
    }

    private static List<Path> dialClasses() throws URISyntaxException, IOException {
        Path root = Paths.get(OutcomeEvent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (Stream<Path> files = Files.list(root.resolve("org/esl4j/dial"))) {
            return files.filter(file -> file.toString().endsWith(".class")).collect(Collectors.toList());
        }
    }

    private static byte[] readResource(String name) throws IOException {
        try (InputStream in = PackageLayeringTest.class.getResourceAsStream(name)) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            for (int n; (n = in.read(chunk)) > 0; ) {
                bytes.write(chunk, 0, n);
            }
            return bytes.toByteArray();
        }
    }
}
