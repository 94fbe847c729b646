package org.freeswitch.esl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;

import org.esl4j.examples.SipTdmGateway;
import org.esl4j.examples.TestClient;
import org.esl4j.examples.TestServer;
import org.junit.Test;

/** The three C examples, ported to the compat API, against recorded FreeSWITCH conversations. */
public class OutboundExamplesTest {
    private static final long LINGER_WAIT_MS = 100;

    private static List<String> runOutbound(ESLserver server, FakeFreeSwitch.Script script, boolean gateway)
            throws Exception {
        try (FakeFreeSwitch fake = FakeFreeSwitch.outbound(server.port(), script)) {
            ESLconnection call = server.accept(20_000);
            assertNotNull("no outbound call arrived", call);
            ESLevent info = call.getInfo();
            assertEquals("CHANNEL_DATA", info.getType());
            assertNotNull(info.getHeader("Unique-ID", -1));
            int events = gateway ? SipTdmGateway.handleCall(call, false, LINGER_WAIT_MS)
                    : TestServer.handleCall(call, LINGER_WAIT_MS);
            assertTrue("expected the call's events and the linger notice, got " + events, events >= 5);
            assertEquals(0, call.connected());
            assertTrue("disconnect() did not send exit", fake.awaitCommand("exit", 10_000));
            return fake.commands();
        }
    }

    private static String joined(List<String> commands) {
        StringBuilder text = new StringBuilder();
        for (String command : commands) {
            text.append(command).append("\n--\n");
        }
        return text.toString();
    }

    @Test
    public void testServerAnswersAndJoinsTheConference() throws Exception {
        Map<String, FakeFreeSwitch.Script> scripts = FakeFreeSwitch.load("04_outbound_async_bridge_leg_timeout.txt");
        try (ESLserver server = new ESLserver("127.0.0.1", 0)) {
            String sent = joined(runOutbound(server, scripts.get("out"), false));
            assertTrue(sent, sent.startsWith("connect\n"));
            assertTrue(sent, sent.contains("filter unique-id "));
            assertTrue(sent, sent.contains("event plain SESSION_HEARTBEAT CHANNEL_ANSWER"));
            assertTrue(sent, sent.contains("linger\n"));
            assertTrue(sent, sent.contains("execute-app-name: answer"));
            assertTrue(sent, sent.contains("execute-app-name: conference\n"));
            assertTrue(sent, sent.contains("execute-app-arg: 3000@default"));
            assertTrue(sent, sent.contains("exit\n"));
        }
    }

    @Test
    public void gatewayBridgesToTheCalledNumber() throws Exception {
        Map<String, FakeFreeSwitch.Script> scripts = FakeFreeSwitch.load("04_outbound_async_bridge_leg_timeout.txt");
        // The recording answered, then bridged; the gateway only bridges, so its one sendmsg
        // gets both recorded answers.
        FakeFreeSwitch.Script script = scripts.get("out");
        List<byte[]> merged = new java.util.ArrayList<>();
        for (List<byte[]> answer : script.answers.get("sendmsg")) {
            merged.addAll(answer);
        }
        script.answers.get("sendmsg").clear();
        script.answers.get("sendmsg").add(merged);
        try (ESLserver server = new ESLserver("127.0.0.1", 0)) {
            String sent = joined(runOutbound(server, script, true));
            assertTrue(sent, sent.contains("execute-app-name: bridge"));
            // The recorded call was to "outbound": the destination comes from the channel data.
            assertTrue(sent, sent.contains("execute-app-arg: freetdm/wp1/a/outbound"));
        }
        assertEquals("sofia/internal/1000%192.168.2.19", SipTdmGateway.callUrl("1000", true));
    }

    @Test
    public void testClientPrintsTheStatus() throws Exception {
        Map<String, FakeFreeSwitch.Script> scripts = FakeFreeSwitch.load("01_auth_api.txt");
        try (FakeFreeSwitch fake = FakeFreeSwitch.inbound(java.util.Collections.singletonList(scripts.get("in")))) {
            String status = TestClient.status("127.0.0.1", fake.port(), "ClueCon");
            assertNotNull(status);
            assertTrue(status, status.startsWith("UP 0 years") && status.contains("session(s) since startup"));
            assertEquals(null, TestClient.status("127.0.0.1", fake.port(), "wrong"));
        }
    }
}
