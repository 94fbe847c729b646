package org.esl4j.internal;

import java.util.Objects;

/** Checks for the one-word parts of commands (event names, header names, UUIDs). Not API. */
public final class Words {
    private Words() {
    }

    /**
     * A non-empty value without blanks or control characters, so it cannot split a command line.
     *
     * @param value the value
     * @param what its name, for the exception
     * @return the value
     * @throws NullPointerException when null
     * @throws IllegalArgumentException when empty or when it has a blank or control character
     */
    public static String requireWord(String value, String what) {
        Objects.requireNonNull(value, what);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) <= ' ') {
                throw new IllegalArgumentException(what + " contains a blank or control character: " + value);
            }
        }
        return value;
    }
}
