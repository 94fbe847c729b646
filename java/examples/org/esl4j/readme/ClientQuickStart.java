package org.esl4j.readme;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.esl4j.ClientOptions;
import org.esl4j.EslClient;
import org.esl4j.Subscription;

/** README, "modern client": commands with deadlines, events by name, in order per channel. */
public final class ClientQuickStart {
    private ClientQuickStart() {
    }

    /**
     * Runs {@code api status} and {@code bgapi version}, then waits for the next answered call.
     *
     * @param options where FreeSWITCH is, e.g. {@code ClientOptions.builder().host("10.0.0.5").build()}
     * @param wait how long to wait for a CHANNEL_ANSWER
     * @return the status text
     * @throws Exception when FreeSWITCH cannot be reached or does not answer in time
     */
    public static String run(ClientOptions options, Duration wait) throws Exception {
        try (EslClient client = EslClient.connect(options)) {
            String status = client.api("status", Duration.ofSeconds(5));
            String version = client.bgapi("version", Duration.ofSeconds(5)); // its BACKGROUND_JOB, correlated for you
            System.out.println(version.trim());
            CountDownLatch answered = new CountDownLatch(1);
            Subscription answers = client.onEvent("CHANNEL_ANSWER", event -> {
                System.out.println("answered: " + event.uniqueId());
                answered.countDown();
            });
            client.subscribe("CHANNEL_ANSWER").get(5, TimeUnit.SECONDS);
            answered.await(wait.toMillis(), TimeUnit.MILLISECONDS);
            answers.close();
            return status;
        }
    }

    /**
     * Connects with FreeSWITCH's defaults (127.0.0.1:8021, ClueCon).
     *
     * @param args none
     * @throws Exception when FreeSWITCH cannot be reached
     */
    public static void main(String[] args) throws Exception {
        System.out.println(run(ClientOptions.builder().build(), Duration.ofSeconds(30)));
    }
}
