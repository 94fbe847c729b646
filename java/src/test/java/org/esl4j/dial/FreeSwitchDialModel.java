package org.esl4j.dial;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A port of the FreeSWITCH code that takes a dial string apart ({@code switch_separate_string},
 * {@code cleanup_separated_string}, {@code switch_find_end_paren}, {@code
 * switch_event_create_brackets}, the {@code |} / {@code ,} splits of {@code switch_ivr_originate}
 * and the argument split of the {@code originate} API), used to check that what the builders
 * render comes out of FreeSWITCH as the values that went in. Written from fs:src/switch_utils.c,
 * fs:src/switch_event.c, fs:src/switch_ivr_originate.c and mod_commands.c.
 */
final class FreeSwitchDialModel {
    private static final char QUOTED_ESC_COMMA = 1;
    private static final char UNQUOTED_ESC_COMMA = 2;

    private FreeSwitchDialModel() {}

    /** One leg as FreeSWITCH sees it. */
    static final class ParsedLeg {
        final Map<String, String> variables = new LinkedHashMap<>();
        String endpoint;
    }

    /** A whole dial string as FreeSWITCH sees it. */
    static final class ParsedDial {
        final Map<String, String> enterprise = new LinkedHashMap<>();
        final Map<String, String> globals = new LinkedHashMap<>();
        final List<List<ParsedLeg>> groups = new ArrayList<>();
    }

    /** The arguments of the originate API as FreeSWITCH sees them. */
    static final class ParsedOriginate {
        String dial;
        String applicationName;
        String applicationArgument;
        List<String> rest = new ArrayList<>();
    }

    private static char unescape(char c) {
        switch (c) {
            case 'n':
                return '\n';
            case 'r':
                return '\r';
            case 't':
                return '\t';
            case 's':
                return ' ';
            default:
                return c;
        }
    }

    static String cleanup(String s, char delim) {
        int p = 0;
        while (p < s.length() && s.charAt(p) == ' ') {
            p++;
        }
        StringBuilder out = new StringBuilder();
        int end = -1;
        boolean inQuotes = false;
        for (; p < s.length(); p++) {
            char c = s.charAt(p);
            boolean escaped = false;
            if (c == '\\' && p + 1 < s.length()) {
                char e = s.charAt(p + 1);
                if (e == '\'' || e == '"' || (delim != 0 && e == delim) || e == '\\' || unescape(e) != e) {
                    p++;
                    out.append(unescape(e) != e ? unescape(e) : e);
                    end = out.length();
                    escaped = true;
                }
            }
            if (!escaped) {
                if (c == '\'') {
                    inQuotes = !inQuotes;
                } else {
                    out.append(c);
                    if (c != ' ' || inQuotes) {
                        end = out.length();
                    }
                }
            }
        }
        return end >= 0 ? out.substring(0, end) : out.toString();
    }

    static List<String> separate(String buf, char delim, int max) {
        if (buf.length() >= 4 && buf.charAt(0) == '^' && buf.charAt(1) == '^') {
            delim = buf.charAt(2);
            buf = buf.substring(3);
        }
        return delim == ' ' ? separateBlank(buf, max) : separateChar(buf, delim, max);
    }

    private static List<String> separateChar(String buf, char delim, int max) {
        List<int[]> spans = new ArrayList<>();
        boolean start = true;
        boolean inQuotes = false;
        int p = 0;
        while (p < buf.length() && spans.size() < max) {
            if (start) {
                spans.add(new int[] {p, buf.length()});
                start = false;
                continue;
            }
            char c = buf.charAt(p);
            if (c == '\\') {
                p++;
            } else if (c == '\'' && (inQuotes || buf.indexOf('\'', p + 1) >= 0)) {
                inQuotes = !inQuotes;
            } else if (c == delim && !inQuotes) {
                spans.get(spans.size() - 1)[1] = p;
                start = true;
            }
            p++;
        }
        return cleanAll(buf, spans, delim);
    }

    private static List<String> separateBlank(String buf, int max) {
        List<int[]> spans = new ArrayList<>();
        int state = 0; // 0 START, 1 SKIP_INITIAL_SPACE, 2 FIND_DELIM, 3 SKIP_ENDING_SPACE
        boolean inQuotes = false;
        int p = 0;
        while (p < buf.length() && spans.size() < max) {
            char c = buf.charAt(p);
            if (state == 0) {
                spans.add(new int[] {p, buf.length()});
                state = 1;
            } else if (state == 1) {
                if (c == ' ') {
                    p++;
                } else {
                    state = 2;
                }
            } else if (state == 2) {
                if (c == '\\') {
                    p++;
                } else if (c == '\'') {
                    inQuotes = !inQuotes;
                } else if (c == ' ' && !inQuotes) {
                    spans.get(spans.size() - 1)[1] = p;
                    state = 3;
                }
                p++;
            } else {
                if (c == ' ') {
                    p++;
                } else {
                    state = 0;
                }
            }
        }
        return cleanAll(buf, spans, (char) 0);
    }

