package io.settler.zerotrust.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class AuditEventTest {

    @Test
    void refusesForgedLogLinesInFieldValues() {
        AuditEvent event = AuditEvent.builder(Instant.EPOCH, "peer.refused", AuditEvent.Outcome.REFUSED)
                .field("identity", "spiffe://example.org/api\nFAKE outcome=ALLOWED")
                .build();

        assertThat(event.fields().get("identity")).doesNotContain("\n").contains("FAKE");
    }

    @Test
    void boundsLongValues() {
        AuditEvent event = AuditEvent.builder(Instant.EPOCH, "peer.refused", AuditEvent.Outcome.REFUSED)
                .field("reason", "x".repeat(10_000)).build();

        assertThat(event.fields().get("reason")).hasSizeLessThan(600);
    }

    @Test
    void refusesMalformedActionAndFieldNames() {
        assertThatThrownBy(() -> AuditEvent.builder(Instant.EPOCH, "Peer Refused", AuditEvent.Outcome.REFUSED).build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AuditEvent.builder(Instant.EPOCH, "peer.refused", AuditEvent.Outcome.REFUSED)
                .field("bad name", "x").build()).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void writesKeyValuePairsToTheAuditLoggerAtWarnForRefusals() {
        Logger logger = (Logger) LoggerFactory.getLogger("io.settler.zerotrust.audit");
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            AuditLog.slf4j().record(AuditEvent.builder(Instant.EPOCH, "peer.refused", AuditEvent.Outcome.REFUSED)
                    .field("identity", "spiffe://example.org/worker").field("rule", "none").build());
        } finally {
            logger.detachAppender(appender);
        }

        assertThat(appender.list).singleElement().satisfies(e -> {
            assertThat(e.getLevel()).hasToString("WARN");
            assertThat(e.getKeyValuePairs()).extracting(kv -> kv.key + "=" + kv.value)
                    .containsExactly("action=peer.refused", "outcome=REFUSED",
                            "identity=spiffe://example.org/worker", "rule=none");
        });
    }
}
