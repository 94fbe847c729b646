package org.freeswitch.esl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.Collections;
import java.util.Map;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Return conventions of libesl's {@code esl_recv_event} / {@code esl_oop.cpp} that programs
 * written against the SWIG binding rely on, checked against frames recorded from a real
 * FreeSWITCH (esl-protocol.md §2.2-2.4).
 */
public class LibeslFidelityTest {
    private static final String LOG_FRAME = "Content-Type: log/data\nContent-Length: 12\nLog-Level: 7\n"
            + "Text-Channel: 3\nLog-File: switch_core.c\nLog-Func: x\nLog-Line: 1\nUser-Data: \n\nhello world\n";
    private static final String LINGER_NOTICE = "Content-Type: text/disconnect-notice\n"
            + "Controlled-Session-UUID: 0d2c9cd4-7c32-4e05-b1fb-b6ddb0f4c4a1\nContent-Disposition: linger\n"
            + "Channel-Name: loopback/answer-a\nLinger-Time: -1\nContent-Length: 0\n\n";

    private static final String XML_EVENT = "<event>\n  <headers>\n    <Event-Name>HEARTBEAT</Event-Name>\n"
            + "    <Up-Time>0%20years,%200%20days</Up-Time>\n  </headers>\n</event>";

    private FakeFreeSwitch fake;
    private ESLconnection con;

    @Before
    public void start() throws Exception {
        Map<String, FakeFreeSwitch.Script> recorded = FakeFreeSwitch.load("01_auth_api.txt");
        FakeFreeSwitch.Script main = recorded.get("in");
        main.answer("log 7", "Content-Type: command/reply\nReply-Text: +OK log level 7 [7]\n\n", LOG_FRAME);
        main.answer("linger", "Content-Type: command/reply\nReply-Text: +OK will linger\n\n", LINGER_NOTICE);
        main.answer("event xml HEARTBEAT", "Content-Type: command/reply\nReply-Text: +OK event listener enabled xml\n\n",
                "Content-Length: " + XML_EVENT.length() + "\nContent-Type: text/event-xml\n\n" + XML_EVENT);
        main.answer("bgapi status", "Content-Type: command/reply\nReply-Text: +OK Job-UUID: x\nJob-UUID: x\n\n");
        main.answer("getvar sip_req_uri", "Content-Type: command/reply\nReply-Text: sip:1000%40example.com\n\n");
        fake = FakeFreeSwitch.inbound(Collections.singletonList(main));
        con = new ESLconnection("127.0.0.1", fake.port(), "ClueCon");
        assertEquals(1, con.connected());
    }

    @After
    public void stop() throws Exception {
        con.disconnect();
        fake.close();
    }

    /** The next received item, which must come within 5 s and be a libesl envelope. */
    private ESLevent nextEnvelope() {
        ESLevent item = con.recvEventTimed(5000);
        assertNotNull("nothing received within 5 s", item);
        assertEquals("SOCKET_DATA", item.getHeader("Event-Name", -1));
        return item;
    }

    @Test
    public void repliesAreEnvelopesNamedSocketData() {
        // esl_recv_event adds "Event-Name: SOCKET_DATA" before the frame's own headers.
        ESLevent reply = con.sendRecv("no_such_esl_command");
        assertEquals("SOCKET_DATA", reply.getHeader("Event-Name", -1));
        assertEquals("Event-Name", reply.firstHeader());
        assertEquals("Content-Type", reply.nextHeader());
        assertEquals("-ERR command not found", reply.getHeader("Reply-Text", -1));
        ESLevent api = con.api("hostname", null);
        assertEquals("SOCKET_DATA", api.getHeader("Event-Name", -1));
        assertEquals("SOCKET_DATA", api.getType());
        assertEquals("api/response", api.getHeader("Content-Type", -1));
        assertEquals("vm", api.getBody());
    }

    @Test
    public void xmlEventsAreEnvelopesWithTheXmlAsBody() {
        // esl_recv_event parses only plain and json events; an xml one is returned as its frame.
        assertEquals(0, con.events("xml", "HEARTBEAT"));
        ESLevent event = nextEnvelope();
        assertEquals("text/event-xml", event.getHeader("Content-Type", -1));
        String xml = event.getBody();
        assertTrue(xml, xml.contains("<Event-Name>HEARTBEAT</Event-Name>"));
        assertTrue(xml, xml.contains("<Up-Time>0%20years,%200%20days</Up-Time>"));
        assertEquals(String.valueOf(xml.length()), event.getHeader("Content-Length", -1));
    }

    @Test
    public void aLongJobUuidIsCutAsFreeSwitchCutsIt() {
        // libesl sends any Job-UUID; mod_event_socket keeps 36 characters of it.
        String own = "myapp-0f9a3d58-3a3b-4d2e-9c1e-7a0b5d1e2f33";
        assertNotNull(con.bgapi("status", null, own));
        String sent = null;
        for (String command : fake.commands()) {
            if (command.startsWith("bgapi status")) {
                sent = command;
            }
        }
        assertNotNull(sent);
        assertTrue(sent, sent.contains("\nJob-UUID: " + own.substring(0, 36) + "\n"));
    }

    @Test
    public void envelopeHeadersAreUrlDecodedAsLibeslDoes() {
        // getvar answers with the raw value; libesl URL-decodes every header it reads.
        ESLevent reply = con.sendRecv("getvar sip_req_uri");
        assertEquals("sip:1000@example.com", reply.getHeader("Reply-Text", -1));
    }

    @Test
    public void sendRepliesAndLogLinesAreSocketDataEnvelopesInRecvEvent() {
        assertEquals(0, con.send("log 7"));
        assertEquals("+OK log level 7 [7]", nextEnvelope().getHeader("Reply-Text", -1));
        ESLevent log = nextEnvelope();
        assertEquals("log/data", log.getHeader("Content-Type", -1));
        assertEquals("hello world\n", log.getBody());
    }

    @Test
    public void lingerNoticeIsReturnedAndTheConnectionStays() {
        assertEquals("+OK will linger", con.sendRecv("linger").getHeader("Reply-Text", -1));
        ESLevent notice = con.recvEvent();
        assertEquals("SOCKET_DATA", notice.getType());
        assertEquals("linger", notice.getHeader("Content-Disposition", -1));
        assertEquals("-1", notice.getHeader("Linger-Time", -1));
        assertEquals(1, con.connected());
    }

    @Test
    public void finalDisconnectNoticeEndsTheConnectionLikeLibesl() {
        // libesl does not return the notice: esl_recv_event fails on it, so recvEvent() gives a
        // SERVER_DISCONNECTED event and connected() drops to 0.
        assertEquals("+OK bye", con.sendRecv("exit").getHeader("Reply-Text", -1));
        ESLevent event = con.recvEvent();
        assertEquals("SERVER_DISCONNECTED", event.getType());
        assertEquals("SERVER_DISCONNECTED", event.getHeader("Event-Name", -1));
        assertNull(event.getBody());
        assertEquals(0, con.connected());
        assertEquals("SERVER_DISCONNECTED", con.recvEvent().getType());
    }

    @Test
    public void timedReceiveGivesNullOnTheFinalDisconnectNotice() {
        assertEquals(0, con.send("exit"));
        assertEquals("+OK bye", nextEnvelope().getHeader("Reply-Text", -1));
        assertNull(con.recvEventTimed(5000));
        assertEquals(0, con.connected());
    }
}
