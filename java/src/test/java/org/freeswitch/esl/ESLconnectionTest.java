package org.freeswitch.esl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The compat connection against a scripted FreeSWITCH replaying recorded frames. */
public class ESLconnectionTest {
    private static final String EMOJI = "\u4f60\u597d \ud83d\ude00";
    private FakeFreeSwitch fake;
    private ESLconnection con;

    @Before
    public void start() throws Exception {
        Map<String, FakeFreeSwitch.Script> api = FakeFreeSwitch.load("01_auth_api.txt");
        Map<String, FakeFreeSwitch.Script> events = FakeFreeSwitch.load("02_events_plain.txt");
        FakeFreeSwitch.Script main = api.get("in");
        // The events recording's answers join the API recording's, on the same connection.
        java.util.Deque<List<byte[]>> auth = main.answers.get("auth ClueCon");
        main.answers.putAll(events.get("in").answers);
        main.answers.put("auth ClueCon", auth);
        main.answer("api utf8", "Content-Type: api/response\nContent-Length: "
                + EMOJI.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + "\n\n" + EMOJI);
        main.answer("sendevent CUSTOM",
                "Content-Type: command/reply\nReply-Text: +OK 1b2c3d4e-0000-4000-8000-00000000abcd\n\n");
        List<FakeFreeSwitch.Script> scripts = new ArrayList<>();
        scripts.add(main);
        scripts.add(api.get("badpw"));
        fake = FakeFreeSwitch.inbound(scripts);
        con = new ESLconnection("127.0.0.1", fake.port(), "ClueCon");
    }

    @After
    public void stop() throws Exception {
        con.disconnect();
        fake.close();
    }

    @Test
    public void connectsAndRunsApiCommandsWithLibeslReturnValues() {
        assertEquals(1, con.connected());
        assertTrue(con.socketDescriptor() > 0);
        assertNull("inbound connections have no channel data", con.getInfo());
        ESLevent status = con.api("status", null);
        assertEquals("api/response", status.getHeader("Content-Type", -1));
        assertTrue(status.getBody(), status.getBody().startsWith("UP 0 years"));
        assertEquals("vm", con.api("hostname", "").getBody());
        assertEquals("-ERR no_such_command Command not found!\n", con.api("no_such_command", null).getBody());
        ESLevent unknown = con.sendRecv("no_such_esl_command");
        assertEquals("-ERR command not found", unknown.getHeader("Reply-Text", -1));
        assertEquals("SOCKET_DATA", unknown.getType());
    }

    @Test
    public void wrongPasswordLeavesAnUnconnectedObjectThatNeverCrashes() {
        ESLconnection bad = new ESLconnection("127.0.0.1", String.valueOf(fake.port()), "wrong-password");
        assertEquals(0, bad.connected());
        assertTrue(bad.getLastError(), bad.getLastError().contains("authentication failed"));
        assertEquals(-1, bad.socketDescriptor());
        assertNull(bad.api("status", null));
        assertNull(bad.recvEventTimed(10));
        assertEquals(1, bad.disconnect());
    }

    @Test
    public void everyMethodFailsSafelyAfterDisconnect() {
        assertEquals(0, con.disconnect());
        assertEquals(0, con.disconnect());
        assertEquals(0, con.connected());
        assertNull(con.api("status", null));
        assertNull(con.sendRecv("api status"));
        assertNull(con.bgapi("status", null, null));
        assertNull(con.execute("answer", null, null));
        assertNull(con.filter("Unique-ID", "x"));
        assertNull(con.sendEvent(new ESLevent("CUSTOM", "x::y")));
        assertEquals(1, con.send("api status"));
        assertEquals(1, con.events("plain", "ALL"));
        assertEquals(1, con.sendMSG(new ESLevent("MESSAGE", null), null));
        assertNull(con.recvEventTimed(10));
        assertEquals("SERVER_DISCONNECTED", con.recvEvent().getType());
        con.delete();
    }

