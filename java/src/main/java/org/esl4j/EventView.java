package org.esl4j;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.esl4j.internal.FrameCodec;
import org.esl4j.internal.WireEvent;

/**
 * One event read in place from the client's poll batch, valid only during the {@link
 * EventViewListener} call that received it and only on that thread: the batch array is reused for
 * later batches, and a view makes no copy of its event. Header values read decoded, names match
 * ignoring ASCII case, a multi-value header ({@code ARRAY::a|:b}) reads as several values, as for
 * {@link EslEvent}.
 *
 * <p>Every method throws {@link IllegalStateException} once the listener call has returned, or
 * when called from another thread: a view kept past its call never reads another event's bytes.
 * Each read checks the view's generation before and after it (the reading thread writes a later
 * batch into the same array only after it moved the generation on). Use {@link #toEvent()} to keep
 * the event.
 *
 * <p>Reading {@link #eventName()} and {@link #uniqueId()} makes only their strings; {@link
 * #eventNameIs(String)} makes none.
 */
public final class EventView {
    private final WireEvent wire;
    private final EventViews scope;
    private final int generation;

    EventView(WireEvent wire, EventViews scope, int generation) {
        this.wire = wire;
        this.scope = scope;
        this.generation = generation;
    }

    /**
     * {@code Event-Name}, e.g. {@code CHANNEL_ANSWER}.
     *
     * @return the event name, or null
     * @throws IllegalStateException after the listener call, or from another thread
     */
    public String eventName() {
        return hot(FrameCodec.HOT_EVENT_NAME);
    }

    /**
     * Whether {@code Event-Name} is exactly {@code name}, compared with the event's bytes (no
     * string is made).
     *
     * @param name the event name, e.g. {@code CHANNEL_ANSWER}
     * @return true when the event has that name
     * @throws IllegalStateException after the listener call, or from another thread
     */
    public boolean eventNameIs(String name) {
        scope.check(generation);
        int index = wire.hotIndex(FrameCodec.HOT_EVENT_NAME);
        boolean same = index >= 0 && name != null && wire.valueIs(index, name);
        scope.check(generation);
        return same;
    }

    /**
     * {@code Unique-ID}, the channel UUID.
     *
     * @return the UUID, or null (e.g. a HEARTBEAT)
     * @throws IllegalStateException after the listener call, or from another thread
     */
    public String uniqueId() {
        return hot(FrameCodec.HOT_UNIQUE_ID);
    }

    /**
     * {@code Event-Subclass}, e.g. {@code sofia::register} for a CUSTOM event.
     *
     * @return the subclass, or null
     * @throws IllegalStateException after the listener call, or from another thread
     */
    public String eventSubclass() {
        return hot(FrameCodec.HOT_EVENT_SUBCLASS);
    }

    /**
     * {@code Job-UUID} of a {@code BACKGROUND_JOB}.
     *
     * @return the job UUID, or null
     * @throws IllegalStateException after the listener call, or from another thread
     */
    public String jobUuid() {
        return hot(FrameCodec.HOT_JOB_UUID);
    }

    /**
     * The first value of a header.
     *
     * @param name the header name, any case
     * @return the value, or null when the event has no such header
     * @throws IllegalStateException after the listener call, or from another thread
     */
    public String header(String name) {
        scope.check(generation);
        int index = name == null ? -1 : wire.indexOf(name, 0);
        String value = index < 0 ? null : wire.value(index);
        scope.check(generation);
        return value;
    }

    /**
     * Every value of a header, in order.
     *
     * @param name the header name, any case
     * @return the values, empty when the event has no such header; never null
     * @throws IllegalStateException after the listener call, or from another thread
     */
    public List<String> headerValues(String name) {
        scope.check(generation);
        List<String> found = new ArrayList<>(2);
        for (int i = name == null ? -1 : wire.indexOf(name, 0); i >= 0; i = wire.indexOf(name, i + 1)) {
            found.add(wire.value(i));
        }
        scope.check(generation);
        return Collections.unmodifiableList(found);
    }

    /**
     * The number of header entries (each value of a multi-value header counts once).
     *
     * @return the header count
     * @throws IllegalStateException after the listener call, or from another thread
     */
    public int headerCount() {
        scope.check(generation);
        return wire.headerCount();
    }

    /**
     * The body decoded as UTF-8 (for example a BACKGROUND_JOB's API output).
     *
     * @return the body text, empty when there is none
     * @throws IllegalStateException after the listener call, or from another thread
     */
    public String body() {
        scope.check(generation);
        String body = new String(wire.batch(), wire.bodyStart(), wire.bodyLength(), StandardCharsets.UTF_8);
        scope.check(generation);
        return body;
    }

    /**
     * A standalone copy of this event, valid however long it is kept and on any thread.
     *
     * @return the event, with its own copy of the event's bytes
     * @throws IllegalStateException after the listener call, or from another thread
     */
    public EslEvent toEvent() {
        scope.check(generation);
        WireEvent copy = wire.standalone();
        scope.check(generation);
        return EslEvent.fromWire(copy);
    }

    private String hot(int which) {
        scope.check(generation);
        int index = wire.hotIndex(which);
        String value = index < 0 ? null : wire.value(index);
        scope.check(generation);
        return value;
    }
}
