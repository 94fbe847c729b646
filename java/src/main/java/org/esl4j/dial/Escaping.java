package org.esl4j.dial;

import java.util.Objects;

/**
 * The quoting layers a dial string passes through inside FreeSWITCH, each undone once.
 *
 * <p>FreeSWITCH splits with {@code switch_separate_string}: an unescaped {@code '} toggles quoting
 * and is removed, a backslash escapes {@code ' " \} and the split character, and {@code \n \r \t}
 * become control characters. That clean-up runs once per layer:
 *
 * <ol>
 *   <li>the {@code originate} API splits its line on blanks (API path only);
 *   <li>{@code switch_ivr_originate} splits on {@code |} (everything after the global block);
 *   <li>the legs of one group are split on {@code ,};
 *   <li>a variable block is split on its delimiter ({@code ,} for {@code {}} and {@code <>}, and
 *       {@code ^^;} for a {@code []} block that needs escaping, see {@link #LEG_BLOCK_DELIMITER});
 *   <li>each {@code name=value} pair is split at its first {@code =}.
 * </ol>
 *
 * Each method below escapes for exactly one layer, so the encoders compose from the innermost
 * layer outwards.
 */
final class Escaping {
    /**
     * The delimiter chosen with {@code ^^} for per-leg blocks. Inside {@code []} FreeSWITCH's
     * comma pre-scan toggles its quote state on every apostrophe, escaped or not; with the {@code
     * ^^} form it treats every comma in the block as literal, so values may hold commas and
     * apostrophes.
     */
    static final char LEG_BLOCK_DELIMITER = ';';

    private Escaping() {}

    /**
     * Escapes a value for a variable block with the given delimiter: first for the {@code =} split
     * of one {@code name=value} pair (which cleans the value up once more), then for the block's
     * own split.
     *
     * @throws IllegalArgumentException for an empty value (FreeSWITCH drops {@code name=}) and for
     *     control characters other than CR, LF and TAB
     */
    static String blockValue(String value, char delimiter) {
        return splitLayer(pairValue(value), delimiter);
    }

    /** Escapes a value for the clean-up of the {@code =} split of a pair. */
    static String pairValue(String value) {
        if (value.isEmpty()) {
            throw new IllegalArgumentException("FreeSWITCH ignores an empty value in a dial string");
        }
        StringBuilder out = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\':
                case '\'':
                    out.append('\\').append(c);
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                case ' ':
                    // The clean-up trims blanks at both ends; "\s" is its escape for a blank.
                    out.append(i == 0 || i == value.length() - 1 ? "\\s" : " ");
                    break;
                default:
                    if (c < 0x20 || c == 0x7f) {
                        throw new IllegalArgumentException(
                                "control character U+" + Integer.toHexString(c) + " in value: " + value);
                    }
                    out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Escapes text for one generic split layer with the given separator ({@code |}, the leg
     * {@code ,}): backslashes and apostrophes are doubled or escaped so the clean-up restores them,
     * and the separator is escaped so the split does not cut there.
     */
    static String splitLayer(String text, char separator) {
        StringBuilder out = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' || c == '\'' || c == separator) {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }

    /**
     * Makes one token of an {@code originate} / {@code bgapi originate} API line. The API splits
     * its line on blanks honouring single quotes and then strips them, so a token with blanks is
     * quoted, and backslashes and apostrophes are escaped for that clean-up.
     */
    static String apiToken(String text) {
        String escaped = splitLayer(text, '\'');
        return text.indexOf(' ') >= 0 || text.isEmpty() ? "'" + escaped + "'" : escaped;
    }

    /**
     * Checks a channel variable name: letters, digits and {@code _ - .}, which every layer passes
     * through unchanged (names are split at the first {@code =}).
     */
    static String variableName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("variable name is empty");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '_' || c == '-' || c == '.';
            if (!ok) {
                throw new IllegalArgumentException("invalid character '" + c + "' in variable name: " + name);
            }
        }
        return name;
    }

    /**
     * Checks a variable value when it is added, so a bad value fails where it was written: not
     * null, not empty (FreeSWITCH drops {@code name=}), no control characters but CR, LF and TAB,
     * and balanced brackets of the enclosing block. FreeSWITCH finds a block's end by counting
     * {@code open}/{@code close} without regard to quotes or escapes, so only balanced pairs (as in
     * {@code ${var}}) can appear in a value.
     */
    static String checkValue(String value, char open, char close) {
        Objects.requireNonNull(value, "value");
        pairValue(value);
        int depth = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == open) {
                depth++;
            } else if (c == close && --depth < 0) {
                break;
            }
        }
        if (depth != 0) {
            throw new IllegalArgumentException(
                    "unbalanced '" + open + "' / '" + close + "' in a value of a " + open + close + " block: " + value);
        }
        return value;
    }
}
