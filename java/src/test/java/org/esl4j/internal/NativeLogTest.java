package org.esl4j.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.Test;

/** Both log sinks map the Rust levels and keep the logger names. */
public class NativeLogTest {
    private static List<LogRecord> capture(String loggerName, Level level, Runnable body) {
        final List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger logger = Logger.getLogger(loggerName);
        Level previous = logger.getLevel();
        logger.setLevel(level);
        logger.addHandler(handler);
        try {
            body.run();
        } finally {
            logger.removeHandler(handler);
            logger.setLevel(previous);
        }
        return records;
    }

    private static void checkSink(final NativeLog.Sink sink, String name) {
        List<LogRecord> records = capture(name, Level.FINE, () -> {
            for (int level = NativeLog.ERROR; level <= NativeLog.TRACE; level++) {
                sink.log(name, level, "record " + level, null);
            }
        });
        // FINE lets error..debug through; trace (FINER/FINEST) is filtered.
        assertEquals(4, records.size());
        assertEquals(Level.SEVERE, records.get(0).getLevel());
        assertEquals(Level.WARNING, records.get(1).getLevel());
        assertEquals(Level.INFO, records.get(2).getLevel());
        assertEquals(Level.FINE, records.get(3).getLevel());
        assertEquals("record 3", records.get(2).getMessage());
        assertEquals(name, records.get(0).getLoggerName());
        capture(name, Level.WARNING, () -> assertEquals(NativeLog.WARN, sink.enabledLevel(name)));
        capture(name, Level.ALL, () -> assertEquals(NativeLog.TRACE, sink.enabledLevel(name)));
        capture(name, Level.OFF, () -> assertEquals(NativeLog.OFF, sink.enabledLevel(name)));
    }

    @Test
    public void julSinkMapsLevels() {
        checkSink(new NativeLog.JulSink(), "org.esl4j.native.test.jul");
    }

    @Test
    public void slf4jSinkMapsLevels() {
        // slf4j-jdk14 forwards to JUL, so the same handler sees what went through slf4j.
        checkSink(new NativeLog.Slf4jSink(), "org.esl4j.native.test.slf4j");
    }

    @Test
    public void javaClassesLogThroughSlf4jWhenItIsPresent() {
        // slf4j is on this class path: esl4j's Java classes must not bypass it for JUL.
        assertTrue(NativeLog.sink() instanceof NativeLog.Slf4jSink);
        IllegalStateException cause = new IllegalStateException("boom");
        List<LogRecord> records = capture(NativeLogTest.class.getName(), Level.FINE,
                () -> Log.of(NativeLogTest.class).warn("it failed", cause));
        assertEquals(1, records.size());
        assertEquals(Level.WARNING, records.get(0).getLevel());
        assertEquals("it failed", records.get(0).getMessage());
        assertEquals(cause, records.get(0).getThrown());
    }

    @Test
    public void recordsFromRustUseTheTargetAsLoggerName() {
        List<LogRecord> records = capture("org.esl4j.native.esl4j_engine.inbound", Level.INFO,
                () -> NativeLog.log(NativeLog.INFO, "esl4j_engine::inbound", "hello"));
        assertEquals(1, records.size());
        assertTrue(records.get(0).getMessage().contains("hello"));
    }
}
