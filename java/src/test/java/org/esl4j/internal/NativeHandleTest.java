package org.esl4j.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.esl4j.EslConnectionClosedException;
import org.junit.Test;

public class NativeHandleTest {
    /** Counts lifecycle calls instead of touching native memory. */
    private static final class Recorder implements NativeHandle.Lifecycle {
        final AtomicInteger shutdowns = new AtomicInteger();
        final AtomicInteger destroys = new AtomicInteger();
        final CountDownLatch destroyed = new CountDownLatch(1);

        @Override
        public void shutdown(long handle) {
            shutdowns.incrementAndGet();
        }

        @Override
        public void destroy(long handle) {
            destroys.incrementAndGet();
            destroyed.countDown();
        }
    }

    private static final class Owner extends NativeHandle {
        Owner(long handle, Lifecycle lifecycle) {
            super(handle, lifecycle);
        }

        long lease() {
            return acquire();
        }

        void giveBack() {
            release();
        }
    }

    @Test
    public void closeIsIdempotentAndDestroysOnce() {
        Recorder recorder = new Recorder();
        Owner owner = new Owner(42, recorder);
        assertFalse(owner.isClosed());
        owner.close();
        owner.close();
        assertTrue(owner.isClosed());
        assertEquals(1, recorder.shutdowns.get());
        assertEquals(1, recorder.destroys.get());
    }

    @Test
    public void useAfterCloseThrowsInsteadOfCrashing() {
        Owner owner = new Owner(42, new Recorder());
        owner.close();
        try {
            owner.lease();
            fail("a closed handle was leased");
        } catch (EslConnectionClosedException expected) {
            assertTrue(expected.getMessage().contains("closed"));
        }
    }

    @Test
    public void destroyWaitsForTheLastRunningCall() {
        Recorder recorder = new Recorder();
        Owner owner = new Owner(42, recorder);
        assertEquals(42, owner.lease());
        assertEquals(42, owner.lease());
        owner.close();
        assertEquals("shutdown wakes blocked calls at once", 1, recorder.shutdowns.get());
        assertEquals(0, recorder.destroys.get());
        owner.giveBack();
        assertEquals(0, recorder.destroys.get());
        owner.giveBack();
        assertEquals(1, recorder.destroys.get());
    }

    @Test
    public void concurrentCloseAndCallsNeverDestroyTwice() throws Exception {
        for (int round = 0; round < 200; round++) {
            final Recorder recorder = new Recorder();
            final Owner owner = new Owner(7, recorder);
            final CountDownLatch go = new CountDownLatch(1);
            Thread[] callers = new Thread[4];
            for (int i = 0; i < callers.length; i++) {
                callers[i] = new Thread(() -> {
                    try {
                        go.await();
                        for (int call = 0; call < 100; call++) {
                            owner.lease();
                            owner.giveBack();
                        }
                    } catch (EslConnectionClosedException | InterruptedException e) {
                        // closed under us: expected
                    }
                });
                callers[i].start();
            }
            go.countDown();
            owner.close();
            for (Thread caller : callers) {
                caller.join(10_000);
                assertFalse(caller.isAlive());
            }
            assertEquals(1, recorder.destroys.get());
        }
    }

    @Test
    public void abandonedOwnersAreClosedByTheLeakGuard() throws Exception {
        Recorder recorder = new Recorder();
        abandon(recorder);
        for (int i = 0; i < 100 && recorder.destroyed.getCount() > 0; i++) {
            System.gc();
            recorder.destroyed.await(100, TimeUnit.MILLISECONDS);
        }
        assertEquals("the leak guard did not close the abandoned owner", 0, recorder.destroyed.getCount());
        assertEquals(1, recorder.shutdowns.get());
    }

    /** Creates an owner that becomes unreachable when this returns. */
    private static void abandon(Recorder recorder) {
        assertFalse(new Owner(9, recorder).isClosed());
    }
}