    @Test
    public void backgroundJobResultArrivesAsAnEvent() {
        assertEquals(0, con.events("plain", "ALL"));
        ESLevent reply = con.bgapi("status", null, null);
        String jobUuid = reply.getHeader("Job-UUID", -1);
        assertNotNull(jobUuid);
        ESLevent job = null;
        for (int i = 0; i < 50 && job == null; i++) {
            ESLevent event = con.recvEventTimed(200);
            if (event != null && "BACKGROUND_JOB".equals(event.getType())) {
                job = event;
            }
        }
        assertNotNull("no BACKGROUND_JOB", job);
        assertEquals(jobUuid, job.getHeader("Job-UUID", -1));
        assertTrue(job.getBody(), job.getBody().startsWith("UP "));
    }

    @Test
    public void sendRepliesComeBackThroughRecvEvent() {
        assertEquals(0, con.send("api hostname\n\n"));
        ESLevent reply = con.recvEventTimed(5000);
        assertNotNull(reply);
        assertEquals("vm", reply.getBody());
    }

    @Test
    public void recvEventTimedZeroReturnsAtOnce() {
        assertNull(con.recvEventTimed(0));
        assertEquals(1, con.connected());
    }

    @Test
    public void apiIsNotBlockedByAnotherThreadWaitingForEvents() throws Exception {
        final CountDownLatch receiving = new CountDownLatch(1);
        final CountDownLatch received = new CountDownLatch(1);
        final ESLevent[] got = new ESLevent[1];
        Thread receiver = new Thread(new Runnable() {
            @Override
            public void run() {
                receiving.countDown();
                got[0] = con.recvEventTimed(15_000);
                received.countDown();
            }
        });
        receiver.start();
        assertTrue(receiving.await(5, TimeUnit.SECONDS));
        // libesl would block here until an event arrived; the engine answers at once.
        assertEquals("vm", con.api("hostname", null).getBody());
        assertEquals("the receiver must still be waiting", 1, received.getCount());
        // Now give it an event: the bgapi's BACKGROUND_JOB (the reply is not an event).
        assertEquals(0, con.events("plain", "ALL"));
        assertNotNull(con.bgapi("status", null, null));
        assertTrue(received.await(15, TimeUnit.SECONDS));
        assertNotNull(got[0]);
        assertFalse("a reply was stolen by recvEventTimed",
                "command/reply".equals(got[0].getHeader("Content-Type", -1)));
        receiver.join(5000);
    }

    @Test
    public void concurrentCallersGetTheirOwnReplies() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 160; i++) {
                final boolean hostname = i % 2 == 0;
                results.add(pool.submit(() -> {
                    ESLevent reply = con.api(hostname ? "hostname" : "version", null);
                    return hostname ? "vm".equals(reply.getBody()) : reply.getBody().startsWith("FreeSWITCH Version");
                }));
            }
            for (Future<Boolean> result : results) {
                assertTrue(result.get(30, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void utf8TravelsIntactBothWays() throws Exception {
        assertEquals(EMOJI, con.api("utf8", null).getBody());
        ESLevent event = new ESLevent("CUSTOM", "esl4j::test");
        event.addHeader("Caller-Name", EMOJI);
        // Fixed libesl bug: the result is the server's reply, not the last received event.
        ESLevent reply = con.sendEvent(event);
        assertEquals("+OK 1b2c3d4e-0000-4000-8000-00000000abcd", reply.getHeader("Reply-Text", -1));
        boolean seen = false;
        for (String command : fake.commands()) {
            seen |= command.startsWith("sendevent CUSTOM") && command.contains("Caller-Name: " + EMOJI);
        }
        assertTrue(fake.commands().toString(), seen);
    }

    @Test
    public void longExecuteArgumentsAreNotTruncated() {
        StringBuilder arg = new StringBuilder();
        while (arg.length() < 10_000) {
            arg.append("file_string://a.wav!");
        }
        con.execute("playback", arg.toString(), "uuid-1");
        boolean seen = false;
        for (String command : fake.commands()) {
            seen |= command.startsWith("sendmsg uuid-1") && command.contains(arg.toString());
        }
        assertTrue("the 10 KB argument was not sent whole", seen);
    }

    @Test
    public void lineBreakInjectionIsRefused() {
        assertNull(con.getLastError());
        assertNull(con.api("status\n\nexit", null));
        assertTrue(con.getLastError(), con.getLastError().contains("CR or LF"));
        assertEquals(1, con.connected());
        for (String command : fake.commands()) {
            assertFalse(command, command.startsWith("exit"));
        }
    }
}
