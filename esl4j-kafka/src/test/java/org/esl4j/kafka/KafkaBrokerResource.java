package org.esl4j.kafka;

import org.junit.rules.ExternalResource;

/**
 * One {@link KafkaBroker} for a test class: {@code @ClassRule public static final
 * KafkaBrokerResource BROKER = new KafkaBrokerResource();}.
 */
public final class KafkaBrokerResource extends ExternalResource {
    private KafkaBroker broker;

    @Override
    protected void before() throws Throwable {
        broker = KafkaBroker.start();
    }

    @Override
    protected void after() {
        if (broker != null) {
            broker.close();
        }
    }

    /** @return the running broker's {@code bootstrap.servers} */
    public String bootstrapServers() {
        return broker.bootstrapServers();
    }
}
