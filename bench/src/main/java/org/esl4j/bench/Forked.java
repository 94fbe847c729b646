package org.esl4j.bench;

/** The body of a benchmark JVM started by {@link Bench}. */
final class Forked {
    private Forked() {
    }

    /** A benchmark body that may throw. */
    interface Body {
        void run() throws Exception;
    }

    /** Runs {@code body}; returns the exit status: 0, or 1 after printing its failure. */
    static int run(Body body) {
        try {
            body.run();
            return 0;
        } catch (Exception | Error failure) {
            failure.printStackTrace();
            return 1;
        }
    }
}
