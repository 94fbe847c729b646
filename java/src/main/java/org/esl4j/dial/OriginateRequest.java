package org.esl4j.dial;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * An inbound {@code originate}: a dial string, typed timeouts, caller id, client-chosen channel
 * UUIDs, and what the answered channel does. Send {@link #command()} with {@code bgapi} (never
 * {@code api}: a blocking originate stalls the whole connection for the ring time) and read the
 * {@code BACKGROUND_JOB} with {@code OriginateResult}.
 *
 * <p>The inbound no-answer timeout, 30 seconds, early media ignored (the default):
 *
 * <pre>{@code
 * OriginateRequest request = OriginateRequest.to(Endpoint.gateway("gw1", "13800138000"))
 *         .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
 *         .callerId("Support", "4000")
 *         .build();
 * request.command();
 * // originate {originate_timeout=30,ignore_early_media=true,origination_caller_id_name=Support,
 * //   origination_caller_id_number=4000}[origination_uuid=<uuid>]sofia/gateway/gw1/13800138000 &park()
 * // -> BACKGROUND_JOB body "-ERR NO_ANSWER" after about 30 s, or "+OK <uuid>"
 * }</pre>
 *
 * <p>The callback pattern, 30 s for the first leg and 20 s for the second:
 *
 * <pre>{@code
 * OriginateRequest callback = OriginateRequest.to(Endpoint.user("1000"))
 *         .timeouts(Timeouts.noAnswer(Duration.ofSeconds(30)))
 *         .application(Application.bridge(BridgeRequest.to(Endpoint.user("2000"))
 *                 .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build()))
 *         .build();
 * }</pre>
 *
 * <p>Every leg gets its own {@code origination_uuid} (unless it already has one), so the call can
 * be followed and filtered before it exists, and a retried command can never make a second call:
 * FreeSWITCH refuses a UUID that is already in use.
 */
public final class OriginateRequest {
    private final DialString dial;
    private final Application application;
    private final Timeouts timeouts;
    private final DialString renderedDial;

    private OriginateRequest(Builder builder) {
        this.dial = builder.dial;
        this.application = builder.application;
        this.timeouts = builder.timeouts;
        DialString withUuids = withLegUuids(dial);
        DialString.Builder withCallerId = timeouts.applyTo(withUuids).toBuilder();
        if (builder.callerIdName != null) {
            withCallerId.variable("origination_caller_id_name", builder.callerIdName);
        }
        if (builder.callerIdNumber != null) {
            withCallerId.variable("origination_caller_id_number", builder.callerIdNumber);
        }
        this.renderedDial = withCallerId.build();
    }

    /** Gives every leg a fresh {@code origination_uuid} unless it has one. */
    static DialString withLegUuids(DialString dial) {
        DialString withUuids = dial.toBuilder()
                .mapLegs(leg -> dial.effectiveLegVariable(leg, "origination_uuid") != null
                        ? leg
                        : leg.uuid(UUID.randomUUID().toString()))
                .build();
        // A global origination_uuid reaches every leg (and overrides their own): two channels
        // cannot share one UUID, and the legs' real UUIDs would be unknown.
        List<String> uuids = withUuids.legUuids();
        if (new HashSet<>(uuids).size() < uuids.size()) {
            throw new IllegalArgumentException("origination_uuid in {} or <> would give several legs the same"
                    + " channel UUID; set it per leg with Leg.uuid(...)");
        }
        return withUuids;
    }

    /**
     * Starts a request to one endpoint.
     *
     * @param endpoint where to call
     * @return a builder
     */
    public static Builder to(Endpoint endpoint) {
        return to(DialString.of(endpoint));
    }

    /**
     * Starts a request with a full dial string.
     *
     * @param dial the dial string
     * @return a builder
     */
    public static Builder to(DialString dial) {
        return new Builder(Objects.requireNonNull(dial, "dial"));
    }

    /**
     * The API command, without {@code api} / {@code bgapi}: {@code originate <dial> <app>}.
     *
     * @return the command line; never contains CR or LF
     */
    public String command() {
        return "originate " + Escaping.apiToken(renderedDial.render()) + " " + application.apiTokens();
    }

    /**
     * The dial string as sent, with timeouts, caller id and UUIDs applied.
     *
     * @return the rendered dial string
     */
    public DialString dialString() {
        return renderedDial;
    }

    /**
     * The UUID of the first leg: with one leg, the UUID the answered channel will have.
     *
     * @return the UUID
     */
    public String uuid() {
        return legUuids().get(0);
    }

    /**
     * The UUIDs of every leg, in dial order; the {@code +OK <uuid>} reply names the one that
     * answered.
     *
     * @return an unmodifiable list
     */
    public List<String> legUuids() {
        return renderedDial.legUuids();
    }

    /**
     * What the answered channel runs.
     *
     * @return the application
     */
    public Application application() {
        return application;
    }

    /**
     * The timeouts requested.
     *
     * @return the timeouts
     */
    public Timeouts timeouts() {
        return timeouts;
    }

    /**
     * When the client should give up on the attempt: {@link Timeouts#watchdogDeadline(DialString,
     * Duration)}, plus the second leg's deadline for the callback pattern.
     *
     * @param margin extra time allowed for signalling and event delivery
     * @return the deadline, measured from sending the command
     */
    public Duration watchdogDeadline(Duration margin) {
        Duration deadline = timeouts.watchdogDeadline(renderedDial, margin);
        BridgeRequest second = application.bridgeRequest();
        return second == null ? deadline : deadline.plus(second.watchdogDeadline(Duration.ZERO));
    }

    @Override
    public String toString() {
        return command();
    }

    /** Collects the parts of an {@link OriginateRequest}. Not thread-safe. */
    public static final class Builder {
        private final DialString dial;
        private Application application = Application.park();
        private Timeouts timeouts = Timeouts.defaults();
        private String callerIdName;
        private String callerIdNumber;

        private Builder(DialString dial) {
            this.dial = dial;
        }

        /**
         * The ring timeouts (default: FreeSWITCH's 60 s, early media ignored).
         *
         * @param value the timeouts
         * @return this builder
         */
        public Builder timeouts(Timeouts value) {
            timeouts = Objects.requireNonNull(value, "timeouts");
            return this;
        }

        /**
         * What the answered channel runs (default {@code &park()}).
         *
         * @param value the application
         * @return this builder
         */
        public Builder application(Application value) {
            application = Objects.requireNonNull(value, "application");
            return this;
        }

        /**
         * The caller id shown to the called party ({@code origination_caller_id_name/number}).
         *
         * @param name the display name, or null to leave it unset
         * @param number the number, or null to leave it unset
         * @return this builder
         */
        public Builder callerId(String name, String number) {
            callerIdName = name;
            callerIdNumber = number;
            return this;
        }

        /**
         * Makes the request, choosing a UUID for every leg without one.
         *
         * @return the immutable request
         */
        public OriginateRequest build() {
            return new OriginateRequest(this);
        }
    }
}
