package org.esl4j.internal;

/**
 * A logger for esl4j's Java classes, writing to the same sink as the native records ({@link
 * NativeLog}): slf4j when it is on the class path, else {@code java.util.logging}. Not API.
 */
public final class Log {
    private final String name;

    private Log(String name) {
        this.name = name;
    }

    /**
     * The logger named after a class.
     *
     * @param type the class that logs
     * @return its logger
     */
    public static Log of(Class<?> type) {
        return new Log(type.getName());
    }

    /**
     * Logs a warning.
     *
     * @param message the text
     */
    public void warn(String message) {
        warn(message, null);
    }

    /**
     * Logs a warning with its cause.
     *
     * @param message the text
     * @param error the cause, or null
     */
    public void warn(String message, Throwable error) {
        NativeLog.sink().log(name, NativeLog.WARN, message, error);
    }

    /**
     * Logs a debug record with its cause.
     *
     * @param message the text
     * @param error the cause, or null
     */
    public void debug(String message, Throwable error) {
        NativeLog.sink().log(name, NativeLog.DEBUG, message, error);
    }
}
