package io.settler.zerotrust.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CertificateFingerprint;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gauges follow a real FileCredentialSource through rotations; the rotations are counted. */
class CredentialGaugesTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");

    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MutableClock clock = new MutableClock(Instant.now());

    @Test
    void expiryAndStalenessGaugesFollowRotationsWhichAreCounted() throws Exception {
        IssuedCertificate first = CA.leaf("api").validity(Duration.ofDays(1)).issue();
        first.writePem(dir, "tls");
        ZeroTrustMetrics metrics = ZeroTrustMetrics.builder(registry).clock(clock).build();
        try (FileCredentialSource source = start(metrics.auditLog())) {
            ZeroTrustMetrics.Binding gauges = metrics.bindCredentials(source);

            assertThat(gauge("zerotrust.credentials.validity.remaining").getId().getTag("identity"))
                    .isEqualTo("spiffe://example.org/api");
            assertThat(value("zerotrust.credentials.validity.remaining"))
                    .isCloseTo(secondsUntil(first.certificate().getNotAfter().toInstant()), within(1.0));
            assertThat(value("zerotrust.credentials.staleness")).isCloseTo(0.0, within(1.0));
            Gauge anchor = gauge("zerotrust.trust.anchor.validity.remaining");
            assertThat(anchor.getId().getTag("fingerprint"))
                    .isEqualTo(CertificateFingerprint.sha256(CA.rootCertificate()).substring(0, 16));
            assertThat(anchor.getId().getTag("anchor")).contains("example.org");

            clock.advance(Duration.ofHours(2));
            assertThat(value("zerotrust.credentials.staleness")).isCloseTo(7200.0, within(1.0));
            assertThat(value("zerotrust.credentials.validity.remaining"))
                    .isCloseTo(secondsUntil(first.certificate().getNotAfter().toInstant()), within(1.0));

            // Rotate to a longer-lived certificate and a bundle that adds a second CA.
            DevCertificateAuthority next = DevCertificateAuthority.create("example.org");
            IssuedCertificate second = CA.leaf("api").validity(Duration.ofDays(20)).issue();
            second.writePem(dir, "tls");
            Files.writeString(dir.resolve("ca.crt"), CA.caBundlePem() + next.caBundlePem());
            assertThat(source.reloadOrThrow()).isTrue();

            assertThat(value("zerotrust.credentials.staleness")).isCloseTo(0.0, within(1.0));
            assertThat(value("zerotrust.credentials.validity.remaining"))
                    .isCloseTo(secondsUntil(second.certificate().getNotAfter().toInstant()), within(1.0))
                    .isGreaterThan(Duration.ofDays(19).toSeconds());
            assertThat(registry.get("zerotrust.trust.anchor.validity.remaining").gauges()).hasSize(2);
            assertThat(registry.get("zerotrust.credentials.rotations").tag("action", "credentials.rotated")
                    .counter().count()).isEqualTo(1.0);

            // A refused rotation (a certificate without its key) is counted by reason; the gauges stay.
            Files.writeString(dir.resolve("tls.crt"), CA.leaf("api").issue().chainPem());
            assertThat(source.reload()).isFalse();
            assertThat(registry.get("zerotrust.credentials.rotations")
                    .tag("action", "credentials.rotation_refused").tag("reason", "KEY_MISMATCH").counter().count())
                    .isEqualTo(1.0);
            assertThat(value("zerotrust.credentials.validity.remaining"))
                    .isCloseTo(secondsUntil(second.certificate().getNotAfter().toInstant()), within(1.0));

            // Expired: the gauge goes negative rather than away.
            clock.advance(Duration.ofDays(21));
            assertThat(value("zerotrust.credentials.validity.remaining")).isNegative();

            gauges.close();
            assertThat(registry.find("zerotrust.credentials.validity.remaining").gauges()).isEmpty();
            assertThat(registry.find("zerotrust.trust.anchor.validity.remaining").gauges()).isEmpty();
        }
    }

    private FileCredentialSource start(AuditLog audit) {
        return FileCredentialSource.builder(dir.resolve("tls.crt"), dir.resolve("tls.key"), dir.resolve("ca.crt"))
                .quietPeriod(Duration.ofHours(1)).clock(clock).auditLog(audit).start();
    }

    private Gauge gauge(String name) {
        List<Gauge> gauges = List.copyOf(registry.get(name).gauges());
        assertThat(gauges).as(name).hasSize(1);
        return gauges.get(0);
    }

    private double value(String name) {
        return gauge(name).value();
    }

    private double secondsUntil(Instant instant) {
        return Duration.between(clock.instant(), instant).toMillis() / 1000.0;
    }
}
