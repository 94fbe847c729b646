package org.freeswitch.esl;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.esl4j.testsupport.Transcript;

/**
 * A scripted FreeSWITCH for tests: replays the server side of a recorded transcript
 * (read by {@link Transcript}).
 *
 * <p>For each command the client sends, it answers with the frames that followed the same command
 * line in the recording (repeated commands take the recorded answers in turn; the last one is
 * reused). Unknown commands get {@code -ERR command not found}. After a non-linger disconnect
 * notice it closes the socket, as FreeSWITCH does. Every received command is recorded.
 */
final class FakeFreeSwitch implements AutoCloseable {
    private static final byte[] UNKNOWN = "Content-Type: command/reply\nReply-Text: -ERR command not found\n\n"
            .getBytes(StandardCharsets.UTF_8);
    private static final int SOCKET_TIMEOUT_MS = 20_000;

    /** One recorded connection: greeting frames, then answers keyed by command line. */
    static final class Script {
        final List<byte[]> greeting = new ArrayList<>();
        final Map<String, Deque<List<byte[]>>> answers = new LinkedHashMap<>();
        String firstCommand;

        Script copy() {
            Script copy = new Script();
            copy.greeting.addAll(greeting);
            copy.firstCommand = firstCommand;
            for (Map.Entry<String, Deque<List<byte[]>>> entry : answers.entrySet()) {
                copy.answers.put(entry.getKey(), new ArrayDeque<>(entry.getValue()));
            }
            return copy;
        }

        /** Adds (or replaces) the answer to a command line. */
        Script answer(String commandLine, String... frames) {
            List<byte[]> bytes = new ArrayList<>();
            for (String frame : frames) {
                bytes.add(frame.getBytes(StandardCharsets.UTF_8));
            }
            Deque<List<byte[]>> deque = new ArrayDeque<>();
            deque.add(bytes);
            answers.put(commandLine, deque);
            return this;
        }
    }

    /** Parses a transcript into one script per recorded connection. */
    static Map<String, Script> load(String fileName) throws IOException {
        Map<String, Script> scripts = new LinkedHashMap<>();
        Map<String, List<byte[]>> current = new LinkedHashMap<>();
        for (Transcript.Frame frame : Transcript.frames(fileName)) {
            String conn = frame.connection;
            Script script = scripts.get(conn);
            if (script == null) {
                script = new Script();
                scripts.put(conn, script);
            }
            if (frame.fromServer) {
                List<byte[]> answer = current.get(conn);
                (answer == null ? script.greeting : answer).add(frame.bytes());
            } else {
                String command = firstLine(frame.text());
                if (script.firstCommand == null) {
                    script.firstCommand = command;
                }
                List<byte[]> answer = new ArrayList<>();
                current.put(conn, answer);
                Deque<List<byte[]>> queue = script.answers.get(command);
                if (queue == null) {
                    queue = new ArrayDeque<>();
                    script.answers.put(command, queue);
                }
                queue.add(answer);
            }
        }
        return scripts;
    }

    private final ServerSocket listener;
    private final List<Script> inboundScripts;
    private final List<String> commands = Collections.synchronizedList(new ArrayList<String>());
    private final List<Thread> threads = Collections.synchronizedList(new ArrayList<Thread>());
    private final List<Socket> sockets = Collections.synchronizedList(new ArrayList<Socket>());
    private volatile boolean closed;

