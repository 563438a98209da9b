package io.settler.zerotrust.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.CoreTestAudit;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ExpiryMonitorTest {

    /** A clock a test moves by hand. */
    private static final class MovableClock extends Clock {
        private volatile Instant now;

        MovableClock(Instant start) {
            this.now = start;
        }

        void set(Instant instant) {
            now = instant;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    private final DevCertificateAuthority ca = DevCertificateAuthority.builder("example.org")
            .validity(Duration.ofDays(20)).build();
    private final IssuedCertificate leaf = ca.leaf("api").validity(Duration.ofHours(10)).issue();
    private final CredentialSource source = CredentialSource.fixed(TlsIdentity.of(leaf.privateKey(), leaf.chain()),
            TrustBundle.of(List.of(ca.rootCertificate())));
    private final MovableClock clock = new MovableClock(leaf.certificate().getNotBefore().toInstant());
    private final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    private final ExpiryMonitor monitor = ExpiryMonitor.builder(source).clock(clock)
            .auditLog(CoreTestAudit.into(audit))
            .anchorWarning(Duration.ofDays(7)).build();

    private Instant atShare(double share) {
        Instant start = leaf.certificate().getNotBefore().toInstant();
        Instant end = leaf.certificate().getNotAfter().toInstant();
        return start.plusMillis((long) ((end.toEpochMilli() - start.toEpochMilli()) * share));
    }

    @Test
    void staysQuietWhileTheCertificateIsFresh() {
        clock.set(atShare(0.5));

        assertThat(monitor.check()).isEmpty();
    }

    @Test
    void warnsOnceWhenRenewalIsDue() {
        clock.set(atShare(0.8));

        assertThat(monitor.check()).extracting(AuditEvent::action).containsExactly("credentials.expiring");
        assertThat(monitor.check()).as("no repeat for the same certificate").isEmpty();
        assertThat(audit).hasSize(1);
    }

    @Test
    void warnsWhenRotationHasStalled() {
        clock.set(atShare(0.95));

        assertThat(monitor.check()).extracting(AuditEvent::action).containsExactly("credentials.rotation_stalled");
    }

    @Test
    void warnsWhenTheCertificateHasExpired() {
        clock.set(atShare(1.01));

        assertThat(monitor.check()).extracting(AuditEvent::action).containsExactly("credentials.expired");
    }

    @Test
    void warnsWhenATrustAnchorNearsExpiry() {
        clock.set(ca.rootCertificate().getNotAfter().toInstant().minus(Duration.ofDays(3)));

        assertThat(monitor.check()).extracting(AuditEvent::action).contains("trust.anchor_expiring");
        assertThat(audit).filteredOn(e -> e.action().equals("trust.anchor_expiring")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsKey("fingerprint").containsKey("not_after"));
    }

    @Test
    @SuppressWarnings("try") // the monitor need only run during the block
    void checkIntervalUnderAMillisecondRunsEveryMillisecondNotFails() throws Exception {
        AtomicInteger checks = new AtomicInteger();
        CredentialSource counting = new CredentialSource() {
            @Override
            public CredentialSnapshot current() {
                checks.incrementAndGet();
                return source.current();
            }

            @Override
            public AutoCloseable onRotation(java.util.function.Consumer<CredentialSnapshot> listener) {
                return source.onRotation(listener);
            }
        };
        try (ExpiryMonitor monitor = ExpiryMonitor.builder(counting).auditLog(event -> { }).build()
                .start(Duration.ofNanos(500_000))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (checks.get() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }
        assertThat(checks.get()).as("periodic checks").isGreaterThanOrEqualTo(3);
    }

    @Test
    void zeroOrNegativeDurationsAreRefused() {
        for (Duration bad : List.of(Duration.ZERO, Duration.ofSeconds(-1))) {
            ExpiryMonitor unstarted = ExpiryMonitor.builder(source).build();
            assertThatThrownBy(() -> unstarted.start(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("interval must be positive");
            unstarted.close();
            assertThatThrownBy(() -> ExpiryMonitor.builder(source).anchorWarning(bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("anchorWarning must be positive");
        }
        assertThatThrownBy(() -> ExpiryMonitor.builder(source).anchorWarning(Duration.ofDays(4000)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("anchorWarning must be at most");
    }
}
