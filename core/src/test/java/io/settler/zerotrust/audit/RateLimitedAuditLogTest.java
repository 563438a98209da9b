package io.settler.zerotrust.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimitedAuditLogTest {

    private final List<AuditEvent> recorded = new CopyOnWriteArrayList<>();
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final AuditLog limited = new RateLimitedAuditLog(CoreTestAudit.into(recorded), 3, Duration.ofSeconds(1),
            now::get);

    @Test
    void aFloodOfOneActionCostsTheLimitAndOneSummary() {
        for (int i = 0; i < 1_000; i++) {
            limited.record(event(SampleAudit.TOKEN_REJECTED));
        }
        assertThat(recorded).hasSize(3);

        now.addAndGet(1_000);
        limited.record(event(SampleAudit.TOKEN_REJECTED));

        assertThat(recorded).hasSize(5);
        AuditEvent summary = recorded.get(3);
        assertThat(summary.action()).isEqualTo("audit.suppressed");
        assertThat(summary.outcome()).isEqualTo(AuditEvent.Outcome.WARNING);
        assertThat(summary.fields()).containsEntry("suppressed_action", "token.rejected")
                .containsEntry("suppressed_outcome", "REFUSED").containsEntry("suppressed_reason", "TEST")
                .containsEntry("suppressed_source", "unknown").containsEntry("count", "997");
        assertThat(recorded.get(4).action()).isEqualTo("token.rejected");
    }

    @Test
    void eachActionAndOutcomeHasItsOwnAllowance() {
        for (int i = 0; i < 10; i++) {
            limited.record(event(SampleAudit.TOKEN_REJECTED));
            limited.record(event(SampleAudit.PEER_REFUSED));
            limited.record(event(SampleAudit.PEER_ALLOWED));
        }
        assertThat(recorded).hasSize(9);
    }

    @Test
    void aQuietWindowRecordsEverythingAndNoSummary() {
        for (int i = 0; i < 3; i++) {
            limited.record(event(SampleAudit.TOKEN_REJECTED));
            now.addAndGet(400);
        }
        now.addAndGet(5_000);
        limited.record(event(SampleAudit.TOKEN_REJECTED));
        assertThat(recorded).extracting(AuditEvent::action).containsOnly("token.rejected").hasSize(4);
    }

    @Test
    void junkFloodCannotHideARefusalOfAnotherReason() {
        for (int i = 0; i < 1_000; i++) {
            limited.record(refusal("NOT_TLS", "203.0.113.5"));
        }
        limited.record(refusal("UNTRUSTED_ISSUER", "203.0.113.5"));

        assertThat(recorded).extracting(e -> e.fields().get("reason"))
                .containsExactly("NOT_TLS", "NOT_TLS", "NOT_TLS", "UNTRUSTED_ISSUER");
    }

    @Test
    void floodFromOneNetworkCannotHideTheSameRefusalFromAnother() {
        for (int i = 0; i < 1_000; i++) {
            limited.record(refusal("UNTRUSTED_ISSUER", "203.0.113." + (i % 250)));
            limited.record(refusal("UNTRUSTED_ISSUER", "2001:db8:0:1::" + Integer.toHexString(i)));
        }
        limited.record(refusal("UNTRUSTED_ISSUER", "198.51.100.7"));
        limited.record(refusal("UNTRUSTED_ISSUER", "2001:db8:0:2::1"));

        assertThat(recorded).extracting(e -> e.fields().get("remote")).hasSize(8)
                .endsWith("198.51.100.7", "2001:db8:0:2::1");

        now.addAndGet(1_000);
        limited.record(event(SampleAudit.TOKEN_REJECTED));
        assertThat(recorded).filteredOn(e -> e.action().equals("audit.suppressed"))
                .extracting(e -> e.fields().get("suppressed_source") + " " + e.fields().get("suppressed_reason") + " "
                        + e.fields().get("count"))
                .containsExactlyInAnyOrder("203.0.113.0/24 UNTRUSTED_ISSUER 997",
                        "2001:db8:0:1:0:0:0:0/64 UNTRUSTED_ISSUER 997");
    }

    @Test
    void floodCannotHideTheRefusalOfAnAuthenticatedPeer() {
        for (int i = 0; i < 1_000; i++) {
            limited.record(refusal("NOT_AUTHORIZED", "203.0.113.5"));
        }
        for (int i = 0; i < 50; i++) {
            limited.event(SampleAudit.PEER_REFUSED).authenticatedPeer()
                    .field("identity", "spiffe://example.org/intruder" + i)
                    .field("remote", "203.0.113.5").field("reason", "NOT_AUTHORIZED").record();
        }

        assertThat(recorded).filteredOn(AuditEvent::authenticatedPeer).hasSize(50);
        assertThat(recorded).filteredOn(e -> !e.authenticatedPeer()).hasSize(3);
    }

    @Test
    void floodFromManyAddressesCannotGrowTheBucketsWithoutBound() {
        RateLimitedAuditLog log = new RateLimitedAuditLog(CoreTestAudit.into(recorded), 3, Duration.ofSeconds(1),
            now::get);
        int sources = 4_000;
        for (int i = 0; i < sources; i++) {
            log.record(refusal("NOT_TLS", "10." + (i >> 8 & 0xff) + "." + (i & 0xff) + ".1"));
            log.record(refusal("BAD_SIGNATURE", "2001:db8:" + Integer.toHexString(i) + "::1"));
            log.record(refusal("REASON_" + i, "192.0.2.1"));
        }
        assertThat(log.trackedBuckets()).isLessThanOrEqualTo(RateLimitedAuditLog.MAX_BUCKETS
                + RateLimitedAuditLog.FOLDED_BUCKETS + 1);
        assertThat(recorded).hasSizeLessThanOrEqualTo(3 * log.trackedBuckets());

        now.addAndGet(1_000);
        log.record(event(SampleAudit.TOKEN_REJECTED));
        assertThat(log.trackedBuckets()).as("ended windows are dropped").isEqualTo(1);
        long suppressed = recorded.stream().filter(e -> e.action().equals("audit.suppressed"))
                .mapToLong(e -> Long.parseLong(e.fields().get("count"))).sum();
        long passed = recorded.stream().filter(e -> e.action().equals("peer.refused")).count();
        assertThat(passed + suppressed).as("every event recorded or counted").isEqualTo(3L * sources);
        assertThat(recorded).filteredOn(e -> e.action().equals("audit.suppressed"))
                .anySatisfy(e -> assertThat(e.fields()).containsEntry("suppressed_source", "other"));
    }

    @Test
    void refusesSettingsThatWouldDropEverything() {
        assertThatThrownBy(() -> AuditLog.slf4j().limitedTo(0, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limit");
        assertThatThrownBy(() -> AuditLog.slf4j().limitedTo(5, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window");
    }

    private AuditEvent refusal(String reason, String remote) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("remote", remote);
        fields.put("reason", reason);
        return new AuditEvent(Instant.ofEpochMilli(now.get()), SampleAudit.PEER_REFUSED, fields);
    }

    private AuditEvent event(AuditAction kind) {
        return new AuditEvent(Instant.ofEpochMilli(now.get()), kind, Map.of("reason", "TEST"));
    }
}