    private FakeFreeSwitch(List<Script> inboundScripts) throws IOException {
        this.inboundScripts = inboundScripts;
        this.listener = inboundScripts == null ? null : new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    /**
     * Listens on a free loopback port; each connection gets the script whose first command
     * (e.g. {@code auth ClueCon}) the client sends first.
     */
    static FakeFreeSwitch inbound(List<Script> scripts) throws IOException {
        final FakeFreeSwitch fake = new FakeFreeSwitch(scripts);
        fake.start(new Runnable() {
            @Override
            public void run() {
                while (!fake.closed) {
                    try {
                        final Socket socket = fake.listener.accept();
                        fake.start(new Runnable() {
                            @Override
                            public void run() {
                                fake.serveInbound(socket);
                            }
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            }
        });
        return fake;
    }

    /** Connects to an outbound listener as FreeSWITCH's {@code socket} application would. */
    static FakeFreeSwitch outbound(int port, final Script script) throws IOException {
        final FakeFreeSwitch fake = new FakeFreeSwitch(null);
        final Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        fake.start(new Runnable() {
            @Override
            public void run() {
                fake.serve(socket, script.copy());
            }
        });
        return fake;
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Every command received so far (whole message text, headers and body included). */
    List<String> commands() {
        synchronized (commands) {
            return new ArrayList<>(commands);
        }
    }

    /**
     * Waits until a received command starts with {@code prefix}.
     *
     * @return true when seen within the timeout
     */
    boolean awaitCommand(String prefix, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        synchronized (commands) {
            while (true) {
                for (String command : commands) {
                    if (command.startsWith(prefix)) {
                        return true;
                    }
                }
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    return false;
                }
                commands.wait(left);
            }
        }
    }

    private void start(Runnable body) {
        Thread thread = new Thread(body, "fake-freeswitch");
        thread.setDaemon(true);
        threads.add(thread);
        thread.start();
    }

    private void serveInbound(Socket socket) {
        try {
            socket.setSoTimeout(SOCKET_TIMEOUT_MS);
            OutputStream out = socket.getOutputStream();
            for (byte[] frame : inboundScripts.get(0).greeting) {
                out.write(frame);
            }
            out.flush();
            String first = readMessage(socket.getInputStream());
            if (first == null) {
                socket.close();
                return;
            }
            Script chosen = inboundScripts.get(0);
            for (Script script : inboundScripts) {
                if (firstLine(first).equals(script.firstCommand)) {
                    chosen = script;
                }
            }
            Script script = chosen.copy();
            if (!answer(socket, script, first)) {
                return;
            }
            serve(socket, script);
        } catch (IOException e) {
            close(socket);
        }
    }

    private void serve(Socket socket, Script script) {
        sockets.add(socket);
        try {
            socket.setSoTimeout(SOCKET_TIMEOUT_MS);
            InputStream in = socket.getInputStream();
            while (!closed) {
                String message = readMessage(in);
                if (message == null || !answer(socket, script, message)) {
                    break;
                }
            }
        } catch (IOException e) {
            // the client went away
        } finally {
            close(socket);
        }
    }

    /** Sends the answer to one message; false once the socket was closed. */
    private boolean answer(Socket socket, Script script, String message) throws IOException {
        synchronized (commands) {
            commands.add(message);
            commands.notifyAll();
        }
        Deque<List<byte[]>> queue = script.answers.get(firstLine(message));
        List<byte[]> frames;
        if (queue == null || queue.isEmpty()) {
            frames = Collections.singletonList(UNKNOWN);
        } else {
            frames = queue.size() > 1 ? queue.poll() : queue.peek();
        }
        OutputStream out = socket.getOutputStream();
        for (byte[] frame : frames) {
            out.write(frame);
            out.flush();
            String text = new String(frame, 0, Math.min(frame.length, 400), StandardCharsets.UTF_8)
                    .toLowerCase(Locale.ROOT);
            if (text.contains("content-type: text/disconnect-notice") && !text.contains("content-disposition: linger")) {
                close(socket);
                return false;
            }
        }
        return true;
    }

    /** One client message: lines up to a blank line, plus a Content-Length body. */
    private static String readMessage(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int previous = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            if (b == '\n' && previous == '\n') {
                break;
            }
            if (b != '\r') {
                head.write(b);
                previous = b;
            }
        }
        String text = new String(head.toByteArray(), StandardCharsets.UTF_8);
        int length = 0;
        for (String line : text.split("\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        byte[] body = new byte[length];
        int read = 0;
        while (read < length) {
            int n = in.read(body, read, length - read);
            if (n < 0) {
                return null;
            }
            read += n;
        }
        return text + "\n" + new String(body, StandardCharsets.UTF_8);
    }

    private static String firstLine(String text) {
        int end = text.indexOf('\n');
        return (end < 0 ? text : text.substring(0, end)).trim();
    }

    private static void close(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        if (listener != null) {
            listener.close();
        }
        synchronized (sockets) {
            for (Socket socket : sockets) {
                close(socket);
            }
        }
    }
}
