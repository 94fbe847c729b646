package org.esl4j.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The transport's ceiling: a blocking socket read into a 1 MiB buffer with no parsing; frames are
 * counted from the known corpus frame sizes, so no header is read ({@code accept(null, null)}).
 */
final class RawSocketClient implements FloodClient {
    private final Socket socket;
    private final Thread reader;

    RawSocketClient(int port, EventCounter counter) throws IOException {
        int[] frameSizes = Corpus.frameSizes();
        socket = new Socket("127.0.0.1", port);
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream();
        expectReply(in, "auth/request");
        out.write("auth ClueCon\n\n".getBytes(StandardCharsets.US_ASCII));
        expectReply(in, "+OK");
        out.write("event plain ALL\n\n".getBytes(StandardCharsets.US_ASCII));
        expectReply(in, "+OK");
        reader = new Thread(() -> {
            byte[] buffer = new byte[1 << 20];
            int frame = 0;
            long untilFrameEnd = frameSizes[0];
            try {
                for (int read = in.read(buffer); read > 0; read = in.read(buffer)) {
                    untilFrameEnd -= read;
                    while (untilFrameEnd <= 0) {
                        counter.accept(null, null);
                        frame = (frame + 1) % frameSizes.length;
                        untilFrameEnd += frameSizes[frame];
                    }
                }
            } catch (IOException closed) {
                // close() ends the run
            }
        }, "raw-socket-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** Reads one header-only reply (up to the blank line) and checks it mentions {@code expected}. */
    private static void expectReply(InputStream in, String expected) throws IOException {
        ByteArrayOutputStream reply = new ByteArrayOutputStream();
        int previous = -1;
        for (int b = in.read(); ; b = in.read()) {
            if (b < 0) {
                throw new IOException("connection closed before the reply");
            }
            if (b == '\n' && previous == '\n') {
                break;
            }
            reply.write(b);
            previous = b;
        }
        String text = reply.toString("UTF-8");
        if (!text.contains(expected)) {
            throw new IOException("unexpected reply: " + text);
        }
    }

    @Override
    public void api(String command) {
        throw new UnsupportedOperationException("the raw socket client only measures the transport");
    }

    @Override
    public void close() throws IOException {
        socket.close();
        Threads.join(reader);
    }
}
