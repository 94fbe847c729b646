package org.esl4j.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The library's default executor for completing the futures it returns. Not API.
 *
 * <p>Not the common fork-join pool: it has a single thread on a 2-core machine, so one task that
 * blocks there (a {@code runAsync} around a blocking call, a parallel stream doing I/O) stops every
 * completion, and a virtual thread waiting on a future, unlike a platform thread, does not help
 * the pool run them. Here a thread is made whenever none is idle and dropped after a minute
 * without work, so a stage that blocks only ever holds its own thread.
 */
public final class CompletionThreads {
    private static final long IDLE_SECONDS = 60;
    private static final Executor SHARED = new ThreadPoolExecutor(0, Integer.MAX_VALUE, IDLE_SECONDS,
            TimeUnit.SECONDS, new SynchronousQueue<Runnable>(), new ThreadFactory() {
                private final AtomicInteger count = new AtomicInteger();

                @Override
                public Thread newThread(Runnable task) {
                    Thread thread = new Thread(task, "esl4j-completion-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                }
            });

    private CompletionThreads() {
    }

    /**
     * The shared executor.
     *
     * @return daemon threads named {@code esl4j-completion-N}, made on demand
     */
    public static Executor shared() {
        return SHARED;
    }
}
