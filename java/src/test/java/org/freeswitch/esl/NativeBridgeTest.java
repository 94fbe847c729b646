package org.freeswitch.esl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.esl4j.EslAuthException;
import org.esl4j.EslConnectionClosedException;
import org.esl4j.EslEvent;
import org.esl4j.EslException;
import org.esl4j.internal.EventInbox;
import org.esl4j.internal.FrameCodec;
import org.esl4j.internal.Native;
import org.esl4j.internal.NativeConnection;
import org.esl4j.internal.NativeLog;
import org.junit.Test;

/** The JNI bridge seen from Java: errors, completion threads, logging, close semantics. */
public class NativeBridgeTest {
    private static FakeFreeSwitch fake() throws Exception {
        return FakeFreeSwitch.inbound(Collections.singletonList(FakeFreeSwitch.load("01_auth_api.txt").get("in")));
    }

    @Test
    public void futuresCompleteOnTheConfiguredExecutorNotOnRuntimeThreads() throws Exception {
        final List<String> handOverThreads = new CopyOnWriteArrayList<>();
        final List<String> completionThreads = new CopyOnWriteArrayList<>();
        Executor recording = task -> {
            handOverThreads.add(Thread.currentThread().getName());
            new Thread(() -> {
                completionThreads.add(Thread.currentThread().getName());
                task.run();
            }, "user-executor").start();
        };
        try (FakeFreeSwitch fake = fake();
                NativeConnection connection = NativeConnection.connect("127.0.0.1", fake.port(), null, "ClueCon",
                        new NativeConnection.Settings().executor(recording))) {
            EslEvent reply = connection.api("hostname", 0).get(10, TimeUnit.SECONDS);
            assertEquals("vm", reply.body());
            // The future was completed by a task on the user's executor...
            assertEquals(Collections.singletonList("user-executor"), completionThreads);
            // ...handed over by an engine thread (attached to the JVM), not by the caller.
            assertEquals(1, handOverThreads.size());
            assertFalse(handOverThreads.get(0).equals(Thread.currentThread().getName()));
        }
    }

    @Test
    public void engineErrorsBecomeTypedExceptions() throws Exception {
        try (FakeFreeSwitch fake = FakeFreeSwitch.inbound(Collections.singletonList(
                FakeFreeSwitch.load("01_auth_api.txt").get("badpw")))) {
            NativeConnection.connect("127.0.0.1", fake.port(), null, "wrong", new NativeConnection.Settings());
            fail("a wrong password was accepted");
        } catch (EslAuthException expected) {
            assertEquals(EslException.Kind.AUTH, expected.kind());
        }
        try {
            NativeConnection.connect("127.0.0.1", 1, null, "ClueCon", new NativeConnection.Settings());
            fail("connected to a closed port");
        } catch (EslException expected) {
            assertEquals(EslException.Kind.REFUSED, expected.kind());
        }
    }

    @Test
    public void invalidCommandsFailTheFutureAndCallsAfterCloseThrow() throws Exception {
        try (FakeFreeSwitch fake = fake()) {
            NativeConnection connection = NativeConnection.connect("127.0.0.1", fake.port(), null, "ClueCon",
                    new NativeConnection.Settings());
            try {
                connection.api("status\nexit", 0).get(10, TimeUnit.SECONDS);
                fail("a line break was sent");
            } catch (ExecutionException expected) {
                assertEquals(EslException.Kind.INVALID_COMMAND, ((EslException) expected.getCause()).kind());
            }
            assertTrue(connection.isConnected());
            connection.close();
            connection.close();
            assertFalse(connection.isConnected());
            try {
                connection.pollRaw(1, 0);
                fail("poll after close");
            } catch (EslConnectionClosedException expected) {
                assertTrue(expected.getMessage().contains("closed"));
            }
            assertNull("an inbox over a closed connection has ended", connection.inbox(1).take(0));
            try {
                connection.api("status", 0).get(10, TimeUnit.SECONDS);
                fail("api after close");
            } catch (ExecutionException expected) {
                assertTrue(expected.getCause() instanceof EslConnectionClosedException);
            }
        }
    }

    @Test
    public void pollReturnsNullOnceTheServerClosedAndEverythingWasTaken() throws Exception {
        try (FakeFreeSwitch fake = fake();
                NativeConnection connection = NativeConnection.connect("127.0.0.1", fake.port(), null, "ClueCon",
                        new NativeConnection.Settings().serverName("fs-test"))) {
            // "exit" makes the recorded server answer, send its disconnect notice and close.
            connection.sendRecv("exit", 0).get(10, TimeUnit.SECONDS);
            EventInbox inbox = connection.inbox(16);
            FrameCodec.Batch items;
            EslEvent notice = null;
            int polls = 0;
            while ((items = inbox.take(1000)) != null && polls++ < 20) {
                for (int i = 0; i < items.size(); i++) {
                    notice = items.kind(i) == FrameCodec.KIND_DISCONNECT_NOTICE ? items.item(i) : notice;
                }
            }
            assertNull("the queue never ended", items);
            assertTrue(inbox.ended());
            assertNotNull("no disconnect notice", notice);
            assertEquals("text/disconnect-notice", notice.header("Content-Type"));
            assertEquals("disconnect", notice.header("Content-Disposition"));
        }
    }

    @Test
    public void rustLogRecordsReachJavaUtilLoggingWithTheirConnectionsAddress() throws Exception {
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
        Logger root = Logger.getLogger("org.esl4j.native");
        Level previous = root.getLevel();
        root.setLevel(Level.FINE);
        root.addHandler(handler);
        // The connection lifecycle is logged at DEBUG.
        Native.setLogLevel(NativeLog.DEBUG);
        String address;
        try (FakeFreeSwitch fake = fake();
                NativeConnection connection = NativeConnection.connect("127.0.0.1", fake.port(), null, "ClueCon",
                        new NativeConnection.Settings().serverName("fs-test"))) {
            assertTrue(connection.isConnected());
            address = "127.0.0.1:" + fake.port();
        } finally {
            root.removeHandler(handler);
            root.setLevel(previous);
            Native.setLogLevel(NativeLog.configuredLevel());
        }
        boolean found = false;
        for (LogRecord record : records) {
            found |= record.getLoggerName().startsWith("org.esl4j.native.esl4j_engine") && record.getLevel() == Level.FINE
                    && record.getMessage().equals("connecting [address=" + address + " server=fs-test]");
        }
        assertTrue("no engine record forwarded with its address and server name among " + records, found);
        // Only this connection's records: the engine's level is global, and connections other
        // tests left closing may log their own peers' words meanwhile. The password is also a
        // word of FreeSWITCH's goodbye ("See you at ClueCon!"), which the close may log.
        for (LogRecord record : records) {
            String message = record.getMessage().replace("See you at ClueCon!", "");
            assertFalse("a password reached the logs: " + message, message.contains(address) && message.contains("ClueCon"));
        }
    }
}
