package org.esl4j.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** The flood corpus: concatenated {@code text/event-plain} frames, replayed round-robin. */
final class Corpus {
    private static final String CONTENT_LENGTH = "Content-Length: ";

    private Corpus() {
    }

    /** The byte size of each frame of the corpus named by {@code esl4j.bench.corpus}, in order. */
    static int[] frameSizes() throws IOException {
        byte[] corpus = Files.readAllBytes(Paths.get(Config.required("esl4j.bench.corpus")));
        String text = new String(corpus, StandardCharsets.ISO_8859_1);
        List<Integer> sizes = new ArrayList<>();
        int offset = 0;
        while (offset < text.length()) {
            int headerEnd = text.indexOf("\n\n", offset);
            if (headerEnd < 0) {
                throw new IOException("corpus: unterminated header block at byte " + offset);
            }
            int body = 0;
            int length = text.indexOf(CONTENT_LENGTH, offset);
            if (length >= 0 && length < headerEnd) {
                int valueStart = length + CONTENT_LENGTH.length();
                body = Integer.parseInt(text.substring(valueStart, text.indexOf('\n', valueStart)).trim());
            }
            int end = headerEnd + 2 + body;
            sizes.add(end - offset);
            offset = end;
        }
        int[] result = new int[sizes.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = sizes.get(i);
        }
        return result;
    }
}
