package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.CoreAudit;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * The {@code zerotrust} health component on the library's real credential source: valid, expired,
 * not yet valid, and with refused credential files on disk. (Served over mutual TLS at
 * {@code /actuator/health/zerotrust}: {@link ZeroTrustServerTest}.)
 */
class ZeroTrustHealthTest {

    @TempDir
    Path certs;

    @Test
    void reportsValidityDaysLeftAndARefusedRotationWithoutSecrets() {
        TestZone zone = new TestZone(certs);
        zone.runner(Map.of()).withConfiguration(AutoConfigurations.of(ZeroTrustHealthAutoConfiguration.class))
                .withBean(RecordingAuditLog.class, RecordingAuditLog::new).run(context -> {
                    HealthIndicator indicator = context.getBean("zerotrustHealthIndicator", HealthIndicator.class);
                    Health healthy = indicator.health();
                    assertThat(healthy.getStatus()).isEqualTo(Status.UP);
                    assertThat(healthy.getDetails()).containsEntry("identity", "spiffe://example.org/api")
                            .containsEntry("daysLeft", 0L).containsEntry("renewalDue", false)
                            .containsOnlyKeys("identity", "notBefore", "notAfter", "daysLeft", "renewalDue");

                    // a key that does not match the certificate: refused, the last good set stays
                    Files.writeString(certs.resolve("api.key"), zone.ca.leaf("api").serverAndClient().issue()
                            .privateKeyPem());
                    context.getBean(RecordingAuditLog.class).awaitAction(CoreAudit.CREDENTIALS_ROTATION_REFUSED,
                            Duration.ofSeconds(10));
                    awaitRotationRefused(indicator, true);
                    Health refused = indicator.health();
                    assertThat(refused.getStatus()).isEqualTo(Status.UP);
                    assertThat(refused.getDetails().get("rotationRefused")).asInstanceOf(
                            org.assertj.core.api.InstanceOfAssertFactories.MAP)
                            .containsEntry("reason", "KEY_MISMATCH").containsOnlyKeys("at", "reason");
                    assertThat(refused.getDetails().toString()).doesNotContain("PRIVATE", "BEGIN", certs.toString());

                    // a good set again (written file by file, so a half-written pair may be refused first)
                    zone.issueApi();
                    context.getBean(RecordingAuditLog.class).awaitAction(CoreAudit.CREDENTIALS_ROTATED,
                            Duration.ofSeconds(10));
                    awaitRotationRefused(indicator, false);
                    assertThat(indicator.health().getDetails()).doesNotContainKey("rotationRefused");

                    CredentialSource credentials = context.getBean(CredentialSource.class);
                    CredentialHealth rotations = context.getBean(CredentialHealth.class);
                    Health expired = new ZeroTrustHealthIndicator(credentials, rotations,
                            Clock.offset(Clock.systemUTC(), Duration.ofHours(2))).health();
                    assertThat(expired.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(expired.getDetails()).containsEntry("daysLeft", 0L)
                            .containsEntry("problem", "the certificate has expired: rotate it now");
                    Health early = new ZeroTrustHealthIndicator(credentials, rotations,
                            Clock.offset(Clock.systemUTC(), Duration.ofHours(-2))).health();
                    assertThat(early.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(early.getDetails()).containsEntry("problem", "the certificate is not valid yet");
                    Health renewalDue = new ZeroTrustHealthIndicator(credentials, rotations,
                            Clock.offset(Clock.systemUTC(), Duration.ofMinutes(45))).health();
                    assertThat(renewalDue.getStatus()).isEqualTo(Status.UP);
                    assertThat(renewalDue.getDetails()).containsEntry("renewalDue", true);
                });
    }

    /** The health follows the audit event (recorded to the application's log first) within a moment. */
    private static void awaitRotationRefused(HealthIndicator indicator, boolean refused) throws InterruptedException {
        for (int i = 0; i < 100 && indicator.health().getDetails().containsKey("rotationRefused") != refused; i++) {
            Thread.sleep(100);
        }
    }
}
