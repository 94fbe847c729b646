package org.esl4j.dial;

import java.util.Objects;

/**
 * Where one leg of a call goes: a FreeSWITCH endpoint string such as {@code user/1000}, {@code
 * sofia/gateway/gw1/13800138000} or {@code loopback/answer/default}.
 *
 * <p>The text is checked, never escaped: an endpoint is not inside a variable block, so characters
 * that separate legs or blocks ({@code , | [ ] { } < > ' \}, blanks, control characters) and the
 * enterprise separator {@code :_:} are rejected rather than silently changing the call. Put
 * options into leg variables instead (see {@link Leg}).
 *
 * <pre>{@code
 * Endpoint carrier = Endpoint.gateway("gw1", "13800138000");
 * Endpoint agent = Endpoint.user("1000");
 * }</pre>
 */
public final class Endpoint {
    private static final String FORBIDDEN = ",|[]{}<>'\\\"()";

    private final String text;

    private Endpoint(String text) {
        this.text = text;
    }

    /**
     * An endpoint given as FreeSWITCH writes it.
     *
     * @param text e.g. {@code "sofia/internal/1000@example.com"}
     * @return the endpoint
     * @throws IllegalArgumentException when the text could break the dial string
     */
    public static Endpoint of(String text) {
        Objects.requireNonNull(text, "text");
        if (text.isEmpty() || text.indexOf('/') < 0) {
            throw new IllegalArgumentException("endpoint must look like type/data: " + text);
        }
        if (text.contains(":_:")) {
            throw new IllegalArgumentException("endpoint contains the enterprise separator ':_:': " + text);
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c <= ' ' || c == 0x7f || FORBIDDEN.indexOf(c) >= 0) {
                throw new IllegalArgumentException("character '" + c + "' not allowed in an endpoint: " + text);
            }
        }
        return new Endpoint(text);
    }

    /**
     * A directory user, {@code user/<id>}.
     *
     * @param id the user id, e.g. {@code "1000"}
     * @return the endpoint
     */
    public static Endpoint user(String id) {
        return of("user/" + id);
    }

    /**
     * A directory user in a domain, {@code user/<id>@<domain>}.
     *
     * @param id the user id
     * @param domain the domain
     * @return the endpoint
     */
    public static Endpoint user(String id, String domain) {
        return of("user/" + id + "@" + domain);
    }

    /**
     * A number through a sofia gateway, {@code sofia/gateway/<gateway>/<number>}.
     *
     * @param gateway the gateway name
     * @param number the number to dial
     * @return the endpoint
     */
    public static Endpoint gateway(String gateway, String number) {
        return of("sofia/gateway/" + gateway + "/" + number);
    }

    /**
     * A loopback into the dialplan, {@code loopback/<extension>/<context>}.
     *
     * @param extension the extension to run
     * @param context the dialplan context
     * @return the endpoint
     */
    public static Endpoint loopback(String extension, String context) {
        return of("loopback/" + extension + "/" + context);
    }

    /**
     * The endpoint text.
     *
     * @return e.g. {@code "user/1000"}
     */
    public String text() {
        return text;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Endpoint && ((Endpoint) other).text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }
}
