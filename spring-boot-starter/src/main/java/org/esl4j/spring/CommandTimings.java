package org.esl4j.spring;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.esl4j.CommandObserver;

/**
 * The command observer of one server's client, or of the outbound server's sessions. They are
 * made before the metrics exist, so this relays each command to the observers added later (the
 * Micrometer timer, when bound).
 */
final class CommandTimings implements CommandObserver {
    private final List<CommandObserver> observers = new CopyOnWriteArrayList<>();

    /**
     * Tells {@code observer} about every later command.
     *
     * @param observer the observer
     */
    void add(CommandObserver observer) {
        observers.add(observer);
    }

    @Override
    public void commandCompleted(String command, Duration duration, Outcome outcome) {
        for (CommandObserver observer : observers) {
            try {
                observer.commandCompleted(command, duration, outcome);
            } catch (RuntimeException ignored) {
                // One broken observer must not hide the command from the others.
            }
        }
    }
}
