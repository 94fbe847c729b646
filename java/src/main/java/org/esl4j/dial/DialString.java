package org.esl4j.dial;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A FreeSWITCH dial string: optional enterprise variables {@code <...>}, global variables {@code
 * {...}} set on every leg, and one or more sequential groups ({@code |}) of legs that ring
 * simultaneously ({@code ,}).
 *
 * <pre>{@code
 * DialString dial = DialString.builder()
 *         .variable("origination_caller_id_number", "4000")
 *         .group(Leg.to("user/1000"), Leg.to("user/1001"))      // ring both
 *         .group(Leg.to(Endpoint.gateway("gw1", "13800138000"))) // then fail over
 *         .build();
 * dial.render();  // {origination_caller_id_number=4000}user/1000,user/1001|sofia/gateway/gw1/13800138000
 * }</pre>
 *
 * <p>Values may hold commas, quotes, blanks, {@code =}, {@code |}, backslashes, newlines and any
 * Unicode text: {@link #render()} escapes them for each layer FreeSWITCH splits the string with
 * (for a leg block that needs escaping it uses the {@code [^^;a=1;b=2]} form). The only values
 * rejected are those with unbalanced brackets of their own block kind, which FreeSWITCH cannot
 * delimit, and control characters other than CR, LF and TAB. {@link #render()} gives the text for
 * an application argument (the {@code sendmsg} / {@code execute bridge} path); the {@code
 * originate} API adds one more quoting layer, which {@link OriginateRequest} applies.
 *
 * <p>The no-answer timeouts are best set through {@link OriginateRequest} and {@link
 * BridgeRequest}, which choose the variables that work on each path; a raw {@code
 * variable("originate_timeout", "30")} here is still honoured, because FreeSWITCH reads {@code
 * originate_timeout} from this global block only.
 */
public final class DialString {
    private final Map<String, String> enterpriseVariables;
    private final Map<String, String> variables;
    private final List<List<Leg>> groups;

    private DialString(Map<String, String> enterpriseVariables, Map<String, String> variables, List<List<Leg>> groups) {
        this.enterpriseVariables = enterpriseVariables;
        this.variables = variables;
        this.groups = groups;
    }

    /**
     * A dial string that rings these legs simultaneously.
     *
     * @param legs one or more legs
     * @return the dial string
     */
    public static DialString of(Leg... legs) {
        return builder().group(legs).build();
    }

    /**
     * A dial string to one endpoint.
     *
     * @param endpoint where to call
     * @return the dial string
     */
    public static DialString of(Endpoint endpoint) {
        return of(Leg.to(endpoint));
    }

    /**
     * Starts an empty dial string.
     *
     * @return a builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder holding this dial string's parts, to add to them.
     *
     * @return a builder
     */
    public Builder toBuilder() {
        Builder builder = new Builder();
        builder.enterpriseVariables.putAll(enterpriseVariables);
        builder.variables.putAll(variables);
        builder.groups.addAll(groups);
        return builder;
    }

    /**
     * The global variables, in order.
     *
     * @return an unmodifiable map
     */
    public Map<String, String> variables() {
        return variables;
    }

    /**
     * The enterprise ({@code <>}) variables, in order.
     *
     * @return an unmodifiable map
     */
    public Map<String, String> enterpriseVariables() {
        return enterpriseVariables;
    }

    /**
     * The sequential groups, each a list of simultaneous legs.
     *
     * @return an unmodifiable list
     */
    public List<List<Leg>> groups() {
        return groups;
    }

    /**
     * Every leg of every group, in order.
     *
     * @return a new list
     */
    public List<Leg> legs() {
        List<Leg> all = new ArrayList<>();
        for (List<Leg> group : groups) {
            all.addAll(group);
        }
        return all;
    }

    /**
     * The value a leg's channel really gets for a variable: a global value ({@code {}}, else
     * {@code <>}) overrides the leg's own {@code []} value, unless {@code local_var_clobber} is
     * true (FreeSWITCH installs the global block on every leg after the leg's block).
     *
     * @param leg one of this dial string's legs
     * @param name the variable name
     * @return the value, or null when neither block sets it
     */
    String effectiveLegVariable(Leg leg, String name) {
        String global = global(name);
        String local = leg.variables().get(name);
        if (global == null || local == null) {
            return global == null ? local : global;
        }
        return isSwitchTrue(global("local_var_clobber")) ? local : global;
    }

    /**
     * The {@code origination_uuid} each leg's channel will get, in leg order.
     *
     * @return one entry per leg (null where none is set)
     */
    List<String> legUuids() {
        List<String> uuids = new ArrayList<>();
        for (Leg leg : legs()) {
            uuids.add(effectiveLegVariable(leg, "origination_uuid"));
        }
        return Collections.unmodifiableList(uuids);
    }

    /**
     * A global variable read as FreeSWITCH reads a number of seconds ({@code atoi}: the leading
     * digits).
     *
     * @param name the variable name
     * @return the seconds, or 0 when unset or not a positive number
     */
    long globalSeconds(String name) {
        String value = global(name);
        if (value == null) {
            return 0;
        }
        String text = value.trim();
        int end = 0;
        while (end < text.length() && end < 18 && Character.isDigit(text.charAt(end))) {
            end++;
        }
        return end == 0 ? 0 : Long.parseLong(text.substring(0, end));
    }

    /** A variable of the global block, or of the enterprise block, which {@code {}} overrides. */
    private String global(String name) {
        String value = variables.get(name);
        return value != null ? value : enterpriseVariables.get(name);
    }

    /** FreeSWITCH's {@code switch_true}. */
    private static boolean isSwitchTrue(String value) {
        if (value == null) {
            return false;
        }
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        if (v.equals("yes") || v.equals("on") || v.equals("true") || v.equals("t") || v.equals("enabled")
                || v.equals("active") || v.equals("allow")) {
            return true;
        }
        try {
            return Integer.parseInt(v) != 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * The dial string as an application argument ({@code bridge} via {@code sendmsg}, or inside
     * {@code &bridge(...)} before the API quoting).
     *
     * @return the text; it never contains a raw CR or LF
     */
    public String render() {
        StringBuilder out = new StringBuilder();
        appendBlock(out, '<', '>', enterpriseVariables);
        appendBlock(out, '{', '}', variables);
        for (int g = 0; g < groups.size(); g++) {
            if (g > 0) {
                out.append('|');
            }
            StringBuilder group = new StringBuilder();
            for (int l = 0; l < groups.get(g).size(); l++) {
                if (l > 0) {
                    group.append(',');
                }
                group.append(groups.get(g).get(l).render());
            }
            out.append(Escaping.splitLayer(group.toString(), '|'));
        }
        return out.toString();
    }

    private static void appendBlock(StringBuilder out, char open, char close, Map<String, String> block) {
        if (block.isEmpty()) {
            return;
        }
        out.append(open);
        boolean first = true;
        for (Map.Entry<String, String> variable : block.entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            out.append(variable.getKey()).append('=').append(Escaping.blockValue(variable.getValue(), ','));
        }
        out.append(close);
    }

    @Override
    public boolean equals(Object other) {
        if (!(other instanceof DialString)) {
            return false;
        }
        DialString that = (DialString) other;
        return enterpriseVariables.equals(that.enterpriseVariables)
                && variables.equals(that.variables)
                && groups.equals(that.groups);
    }

    @Override
    public int hashCode() {
        return Objects.hash(enterpriseVariables, variables, groups);
    }

    @Override
    public String toString() {
        return render();
    }

    /** Collects the parts of a {@link DialString}. Not thread-safe. */
    public static final class Builder {
        private final Map<String, String> enterpriseVariables = new LinkedHashMap<>();
        private final Map<String, String> variables = new LinkedHashMap<>();
        private final List<List<Leg>> groups = new ArrayList<>();

        private Builder() {}

        /**
         * Adds (or replaces) a global variable, set on every leg ({@code {...}}). By default it
         * overrides a leg variable of the same name; {@code local_var_clobber=true} reverses that.
         *
         * @param name letters, digits, {@code _ - .}
         * @param value any text with balanced {@code { }}
         * @return this builder
         */
        public Builder variable(String name, String value) {
            Escaping.variableName(name);
            Escaping.checkValue(value, '{', '}');
            variables.put(name, value);
            return this;
        }

        /**
         * Adds (or replaces) an enterprise variable ({@code <...>}). Note that FreeSWITCH's
         * enterprise originate always sets {@code ignore_early_media=true}.
         *
         * @param name letters, digits, {@code _ - .}
         * @param value any text with balanced {@code < >}
         * @return this builder
         */
        public Builder enterpriseVariable(String name, String value) {
            Escaping.variableName(name);
            Escaping.checkValue(value, '<', '>');
            enterpriseVariables.put(name, value);
            return this;
        }

        /**
         * Adds a group of legs that ring simultaneously; each group is tried after the previous
         * one failed ({@code |} failover).
         *
         * @param legs one or more legs
         * @return this builder
         */
        public Builder group(Leg... legs) {
            return group(Arrays.asList(legs));
        }

        /**
         * Adds a group of legs that ring simultaneously, see {@link #group(Leg...)}.
         *
         * @param legs one or more legs
         * @return this builder
         */
        public Builder group(List<Leg> legs) {
            if (legs.isEmpty()) {
                throw new IllegalArgumentException("a group needs at least one leg");
            }
            for (Leg leg : legs) {
                Objects.requireNonNull(leg, "leg");
            }
            groups.add(Collections.unmodifiableList(new ArrayList<>(legs)));
            return this;
        }

        /**
         * Replaces every leg with the result of a function, e.g. to give each its own UUID.
         *
         * @param change applied to every leg
         * @return this builder
         */
        Builder mapLegs(UnaryOperator<Leg> change) {
            for (int g = 0; g < groups.size(); g++) {
                List<Leg> changed = new ArrayList<>();
                for (Leg leg : groups.get(g)) {
                    changed.add(change.apply(leg));
                }
                groups.set(g, Collections.unmodifiableList(changed));
            }
            return this;
        }

        /**
         * Makes the dial string.
         *
         * @return the immutable dial string
         * @throws IllegalStateException when no leg was added
         */
        public DialString build() {
            if (groups.isEmpty()) {
                throw new IllegalStateException("a dial string needs at least one leg");
            }
            return new DialString(
                    Collections.unmodifiableMap(new LinkedHashMap<>(enterpriseVariables)),
                    Collections.unmodifiableMap(new LinkedHashMap<>(variables)),
                    Collections.unmodifiableList(new ArrayList<>(groups)));
        }
    }
}
