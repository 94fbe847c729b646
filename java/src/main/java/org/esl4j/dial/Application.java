package org.esl4j.dial;

import java.util.Objects;

/**
 * What the answered channel of an inbound {@code originate} does: run one application ({@code
 * &park()}, {@code &bridge(...)} for the callback pattern, any {@code &app(arg)}) or enter the
 * dialplan at an extension.
 *
 * <pre>{@code
 * Application.park();
 * Application.bridge(BridgeRequest.to(Endpoint.user("2000")).timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build());
 * Application.extension("1000", "XML", "default");
 * }</pre>
 */
public final class Application {
    private final String name;
    private final String argument;
    private final BridgeRequest bridge;
    private final String dialplan;
    private final String context;

    private Application(String name, String argument, BridgeRequest bridge, String dialplan, String context) {
        this.name = name;
        this.argument = argument;
        this.bridge = bridge;
        this.dialplan = dialplan;
        this.context = context;
    }

    /**
     * Park the answered channel, to be controlled over the event socket.
     *
     * @return {@code &park()}
     */
    public static Application park() {
        return run("park", "");
    }

    /**
     * The callback pattern: once the first leg answers, bridge it to another destination with
     * its own timeouts. The second leg's outcome is reported by the first channel's {@code
     * CHANNEL_EXECUTE_COMPLETE} for {@code bridge}, not by the {@code BACKGROUND_JOB}; see {@code
     * BridgeResult}.
     *
     * @param request the second leg
     * @return {@code &bridge(<dial string>)}
     */
    public static Application bridge(BridgeRequest request) {
        Objects.requireNonNull(request, "request");
        String argument = request.applicationArgument();
        requireUsableInParentheses(argument);
        return new Application("bridge", argument, request, null, null);
    }

    /**
     * Any application with an argument, {@code &name(argument)}.
     *
     * @param name the application, e.g. {@code "playback"}
     * @param argument its argument; FreeSWITCH ends it at the first {@code )}, so it may not
     *     contain one
     * @return the application
     */
    public static Application run(String name, String argument) {
        Escaping.variableName(name);
        Objects.requireNonNull(argument, "argument");
        requireUsableInParentheses(argument);
        return new Application(name, argument, null, null, null);
    }

    /**
     * Route the answered channel to an extension of the dialplan.
     *
     * @param extension the extension, e.g. {@code "1000"}
     * @param dialplan the dialplan type, e.g. {@code "XML"}
     * @param context the context, e.g. {@code "default"}
     * @return the application
     */
    public static Application extension(String extension, String dialplan, String context) {
        for (String part : new String[] {extension, dialplan, context}) {
            Objects.requireNonNull(part, "extension, dialplan and context");
            if (part.isEmpty() || part.startsWith("&") || hasControlCharacter(part)) {
                throw new IllegalArgumentException("invalid extension part: " + part);
            }
        }
        return new Application(extension, null, null, dialplan, context);
    }

    private static void requireUsableInParentheses(String argument) {
        if (argument.indexOf(')') >= 0) {
            throw new IllegalArgumentException(
                    "FreeSWITCH ends an &app(...) argument at the first ')'; it cannot contain one: " + argument);
        }
        if (hasControlCharacter(argument)) {
            throw new IllegalArgumentException("control character in application argument: " + argument);
        }
    }

    private static boolean hasControlCharacter(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < 0x20 || text.charAt(i) == 0x7f) {
                return true;
            }
        }
        return false;
    }

    /**
     * The bridge request of a callback, if this is one.
     *
     * @return the second leg's request, or null
     */
    public BridgeRequest bridgeRequest() {
        return bridge;
    }

    /** The tokens of the {@code originate} API line after the dial string, API-quoted. */
    String apiTokens() {
        if (argument == null) {
            return Escaping.apiToken(name) + " " + Escaping.apiToken(dialplan) + " " + Escaping.apiToken(context);
        }
        return Escaping.apiToken("&" + name + "(" + argument + ")");
    }

    @Override
    public String toString() {
        return argument == null ? name + " " + dialplan + " " + context : "&" + name + "(" + argument + ")";
    }
}
