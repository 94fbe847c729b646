package org.esl4j.bench;

/** Settings passed by the Gradle task as system properties. */
final class Config {
    private Config() {
    }

    /** A required system property. */
    static String required(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException("system property " + name + " is not set (run through `gradle bench`)");
        }
        return value;
    }
}
