package org.esl4j.spring.example;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.esl4j.EslEvent;
import org.esl4j.spring.EslListener;
import org.springframework.stereotype.Component;

/** Logs every hang-up seen on the inbound connection, with its cause. */
@Component
public class HangupLogger {
    private static final Log LOG = LogFactory.getLog(HangupLogger.class);

    /** Made by Spring. */
    public HangupLogger() {}

    /**
     * One hang-up.
     *
     * @param event the {@code CHANNEL_HANGUP_COMPLETE} event
     */
    @EslListener("CHANNEL_HANGUP_COMPLETE")
    public void onHangup(EslEvent event) {
        LOG.info("hang-up of " + event.uniqueId() + " (" + event.header("Caller-Caller-ID-Number") + "): "
                + event.hangupCause());
    }
}
