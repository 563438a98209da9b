package io.settler.zerotrust.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimitedAuditLogTest {

    private final List<AuditEvent> recorded = new CopyOnWriteArrayList<>();
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final AuditLog limited = new RateLimitedAuditLog(recorded::add, 3, Duration.ofSeconds(1), now::get);

    @Test
    void aFloodOfOneActionCostsTheLimitAndOneSummary() {
        for (int i = 0; i < 1_000; i++) {
            limited.record(event("token.rejected", AuditEvent.Outcome.REFUSED));
        }
        assertThat(recorded).hasSize(3);

        now.addAndGet(1_000);
        limited.record(event("token.rejected", AuditEvent.Outcome.REFUSED));

        assertThat(recorded).hasSize(5);
        AuditEvent summary = recorded.get(3);
        assertThat(summary.action()).isEqualTo("audit.suppressed");
        assertThat(summary.outcome()).isEqualTo(AuditEvent.Outcome.WARNING);
        assertThat(summary.fields()).containsEntry("suppressed_action", "token.rejected")
                .containsEntry("suppressed_outcome", "REFUSED").containsEntry("count", "997");
        assertThat(recorded.get(4).action()).isEqualTo("token.rejected");
    }

    @Test
    void eachActionAndOutcomeHasItsOwnAllowance() {
        for (int i = 0; i < 10; i++) {
            limited.record(event("token.rejected", AuditEvent.Outcome.REFUSED));
            limited.record(event("peer.refused", AuditEvent.Outcome.REFUSED));
            limited.record(event("peer.allowed", AuditEvent.Outcome.ALLOWED));
        }
        assertThat(recorded).hasSize(9);
    }

    @Test
    void aQuietWindowRecordsEverythingAndNoSummary() {
        for (int i = 0; i < 3; i++) {
            limited.record(event("token.rejected", AuditEvent.Outcome.REFUSED));
            now.addAndGet(400);
        }
        now.addAndGet(5_000);
        limited.record(event("token.rejected", AuditEvent.Outcome.REFUSED));
        assertThat(recorded).extracting(AuditEvent::action).containsOnly("token.rejected").hasSize(4);
    }

    @Test
    void refusesSettingsThatWouldDropEverything() {
        assertThatThrownBy(() -> AuditLog.slf4j().limitedTo(0, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limit");
        assertThatThrownBy(() -> AuditLog.slf4j().limitedTo(5, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window");
    }

    private AuditEvent event(String action, AuditEvent.Outcome outcome) {
        return AuditEvent.builder(Instant.ofEpochMilli(now.get()), action, outcome).field("reason", "TEST").build();
    }
}
