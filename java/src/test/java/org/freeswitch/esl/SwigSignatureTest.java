package org.freeswitch.esl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.Test;

/** The compat classes expose every public signature of the SWIG binding (tests/compat). */
public class SwigSignatureTest {
    private static List<String> expected() throws IOException {
        File file = new File(System.getProperty("esl4j.compat.signatures", "tests/compat"), "swig-signatures.txt");
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file.toPath(), StandardCharsets.UTF_8)) {
            if (!line.trim().isEmpty() && !line.startsWith("#")) {
                lines.add(line.trim());
            }
        }
        return lines;
    }

    private static String parameters(Class<?>[] types) {
        StringBuilder text = new StringBuilder("(");
        for (int i = 0; i < types.length; i++) {
            text.append(i == 0 ? "" : ",").append(types[i].getName());
        }
        return text.append(')').toString();
    }

    private static Set<String> actual(String simpleName) throws ClassNotFoundException {
        Class<?> type = Class.forName("org.freeswitch.esl." + simpleName);
        assertTrue(simpleName + " must be public", Modifier.isPublic(type.getModifiers()));
        Set<String> signatures = new TreeSet<>();
        for (Constructor<?> constructor : type.getConstructors()) {
            signatures.add(simpleName + " void <init>" + parameters(constructor.getParameterTypes()));
        }
        for (Method method : type.getMethods()) {
            if (method.getDeclaringClass() == type) {
                signatures.add(simpleName + " " + method.getReturnType().getName() + " " + method.getName()
                        + parameters(method.getParameterTypes()));
            }
        }
        return signatures;
    }

    @Test
    public void everySwigSignatureExistsWithTheSameReturnType() throws Exception {
        List<String> expected = expected();
        assertTrue("the expected list looks truncated", expected.size() >= 45);
        List<String> missing = new ArrayList<>();
        for (String signature : expected) {
            String simpleName = signature.substring(0, signature.indexOf(' '));
            if (!actual(simpleName).contains(signature)) {
                missing.add(signature);
            }
        }
        assertEquals("missing SWIG signatures", new ArrayList<String>(), missing);
    }
}
