package io.settler.zerotrust.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class AuditEventTest {

    private final List<AuditEvent> recorded = new ArrayList<>();
    private final AuditLog log = ((AuditLog) recorded::add).withClock(Clock.fixed(Instant.EPOCH, ZoneOffset.UTC));

    @Test
    void refusesForgedLogLinesInFieldValues() {
        AuditEvent event = log.event(SampleAudit.PEER_REFUSED)
                .field("identity", "spiffe://example.org/api\nFAKE outcome=ALLOWED")
                .record();

        assertThat(event.fields().get("identity")).doesNotContain("\n").contains("FAKE");
    }

    @Test
    void boundsLongValues() {
        AuditEvent event = log.event(SampleAudit.PEER_REFUSED).field("reason", "x".repeat(10_000)).record();

        assertThat(event.fields().get("reason")).hasSizeLessThan(600);
    }

    @Test
    void refusesMalformedCatalogueEntriesAndFieldNames() {
        assertThatThrownBy(() -> AuditAction.define("Peer Refused", AuditEvent.Outcome.REFUSED, "zerotrust.peers")
                .describe("x")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dotted lower case");
        assertThatThrownBy(() -> AuditAction.define("peer.refused", AuditEvent.Outcome.REFUSED, "Peers")
                .describe("x")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("meter");
        assertThatThrownBy(() -> AuditAction.define("peer.refused", AuditEvent.Outcome.REFUSED, "zerotrust.peers")
                .fields("reason").tags("Remote").describe("x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a tag is a field name");
        assertThatThrownBy(() -> log.event(SampleAudit.PEER_REFUSED).field("bad name", "x").record())
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theLogsClockStampsEvents() {
        AuditEvent event = log.event(SampleAudit.PEER_ALLOWED).record();

        assertThat(event.time()).isEqualTo(Instant.EPOCH);
        assertThat(event.action()).isEqualTo("peer.allowed");
        assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.ALLOWED);
        assertThat(recorded).containsExactly(event);
    }

    @Test
    void refusedRecordsTheReasonAndDetailAndHandsTheRefusalBack() {
        SampleRefusal refusal = new SampleRefusal();

        SampleRefusal thrown = log.event(SampleAudit.TOKEN_REJECTED).refused(refusal);

        assertThat(thrown).isSameAs(refusal);
        assertThat(recorded).singleElement().satisfies(event -> assertThat(event.fields())
                .containsExactly(Map.entry("reason", "WEAK_KEY"),
                        Map.entry("detail", "the key is too short; use at least 2048 bits")));
    }

    /** A refusal as the modules' exceptions make them. */
    private static final class SampleRefusal extends RuntimeException implements Refusal {
        private static final long serialVersionUID = 1L;

        private enum Reason { WEAK_KEY }

        SampleRefusal() {
            super("the key is too short; use at least 2048 bits");
        }

        @Override
        public Reason reason() {
            return Reason.WEAK_KEY;
        }
    }

    @Test
    void writesKeyValuePairsToTheAuditLoggerAtTheEntrysLevel() {
        Logger logger = (Logger) LoggerFactory.getLogger("io.settler.zerotrust.audit");
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        Level configured = logger.getLevel();
        logger.setLevel(Level.INFO);
        boolean recordsRoutine;
        boolean recordsAllowed;
        try {
            recordsRoutine = AuditLog.slf4j().records(SampleAudit.ROUTINE);
            recordsAllowed = AuditLog.slf4j().records(SampleAudit.PEER_ALLOWED);
            AuditLog.slf4j().event(SampleAudit.PEER_REFUSED)
                    .field("identity", "spiffe://example.org/worker").field("rule", "none").record();
            AuditLog.slf4j().event(SampleAudit.PEER_ALLOWED).record();
            AuditLog.slf4j().event(SampleAudit.ROUTINE).record();
        } finally {
            logger.setLevel(configured);
            logger.detachAppender(appender);
        }

        assertThat(recordsRoutine).as("DEBUG is off for the audit logger").isFalse();
        assertThat(recordsAllowed).isTrue();
        assertThat(appender.list).hasSize(2);
        assertThat(appender.list.get(0)).satisfies(e -> {
            assertThat(e.getLevel()).hasToString("WARN");
            assertThat(e.getKeyValuePairs()).extracting(kv -> kv.key + "=" + kv.value)
                    .containsExactly("action=peer.refused", "outcome=REFUSED",
                            "identity=spiffe://example.org/worker", "rule=none");
        });
        assertThat(appender.list.get(1).getLevel()).hasToString("INFO");
    }

    @Test
    void aTallyRecordsAWholeEventPerAddForALogThatWantsTheEntryAndNothingOtherwise() {
        AuditLog.Tally tally = log.tally(SampleAudit.ROUTINE, Map.of("reason", "cached"));
        tally.add();
        tally.add();

        assertThat(recorded).hasSize(2).allSatisfy(event -> {
            assertThat(event.kind()).isEqualTo(SampleAudit.ROUTINE);
            assertThat(event.fields()).containsExactly(Map.entry("reason", "cached"));
        });
        Logger logger = (Logger) LoggerFactory.getLogger("io.settler.zerotrust.audit");
        Level configured = logger.getLevel();
        logger.setLevel(Level.INFO);
        try {
            assertThat(AuditLog.slf4j().tally(SampleAudit.ROUTINE, Map.of())).isSameAs(AuditLog.Tally.NONE);
            List<AuditEvent> other = new ArrayList<>();
            AuditLog.slf4j().alsoTo(other::add).tally(SampleAudit.ROUTINE, Map.of()).add();
            assertThat(other).as("the tee adds the tally of the log that wants it").hasSize(1);
        } finally {
            logger.setLevel(configured);
        }
    }

    @Test
    void aCombinedLogKeepsTheFirstLogsClockAndRecordsWhatEitherWants() {
        List<AuditEvent> other = new ArrayList<>();
        AuditLog both = log.alsoTo(other::add);

        AuditEvent event = both.event(SampleAudit.ROUTINE).record();

        assertThat(event.time()).isEqualTo(Instant.EPOCH);
        assertThat(both.records(SampleAudit.ROUTINE)).isTrue();
        assertThat(AuditLog.slf4j().alsoTo(other::add).records(SampleAudit.ROUTINE)).isTrue();
        assertThat(recorded).containsExactly(event);
        assertThat(other).containsExactly(event);
    }
}
