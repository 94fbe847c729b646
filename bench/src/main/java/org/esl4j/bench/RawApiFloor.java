package org.esl4j.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The floor of an {@code api} round trip on this machine and simulator: libesl's way (write the
 * command, read the reply on the same thread from a blocking socket) on a connection of its own
 * that carries no events, while a {@link RawSocketClient} takes the flood. No client can answer
 * faster than the simulator answers this one.
 */
final class RawApiFloor implements FloodClient {
    private final RawSocketClient events;
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RawApiFloor(int port, EventCounter counter) throws IOException {
        events = new RawSocketClient(port, counter);
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
        readFrame(); // auth/request
        out.write("auth ClueCon\n\n".getBytes(StandardCharsets.US_ASCII));
        if (!readFrame().contains("+OK")) {
            throw new IOException("raw api connection not accepted");
        }
    }

    @Override
    public void api(String command) throws IOException {
        out.write(("api " + command + "\n\n").getBytes(StandardCharsets.UTF_8));
        if (!readFrame().contains("api/response")) {
            throw new IOException("raw api: not an api/response");
        }
    }

    /** Reads one frame; returns its header block (the body, Content-Length bytes, is skipped). */
    private String readFrame() throws IOException {
        StringBuilder headers = new StringBuilder();
        int previous = -1;
        for (int b = in.read(); !(b == '\n' && previous == '\n'); b = in.read()) {
            if (b < 0) {
                throw new IOException("connection closed");
            }
            headers.append((char) b);
            previous = b;
        }
        String block = headers.toString();
        for (String line : block.split("\n")) {
            if (line.startsWith("Content-Length: ")) {
                long body = Long.parseLong(line.substring("Content-Length: ".length()).trim());
                while (body > 0) {
                    body -= in.skip(body);
                }
            }
        }
        return block;
    }

    @Override
    public void close() throws IOException {
        socket.close();
        events.close();
    }
}
