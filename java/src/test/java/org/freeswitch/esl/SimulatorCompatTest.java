package org.freeswitch.esl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.esl4j.examples.TestClient;
import org.esl4j.examples.TestServer;
import org.esl4j.testing.internal.NativeSimulator;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The compat API and the examples against the FreeSWITCH simulator. */
public class SimulatorCompatTest {
    private NativeSimulator sim;

    @Before
    public void start() {
        sim = NativeSimulator.start(0, "ClueCon", false, 0);
    }

    @After
    public void stop() {
        sim.close();
    }

    @Test
    public void testClientExampleGetsTheStatus() {
        String status = TestClient.status("127.0.0.1", sim.port(), "ClueCon");
        assertNotNull(status);
        assertTrue(status, status.startsWith("UP "));
    }

    @Test
    public void backgroundOriginateReportsTheJobResult() {
        sim.setEndpoint("user/1000", NativeSimulator.Behavior.BUSY, 0, null);
        ESLconnection con = new ESLconnection("127.0.0.1", sim.port(), "ClueCon");
        try {
            assertEquals(1, con.connected());
            assertEquals(0, con.events("plain", "BACKGROUND_JOB"));
            ESLevent reply = con.bgapi("originate", "user/1000 &park", "job-1");
            assertEquals("job-1", reply.getHeader("Job-UUID", -1));
            ESLevent job = null;
            for (int i = 0; i < 100 && job == null; i++) {
                ESLevent event = con.recvEventTimed(100);
                if (event != null && "BACKGROUND_JOB".equals(event.getType())) {
                    job = event;
                }
            }
            assertNotNull("no BACKGROUND_JOB", job);
            assertEquals("job-1", job.getHeader("Job-UUID", -1));
            assertTrue(job.getBody(), job.getBody().startsWith("-ERR USER_BUSY"));
        } finally {
            con.disconnect();
        }
    }

    private int countSendmsg() {
        int count = 0;
        for (String command : sim.commands()) {
            count += command.startsWith("sendmsg") ? 1 : 0;
        }
        return count;
    }

    @Test
    public void testServerExampleHandlesAnOutboundCall() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (ESLserver server = new ESLserver("127.0.0.1", 0)) {
            sim.routeToSocket("outbound", "127.0.0.1:" + server.port() + " async full");
            sim.setEndpoint("user/2000", NativeSimulator.Behavior.ANSWER_AFTER, 0, null);
            final java.util.concurrent.BlockingQueue<String> uuids = new java.util.concurrent.LinkedBlockingQueue<>();
            Future<Integer> call = pool.submit(() -> {
                ESLconnection handle = server.accept(20_000);
                assertNotNull("no outbound call", handle);
                assertEquals("CHANNEL_DATA", handle.getInfo().getType());
                uuids.add(handle.getInfo().getHeader("Unique-ID", -1));
                return TestServer.handleCall(handle, 100);
            });
            ESLconnection control = new ESLconnection("127.0.0.1", sim.port(), "ClueCon");
            try {
                assertNotNull(control.bgapi("originate", "user/2000 outbound", null));
                String uuid = uuids.poll(20, TimeUnit.SECONDS);
                assertNotNull("the call never reached the server", uuid);
                // The caller sits in the conference until hung up: wait for both sendmsg, then hang up.
                for (long seen = 0; countSendmsg() < 2; seen = sim.commands().size()) {
                    assertTrue("the test server did not execute its apps", sim.waitForCommands(seen + 1, 20_000));
                }
                ESLevent kill = control.api("uuid_kill", uuid);
                assertTrue(kill.getBody(), kill.getBody().startsWith("+OK"));
                int events = call.get(60, TimeUnit.SECONDS);
                assertTrue("events received: " + events, events > 0);
            } finally {
                control.disconnect();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
