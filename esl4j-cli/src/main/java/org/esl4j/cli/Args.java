package org.esl4j.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command line split into options ({@code --name value}, {@code --name=value}, flags) and
 * positional words. Options may appear anywhere; {@code --} ends them.
 */
final class Args {
    /** A command line the user got wrong: reported with the usage and exit code 2. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private final Map<String, List<String>> options = new LinkedHashMap<>();
    private final Set<String> flags = new HashSet<>();
    private final List<String> words = new ArrayList<>();
    private final Set<String> used = new HashSet<>();

    private Args() {
    }

    /**
     * Parses {@code argv}.
     *
     * @param argv the arguments
     * @param flagNames options that take no value (e.g. {@code help})
     * @return the parsed line
     */
    static Args parse(String[] argv, Set<String> flagNames) {
        Args args = new Args();
        boolean optionsEnded = false;
        for (int i = 0; i < argv.length; i++) {
            String arg = argv[i];
            if (optionsEnded || !arg.startsWith("-") || arg.equals("-")) {
                args.words.add(arg);
            } else if (arg.equals("--")) {
                optionsEnded = true;
            } else if (arg.equals("-h")) {
                args.flags.add("help");
            } else if (arg.startsWith("--")) {
                String name = arg.substring(2);
                String value = null;
                int equals = name.indexOf('=');
                if (equals >= 0) {
                    value = name.substring(equals + 1);
                    name = name.substring(0, equals);
                }
                if (flagNames.contains(name)) {
                    if (value != null) {
                        throw new UsageException("--" + name + " takes no value");
                    }
                    args.flags.add(name);
                    continue;
                }
                if (value == null) {
                    if (i + 1 >= argv.length) {
                        throw new UsageException("--" + name + " needs a value");
                    }
                    value = argv[++i];
                }
                args.options.computeIfAbsent(name, key -> new ArrayList<>()).add(value);
            } else {
                throw new UsageException("unknown option " + arg);
            }
        }
        return args;
    }

    boolean flag(String name) {
        used.add(name);
        return flags.contains(name);
    }

    /** The last value of an option, or {@code fallback}. */
    String option(String name, String fallback) {
        used.add(name);
        List<String> values = options.get(name);
        return values == null ? fallback : values.get(values.size() - 1);
    }

    /** Every value of a repeatable option. */
    List<String> options(String name) {
        used.add(name);
        List<String> values = options.get(name);
        return values == null ? Collections.<String>emptyList() : values;
    }

    int intOption(String name, int fallback, int min, int max) {
        String text = option(name, null);
        if (text == null) {
            return fallback;
        }
        int value;
        try {
            value = Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a whole number: " + text);
        }
        if (value < min || value > max) {
            throw new UsageException("--" + name + " must be between " + min + " and " + max + ": " + text);
        }
        return value;
    }

    /** A duration in (possibly fractional) seconds. */
    Duration seconds(String name, Duration fallback) {
        String text = option(name, null);
        if (text == null) {
            return fallback;
        }
        double seconds;
        try {
            seconds = Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a number of seconds: " + text);
        }
        if (!(seconds > 0) || seconds > 86_400 * 7) {
            throw new UsageException("--" + name + " must be more than 0 and at most a week of seconds: " + text);
        }
        return Duration.ofMillis(Math.round(seconds * 1000));
    }

    List<String> words() {
        return words;
    }

    /** Fails on any option nobody asked for, so a typo never passes silently. */
    void rejectUnknown() {
        for (String name : options.keySet()) {
            if (!used.contains(name)) {
                throw new UsageException("unknown option --" + name);
            }
        }
        for (String name : flags) {
            if (!used.contains(name)) {
                throw new UsageException("unknown option --" + name);
            }
        }
    }
}