    private static List<String> cleanAll(String buf, List<int[]> spans, char delim) {
        List<String> tokens = new ArrayList<>();
        for (int[] span : spans) {
            tokens.add(cleanup(buf.substring(span[0], Math.min(span[1], buf.length())), delim));
        }
        return tokens;
    }

    static int findEndParen(String s, int from, char open, char close) {
        int i = from;
        while (i < s.length() && s.charAt(i) == ' ') {
            i++;
        }
        if (i >= s.length() || s.charAt(i) != open) {
            return -1;
        }
        int depth = 1;
        for (int e = i + 1; e < s.length(); e++) {
            if (s.charAt(e) == open && open != close) {
                depth++;
            } else if (s.charAt(e) == close && --depth == 0) {
                return e;
            }
        }
        return -1;
    }

    /** {@code switch_event_create_brackets} for one block at the start of data; returns the rest. */
    static String brackets(String data, char open, char close, char delim, Map<String, String> into) {
        int end = findEndParen(data, 0, open, close);
        if (end < 0) {
            throw new IllegalArgumentException("FreeSWITCH: Parse Error! (no end of " + open + " block) in " + data);
        }
        String content = data.substring(data.indexOf(open) + 1, end);
        if (content.startsWith("^^") && content.length() > 2) {
            delim = content.charAt(2);
            content = content.substring(3);
        }
        for (String item : separate(content, delim, 1024)) {
            List<String> pair = separate(item, '=', 2);
            if (pair.size() == 2) {
                into.put(pair.get(0), pair.get(1));
            }
        }
        return data.substring(end + 1);
    }

    static ParsedDial parseDial(String data) {
        ParsedDial parsed = new ParsedDial();
        data = stripLeadingBlanks(data);
        if (data.startsWith("<")) {
            data = brackets(data, '<', '>', ',', parsed.enterprise);
        }
        while (data.startsWith("{")) {
            data = stripLeadingBlanks(brackets(data, '{', '}', ',', parsed.globals));
        }
        for (String group : separate(data, '|', 128)) {
            char[] chars = group.toCharArray();
            int end = -1;
            boolean quoted = false;
            boolean alt = false;
            for (int p = 0; p < chars.length; p++) {
                if (chars[p] == '[') {
                    end = findEndParen(group, p, '[', ']');
                    alt = p + 2 < chars.length && chars[p + 1] == '^' && chars[p + 2] == '^';
                    quoted = false;
                }
                if (chars[p] == '\'') {
                    quoted = !quoted;
                }
                if (end >= 0 && p < end && chars[p] == ',' && (p == 0 || chars[p - 1] != '\\')) {
                    chars[p] = quoted || alt ? QUOTED_ESC_COMMA : UNQUOTED_ESC_COMMA;
                }
                if (p == end) {
                    end = -1;
                }
            }
            List<ParsedLeg> legs = new ArrayList<>();
            for (String legText : separate(new String(chars), ',', 128)) {
                ParsedLeg leg = new ParsedLeg();
                String rest = stripLeadingBlanks(legText);
                while (rest.startsWith("[")) {
                    int blockEnd = findEndParen(rest, 0, '[', ']');
                    String block = blockEnd < 0 ? rest : rest.substring(0, blockEnd);
                    rest = block.replace(QUOTED_ESC_COMMA, ',') + rest.substring(block.length());
                    rest = brackets(rest, '[', ']', UNQUOTED_ESC_COMMA, leg.variables);
                }
                leg.endpoint = stripLeadingBlanks(rest);
                legs.add(leg);
            }
            parsed.groups.add(legs);
        }
        return parsed;
    }

    /** The {@code originate} API's handling of its argument line (after {@code originate }). */
    static ParsedOriginate parseOriginateArguments(String line) {
        List<String> argv = separate(line, ' ', 10);
        ParsedOriginate parsed = new ParsedOriginate();
        parsed.dial = argv.get(0);
        String exten = argv.get(1);
        if (exten.startsWith("&") && exten.length() > 1) {
            String app = exten.substring(1);
            int open = app.indexOf('(');
            if (open >= 0) {
                parsed.applicationName = app.substring(0, open);
                String argument = app.substring(open + 1);
                int close = argument.indexOf(')');
                parsed.applicationArgument = close >= 0 ? argument.substring(0, close) : argument;
            } else {
                parsed.applicationName = app;
            }
        } else {
            parsed.rest.add(exten);
        }
        parsed.rest.addAll(argv.subList(2, argv.size()));
        return parsed;
    }

    private static String stripLeadingBlanks(String s) {
        int i = 0;
        while (i < s.length() && s.charAt(i) == ' ') {
            i++;
        }
        return s.substring(i);
    }
}
