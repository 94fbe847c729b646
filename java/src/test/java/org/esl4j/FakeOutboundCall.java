package org.esl4j;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A scripted FreeSWITCH call for outbound-server tests: connects to the server like the {@code
 * socket} application, answers {@code connect} with channel data, and plays FreeSWITCH's part for
 * {@code myevents}, {@code linger}, {@code sendmsg} execute / hangup and {@code exit} the way the
 * recorded transcripts 04-06 show (replies, CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE with the
 * sender's Event-UUID, a failed bridge that hangs the channel up unless {@code continue_on_fail}).
 */
final class FakeOutboundCall implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final boolean full;
    private final String uuid = UUID.randomUUID().toString();
    private final String bridgeFailure;
    private final Map<String, String> variables = new LinkedHashMap<>();
    /** Every command the server sent, first line only. */
    final BlockingQueue<String> commands = new LinkedBlockingQueue<>();
    /** Every application executed, as "app arg". */
    final BlockingQueue<String> executed = new LinkedBlockingQueue<>();
    /** The cause of every {@code hangup} the server sent. */
    final BlockingQueue<String> hangupCauses = new LinkedBlockingQueue<>();
    private final Thread worker;
    private boolean up = true;

    /**
     * @param port the outbound server's port
     * @param full whether the "dialplan" gave {@code full}
     * @param bridgeFailure the cause every bridge fails with, e.g. {@code USER_BUSY}
     */
    FakeOutboundCall(int port, boolean full, String bridgeFailure) throws IOException {
        this.socket = new Socket("127.0.0.1", port);
        this.socket.setSoTimeout(30_000);
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
        this.full = full;
        this.bridgeFailure = bridgeFailure;
        this.worker = new Thread(this::serve, "fake-freeswitch-" + uuid);
        this.worker.setDaemon(true);
        this.worker.start();
    }

    String uuid() {
        return uuid;
    }

    private void serve() {
        try {
            while (true) {
                Map<String, String> command = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                String first = readCommand(command);
                if (first == null) {
                    return;
                }
                commands.add(first);
                handle(first, command);
            }
        } catch (IOException ended) {
            // The server closed the socket.
        }
    }

    private void handle(String first, Map<String, String> headers) throws IOException {
        if (first.equals("connect")) {
            StringBuilder reply = new StringBuilder();
            for (Map.Entry<String, String> header : channelHeaders("CHANNEL_DATA").entrySet()) {
                reply.append(header.getKey()).append(": ").append(encode(header.getValue())).append('\n');
            }
            reply.append("Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\nControl: ")
                    .append(full ? "full" : "single-channel").append("\n\n");
            write(reply.toString());
        } else if (first.startsWith("myevents")) {
            reply("+OK Events Enabled");
        } else if (first.equals("nolinger")) {
            reply(full ? "+OK will not linger" : "-ERR command not found");
        } else if (first.equals("resume")) {
            reply("+OK");
        } else if (first.startsWith("linger")) {
            reply(full ? "+OK will linger" : "-ERR command not found");
        } else if (first.startsWith("api ")) {
            if (full) {
                String body = "+OK\n";
                write("Content-Type: api/response\nContent-Length: " + body.length() + "\n\n" + body);
            } else {
                reply("-ERR command not found");
            }
        } else if (first.startsWith("sendmsg")) {
            sendmsg(headers);
        } else if (first.equals("exit")) {
            reply("+OK bye");
            socket.close();
        } else {
            reply("-ERR command not found");
        }
    }

    private void sendmsg(Map<String, String> headers) throws IOException {
        String callCommand = headers.get("call-command");
        if ("hangup".equals(callCommand)) {
            reply("+OK");
            hangupCauses.add(headers.getOrDefault("hangup-cause", "NORMAL_CLEARING"));
            hangUp(headers.getOrDefault("hangup-cause", "NORMAL_CLEARING"));
            return;
        }
        String app = headers.get("execute-app-name");
        String arg = headers.containsKey("execute-app-arg") ? headers.get("execute-app-arg") : headers.get("body");
        String appUuid = headers.getOrDefault("Event-UUID", UUID.randomUUID().toString());
        executed.add(app + (arg == null ? "" : " " + arg));
        boolean bridgeHangsUp = false;
        reply("+OK");
        Map<String, String> execute = channelHeaders("CHANNEL_EXECUTE");
        execute.put("Application", app);
        execute.put("Application-UUID", appUuid);
        event(execute);
        Map<String, String> complete = channelHeaders("CHANNEL_EXECUTE_COMPLETE");
        complete.put("Application", app);
        if (arg != null) {
            complete.put("Application-Data", arg);
        }
        complete.put("Application-UUID", appUuid);
        complete.put("Application-Response", "_none_");
        if ("set".equals(app) && arg != null && arg.contains("=")) {
            variables.put(arg.substring(0, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        } else if ("bridge".equals(app)) {
            String dialStatus = bridgeFailure.equals("USER_BUSY") ? "BUSY" : bridgeFailure;
            boolean keep = "true".equals(variables.get("continue_on_fail"))
                    || bridgeFailure.equals("NO_ANSWER") || bridgeFailure.equals("NO_USER_RESPONSE");
            // Like FreeSWITCH: the outcome variables are on the channel, so every later event has them.
            variables.put("DIALSTATUS", dialStatus);
            variables.put("originate_disposition", bridgeFailure);
            variables.put("originate_failed_cause", bridgeFailure);
            if (!keep) {
                // Transcript 04, [out]: CHANNEL_HANGUP, then the bridge's CHANNEL_EXECUTE_COMPLETE
                // (with the channel's hang-up state), then CHANNEL_HANGUP_COMPLETE.
                startHangUp(bridgeFailure);
                bridgeHangsUp = true;
            }
            complete = channelHeaders("CHANNEL_EXECUTE_COMPLETE");
            complete.put("Application", app);
            complete.put("Application-Data", arg);
            complete.put("Application-UUID", appUuid);
            complete.put("Application-Response", "_none_");
        }
        event(complete);
        if (bridgeHangsUp) {
            event(channelHeaders("CHANNEL_HANGUP_COMPLETE"));
        }
    }

    /**
     * The caller hangs up, as FreeSWITCH reports it on a socket without linger: the hang-up
     * events, the final disconnect notice, then the socket closes.
     */
    void callerHangsUp(String cause) throws IOException {
        hangUp(cause);
        String body = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";
        write("Content-Type: text/disconnect-notice\nControlled-Session-UUID: " + uuid
                + "\nContent-Disposition: disconnect\nContent-Length: " + body.length() + "\n\n" + body);
        socket.close();
    }

    /** Sends {@code count} events named {@code eventName} for this channel, as a flood would. */
    void sendEvents(String eventName, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            event(channelHeaders(eventName));
        }
    }

    /**
     * Waits until the server closed the socket (the fake's reader saw its end).
     *
     * @return false when it was still open after {@code waitMs}
     */
    boolean awaitClosedByServer(long waitMs) throws InterruptedException {
        worker.join(waitMs);
        return !worker.isAlive();
    }

    private void hangUp(String cause) throws IOException {
        startHangUp(cause);
        event(channelHeaders("CHANNEL_HANGUP_COMPLETE"));
    }

    private void startHangUp(String cause) throws IOException {
        up = false;
        variables.put("hangup_cause", cause);
        event(channelHeaders("CHANNEL_HANGUP"));
    }

    private Map<String, String> channelHeaders(String eventName) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Event-Name", eventName);
        headers.put("Unique-ID", uuid);
        headers.put("Channel-Name", "loopback/fake-" + uuid.substring(0, 8));
        headers.put("Answer-State", up ? "answered" : "hangup");
        if (!up) {
            headers.put("Hangup-Cause", variables.get("hangup_cause"));
        }
        headers.put("variable_sip_from_user", "1000");
        for (Map.Entry<String, String> variable : variables.entrySet()) {
            headers.put("variable_" + variable.getKey(), variable.getValue());
        }
        return headers;
    }

    private void event(Map<String, String> headers) throws IOException {
        StringBuilder body = new StringBuilder();
        for (Map.Entry<String, String> header : headers.entrySet()) {
            body.append(header.getKey()).append(": ").append(encode(header.getValue())).append('\n');
        }
        body.append('\n');
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        write("Content-Length: " + bytes.length + "\nContent-Type: text/event-plain\n\n" + body);
    }

    private void reply(String text) throws IOException {
        write("Content-Type: command/reply\nReply-Text: " + text + "\n\n");
    }

    private synchronized void write(String frame) throws IOException {
        out.write(frame.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String encode(String value) throws IOException {
        return URLEncoder.encode(value, "UTF-8").replace("+", "%20");
    }

    /** Reads one command: its first line, headers into the map, and a body under "body". */
    private String readCommand(Map<String, String> headers) throws IOException {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line == null) {
                return null;
            }
            if (line.isEmpty()) {
                if (lines.isEmpty()) {
                    continue;
                }
                break;
            }
            lines.add(line);
        }
        for (String line : lines.subList(1, lines.size())) {
            int colon = line.indexOf(": ");
            if (colon > 0) {
                headers.put(line.substring(0, colon), line.substring(colon + 2));
            }
        }
        String length = headers.get("content-length");
        if (length != null) {
            byte[] body = new byte[Integer.parseInt(length.trim())];
            int read = 0;
            while (read < body.length) {
                int n = in.read(body, read, body.length - read);
                if (n < 0) {
                    return null;
                }
                read += n;
            }
            headers.put("body", new String(body, StandardCharsets.UTF_8));
        }
        return lines.get(0);
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            if (b == '\n') {
                return new String(line.toByteArray(), StandardCharsets.UTF_8);
            }
            line.write(b);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
