package org.esl4j;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.esl4j.dial.BridgeRequest;
import org.esl4j.dial.BridgeResult;
import org.esl4j.dial.Endpoint;
import org.esl4j.dial.HangupCause;
import org.esl4j.dial.Timeouts;
import org.junit.After;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * {@link AsyncSessionHandler}: calls handled by chained futures, with no thread per call, against
 * scripted FreeSWITCH calls ({@link FakeOutboundCall}).
 */
public class AsyncSessionHandlerTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String APP_THREAD = "app-completion-";
    private ExecutorService completions;
    private EslOutboundServer server;

    @BeforeClass
    public static void needNative() {
        assumeTrue("native library not available", SimulatorSupport.nativeAvailable());
    }

    @Before
    public void twoCompletionThreads() {
        AtomicInteger count = new AtomicInteger();
        completions = Executors.newFixedThreadPool(2, task -> {
            Thread thread = new Thread(task, APP_THREAD + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    @After
    public void stop() {
        if (server != null) {
            server.close();
        }
        completions.shutdownNow();
    }

    private void serve(AsyncSessionHandler handler) {
        server = EslOutboundServer.startAsync(ServerOptions.builder().port(0).linger(Duration.ofSeconds(1))
                .completionExecutor(completions).build(), handler);
    }

    private static <T> T next(BlockingQueue<T> queue) throws InterruptedException {
        T item = queue.poll(WAIT.getSeconds(), TimeUnit.SECONDS);
        assertNotNull("nothing within " + WAIT, item);
        return item;
    }

    private static String commandAfter(FakeOutboundCall call, String wanted) throws InterruptedException {
        String command;
        do {
            command = next(call.commands);
        } while (!command.startsWith(wanted));
        return command;
    }

    /** Threads alive now, by name, without the test's own fake FreeSWITCH threads. */
    private static Set<String> serverSideThreads() {
        Set<String> names = new HashSet<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (!thread.getName().startsWith("fake-freeswitch-")) {
                names.add(thread.getName());
            }
        }
        return names;
    }

    @Test
    public void manyConcurrentCallsAreServedByTwoThreadsWithNoThreadPerCall() throws Exception {
        int calls = 100;
        CountDownLatch answered = new CountDownLatch(calls);
        CompletableFuture<Void> allUp = new CompletableFuture<>();
        Set<String> handlerThreads = ConcurrentHashMap.newKeySet();
        serve(session -> {
            handlerThreads.add(Thread.currentThread().getName());
            return session.answer().thenCompose(event -> {
                handlerThreads.add(Thread.currentThread().getName());
                answered.countDown();
                return allUp;
            }).thenComposeAsync(up -> session.hangup(HangupCause.NORMAL_CLEARING), completions);
        });
        Set<String> before = serverSideThreads();
        List<FakeOutboundCall> fakes = new ArrayList<>();
        try {
            for (int i = 0; i < calls; i++) {
                fakes.add(new FakeOutboundCall(server.port(), true, "NO_ANSWER"));
            }
            assertTrue("every call answered", answered.await(WAIT.getSeconds(), TimeUnit.SECONDS));
            // Every call is up at once, in the middle of its handler.
            Set<String> during = serverSideThreads();
            during.removeAll(before);
            // The two completion threads, the delivery lanes and the JVM's own: a few, not one a call.
            assertTrue("threads made while " + calls + " calls are up: " + during, during.size() < 10);
            for (String name : during) {
                assertTrue("no handler thread per session: " + name, !name.matches("esl4j-session-[0-9]+"));
            }
            assertEquals(calls, server.stats().active());
            allUp.complete(null);
            for (FakeOutboundCall fake : fakes) {
                assertEquals("NORMAL_CLEARING", next(fake.hangupCauses));
                assertEquals("exit", commandAfter(fake, "exit"));
            }
        } finally {
            for (FakeOutboundCall fake : fakes) {
                fake.close();
            }
        }
        for (String name : handlerThreads) {
            assertTrue("handler code ran on " + name, name.startsWith(APP_THREAD));
        }
        assertEquals(0, server.stats().handlerFailures());
    }

    @Test
    public void everyCommandHasANonBlockingForm() throws Exception {
        BlockingQueue<Object> results = new LinkedBlockingQueue<>();
        serve(session -> session.answer()
                .thenCompose(answer -> session.set("hangup_after_bridge", "false"))
                .thenCompose(set -> session.bridge(BridgeRequest.to(Endpoint.user("2000"))
                        .timeouts(Timeouts.noAnswer(Duration.ofSeconds(20))).build()))
                .thenCompose(bridge -> {
                    results.add(bridge);
                    return session.playback("ivr/ivr-no_agents_available.wav");
                })
                .thenCompose(played -> session.api("status"))
                .thenCompose(status -> {
                    results.add(status);
                    return session.nolinger();
                })
                .thenCompose(nolinger -> session.resume())
                .thenCompose(resumed -> session.myevents())
                .thenCompose(subscribed -> session.hangup(HangupCause.NO_ANSWER)));
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
            BridgeResult bridge = (BridgeResult) next(results);
            assertEquals(HangupCause.NO_ANSWER, bridge.cause());
            assertEquals("+OK\n", next(results));
            assertEquals("answer", next(call.executed));
            assertEquals("set hangup_after_bridge=false", next(call.executed));
            assertTrue(next(call.executed).startsWith("set continue_on_fail=true"));
            assertTrue(next(call.executed).startsWith("bridge "));
            assertEquals("playback ivr/ivr-no_agents_available.wav", next(call.executed));
            assertEquals("NO_ANSWER", next(call.hangupCauses));
            assertEquals("exit", commandAfter(call, "exit"));
        }
        assertEquals(0, server.stats().handlerFailures());
    }

    @Test
    public void aFailedStageIsCountedAndHangsTheCallUp() throws Exception {
        serve(session -> session.answer().thenApply(answered -> {
            throw new IllegalStateException("application bug");
        }));
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
            assertEquals("answer", next(call.executed));
            assertEquals(EslOutboundServer.FAILED_HANDLER_CAUSE.name(), next(call.hangupCauses));
            assertEquals("exit", commandAfter(call, "exit"));
        }
        assertEquals(1, server.stats().handlerFailures());
    }

    @Test
    public void aHandlerThatReturnsNullFailsLikeAFailedStage() throws Exception {
        serve(session -> null);
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
            assertEquals(EslOutboundServer.FAILED_HANDLER_CAUSE.name(), next(call.hangupCauses));
            assertEquals("exit", commandAfter(call, "exit"));
        }
        assertEquals(1, server.stats().handlerFailures());
    }

    @Test
    public void aHangUpMidStageEndsTheSessionAndTheStageIsIgnoredAfterwards() throws Exception {
        CompletableFuture<Object> neverDone = new CompletableFuture<>();
        BlockingQueue<EslSession> sessions = new LinkedBlockingQueue<>();
        serve(session -> session.answer().thenCompose(answered -> {
            sessions.add(session);
            return neverDone;
        }));
        EslSession session;
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
            session = next(sessions);
            call.callerHangsUp("NORMAL_CLEARING");
            assertNull("the session ended with its socket", session.ended().get(WAIT.getSeconds(), TimeUnit.SECONDS));
        }
        neverDone.completeExceptionally(new IllegalStateException("too late"));
        // Nothing left to run for it: a command on the ended session fails at once.
        assertTrue(session.answer().handle((event, failure) -> failure != null).get(WAIT.getSeconds(), TimeUnit.SECONDS));
        assertEquals("a stage outliving its call is not a handler failure", 0, server.stats().handlerFailures());
    }

    @Test
    public void aStageThatFailsBecauseTheCallerHungUpIsNotCounted() throws Exception {
        CompletableFuture<Object> hungUp = new CompletableFuture<>();
        serve(session -> session.answer().thenCompose(answered -> session.hangupEvent())
                .thenCompose(event -> session.playback("ivr/too-late.wav")).whenComplete((done, failure) -> {
                    hungUp.complete(failure);
                }));
        try (FakeOutboundCall call = new FakeOutboundCall(server.port(), true, "NO_ANSWER")) {
            assertEquals("answer", next(call.executed));
            call.callerHangsUp("NORMAL_CLEARING");
            assertNotNull("the playback failed", hungUp.get(WAIT.getSeconds(), TimeUnit.SECONDS));
        }
        server.shutdown(WAIT);
        assertEquals(0, server.stats().handlerFailures());
    }
}
