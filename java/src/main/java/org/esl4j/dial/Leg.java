package org.esl4j.dial;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One leg of a dial string: an {@link Endpoint} plus variables that apply to that leg only (the
 * {@code [...]} block), including its own timeouts.
 *
 * <p>A per-leg no-answer timeout ({@link #timeout(Duration)}, FreeSWITCH's {@code leg_timeout})
 * ends only that leg, with cause {@code ALLOTTED_TIMEOUT}; failover to the next {@code |} group
 * then continues. FreeSWITCH compares whole seconds with {@code elapsed > N}, so a leg timeout of
 * N seconds fires after N to N+1 seconds. Durations are rounded up to whole seconds.
 *
 * <pre>{@code
 * Leg desk = Leg.to(Endpoint.user("1000")).timeout(Duration.ofSeconds(15));
 * Leg mobile = Leg.to(Endpoint.gateway("gw1", "13800138000")).variable("sip_h_X-Tag", "a,b c");
 * }</pre>
 *
 * <p>Immutable: every method returns a new leg.
 */
public final class Leg {
    /** Variables FreeSWITCH reads from the originate's variable event only (esl-protocol.md §3.1, §3.7). */
    private static final Set<String> WHOLE_ORIGINATE_ONLY = Collections.unmodifiableSet(new HashSet<>(Arrays.asList(
            "originate_timeout", "progress_timeout", "ignore_early_media", "originate_continue_on_timeout")));

    private final Endpoint endpoint;
    private final Map<String, String> variables;

    private Leg(Endpoint endpoint, Map<String, String> variables) {
        this.endpoint = endpoint;
        this.variables = variables;
    }

    /**
     * A leg to an endpoint, with no variables.
     *
     * @param endpoint where to call
     * @return the leg
     */
    public static Leg to(Endpoint endpoint) {
        return new Leg(Objects.requireNonNull(endpoint, "endpoint"), Collections.<String, String>emptyMap());
    }

    /**
     * A leg to an endpoint given as text, see {@link Endpoint#of(String)}.
     *
     * @param endpoint e.g. {@code "user/1000"}
     * @return the leg
     */
    public static Leg to(String endpoint) {
        return to(Endpoint.of(endpoint));
    }

    /**
     * Adds (or replaces) a channel variable for this leg only. Any value is allowed except
     * unbalanced {@code [ ]} and control characters other than CR, LF, TAB; it is escaped when
     * the dial string is rendered.
     *
     * <p>Variables that FreeSWITCH reads only from the whole originate ({@code {}}, {@code <>} or
     * exported), never from a leg's block, are refused, because in {@code []} they would be
     * silently ignored: {@code originate_timeout} (the classic "my timeout does not work" mistake),
     * {@code progress_timeout}, {@code ignore_early_media}, {@code originate_continue_on_timeout}.
     * Use {@link #timeout(Duration)} for a per-leg limit, or {@link DialString.Builder#variable}.
     *
     * @param name the variable name (letters, digits, {@code _ - .})
     * @param value the value
     * @return a new leg
     * @throws IllegalArgumentException for a name FreeSWITCH ignores in a leg block, or a value
     *     that cannot be delimited
     */
    public Leg variable(String name, String value) {
        Escaping.variableName(name);
        if (WHOLE_ORIGINATE_ONLY.contains(name)) {
            throw new IllegalArgumentException(name + " is read only from {} or <> (the whole originate);"
                    + " FreeSWITCH ignores it in a leg's [] block");
        }
        Escaping.checkValue(value, '[', ']');
        Map<String, String> copy = new LinkedHashMap<>(variables);
        copy.put(name, value);
        return new Leg(endpoint, Collections.unmodifiableMap(copy));
    }

    /**
     * Per-leg no-answer timeout ({@code leg_timeout}); the leg fails with {@code ALLOTTED_TIMEOUT}.
     *
     * @param timeout rounded up to whole seconds
     * @return a new leg
     */
    public Leg timeout(Duration timeout) {
        return variable("leg_timeout", Long.toString(WholeSeconds.roundUp(timeout, "leg timeout")));
    }

    /**
     * Per-leg progress timeout ({@code leg_progress_timeout}): fail the leg with {@code
     * PROGRESS_TIMEOUT} when it neither rings, sends early media nor answers in time.
     *
     * @param timeout rounded up to whole seconds
     * @return a new leg
     */
    public Leg progressTimeout(Duration timeout) {
        return variable("leg_progress_timeout", Long.toString(WholeSeconds.roundUp(timeout, "leg progress timeout")));
    }

    /**
     * Sets the UUID this leg's channel will get ({@code origination_uuid}), so it can be followed
     * (and filtered) before it exists.
     *
     * @param uuid the channel UUID
     * @return a new leg
     */
    public Leg uuid(String uuid) {
        return variable("origination_uuid", uuid);
    }

    /**
     * The endpoint.
     *
     * @return the endpoint
     */
    public Endpoint endpoint() {
        return endpoint;
    }

    /**
     * The leg's variables, in insertion order.
     *
     * @return an unmodifiable map
     */
    public Map<String, String> variables() {
        return variables;
    }

    /**
     * The leg as it appears in its {@code ,} group: the block and endpoint, escaped for the leg
     * split (the {@code |} layer is added by {@link DialString}).
     */
    String render() {
        if (variables.isEmpty()) {
            return endpoint.text();
        }
        boolean plain = true;
        for (String value : variables.values()) {
            plain &= isPlain(value);
        }
        char delimiter = plain ? ',' : Escaping.LEG_BLOCK_DELIMITER;
        StringBuilder block = new StringBuilder();
        if (!plain) {
            block.append("^^").append(delimiter);
        }
        boolean first = true;
        for (Map.Entry<String, String> variable : variables.entrySet()) {
            if (!first) {
                block.append(delimiter);
            }
            first = false;
            block.append(variable.getKey()).append('=').append(Escaping.blockValue(variable.getValue(), delimiter));
        }
        // A plain block has nothing to escape, and its commas must stay bare: they separate its
        // variables. The ^^ form has only literal commas, which the leg split must not cut at.
        String blockText = plain ? block.toString() : Escaping.splitLayer(block.toString(), ',');
        return "[" + blockText + "]" + endpoint.text();
    }

    /** Whether a value passes every layer unchanged, so the ordinary {@code [a=1,b=2]} form works. */
    private static boolean isPlain(String value) {
        if (value.charAt(0) == ' ' || value.charAt(value.length() - 1) == ' ') {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == ',' || c == '\'' || c == '\\' || c == '|' || c == ';') {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Leg
                && ((Leg) other).endpoint.equals(endpoint)
                && ((Leg) other).variables.equals(variables);
    }

    @Override
    public int hashCode() {
        return endpoint.hashCode() * 31 + variables.hashCode();
    }

    @Override
    public String toString() {
        return render();
    }
}
