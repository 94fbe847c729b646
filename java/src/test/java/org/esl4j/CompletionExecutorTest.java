package org.esl4j;

import static org.junit.Assert.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.esl4j.testing.EslSimulator;
import org.junit.Test;

/** Where the futures of the modern API complete by default. */
public class CompletionExecutorTest {
    private static final long WAIT_SECONDS = 20;

    @Test
    public void repliesStillCompleteWhileEveryCommonPoolThreadIsBlocked() throws Exception {
        int parallelism = ForkJoinPool.commonPool().getParallelism();
        CountDownLatch blocking = new CountDownLatch(parallelism);
        CountDownLatch release = new CountDownLatch(1);
        try (EslSimulator sim = EslSimulator.start();
                EslClient client = EslClient.connect(sim.clientOptions().build())) {
            // What an application does to the common pool: runAsync around blocking work.
            for (int i = 0; i < parallelism; i++) {
                ForkJoinPool.commonPool().execute(() -> {
                    blocking.countDown();
                    awaitQuietly(release);
                });
            }
            assertTrue("the common pool's threads are all busy", blocking.await(WAIT_SECONDS, TimeUnit.SECONDS));

            CountDownLatch replied = new CountDownLatch(1);
            AtomicReference<String> completingThread = new AtomicReference<>();
            // whenComplete, not join(): a platform thread in join() would run the pool's queued
            // tasks itself and hide the starvation that a virtual thread (or a listener) meets.
            client.api("status").whenComplete((reply, failure) -> {
                completingThread.set(Thread.currentThread().getName());
                replied.countDown();
            });
            assertTrue("the api reply completed", replied.await(WAIT_SECONDS, TimeUnit.SECONDS));
            String completer = completingThread.get();
            // The caller's own thread when the reply was in before whenComplete was attached.
            assertTrue(completer, completer.startsWith("esl4j-completion-")
                    || completer.equals(Thread.currentThread().getName()));
        } finally {
            release.countDown();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(WAIT_SECONDS * 3, TimeUnit.SECONDS);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
