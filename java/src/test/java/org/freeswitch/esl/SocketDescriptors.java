package org.freeswitch.esl;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;

/**
 * Finds the descriptor of a Java socket or file without reflection, from Linux's {@code /proc}:
 * the socket's inode in {@code /proc/net/tcp[6]} (matched by its two ports), then the entry of
 * {@code /proc/self/fd} that links to it. What an application gets from its own accept loop
 * (JNI, Netty epoll); tests need it to hand a descriptor to {@code ESLconnection(int)}.
 */
final class SocketDescriptors {
    private SocketDescriptors() {
    }

    static boolean available() {
        return Files.isDirectory(Paths.get("/proc/self/fd")) && Files.isReadable(Paths.get("/proc/net/tcp"));
    }

    /** The descriptor of a connected TCP socket of this process. */
    static int of(Socket socket) throws IOException {
        String local = String.format(Locale.ROOT, ":%04X", socket.getLocalPort());
        String remote = String.format(Locale.ROOT, ":%04X", socket.getPort());
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            Path path = Paths.get(table);
            if (!Files.isReadable(path)) {
                continue;
            }
            for (String line : Files.readAllLines(path, StandardCharsets.US_ASCII)) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length > 9 && fields[1].endsWith(local) && fields[2].endsWith(remote)) {
                    return linkedTo("socket:[" + fields[9] + "]");
                }
            }
        }
        throw new IOException("no /proc/net/tcp entry for " + socket);
    }

    /** The descriptor of an open file of this process. */
    static int of(Path file) throws IOException {
        return linkedTo(file.toRealPath().toString());
    }

    /** What a descriptor of this process refers to, e.g. {@code socket:[1234]}. */
    static String target(int descriptor) throws IOException {
        return Files.readSymbolicLink(Paths.get("/proc/self/fd/" + descriptor)).toString();
    }

    private static int linkedTo(String target) throws IOException {
        try (DirectoryStream<Path> descriptors = Files.newDirectoryStream(Paths.get("/proc/self/fd"))) {
            for (Path descriptor : descriptors) {
                try {
                    if (Files.readSymbolicLink(descriptor).toString().equals(target)) {
                        return Integer.parseInt(descriptor.getFileName().toString());
                    }
                } catch (IOException closedMeanwhile) {
                    // The directory stream's own descriptor, or one closed by another thread.
                }
            }
        }
        throw new IOException("no descriptor of this process links to " + target);
    }
}
