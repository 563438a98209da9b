package io.settler.zerotrust.spring;

import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.identity.ServiceIdentity;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The health of this service's certificate, as Actuator's {@code zerotrust} component: {@code DOWN}
 * when the certificate has expired or is not valid yet (peers refuse it), otherwise {@code UP}. The
 * details say which identity, until when and how many whole days are left, {@code renewalDue} once
 * less than a third of the lifetime remains, and {@code rotationRefused} (when and why, as the
 * reason code) while the newest credential files on disk are refused and the last good set is still
 * served. Close expiry does not change the status: every replica's certificate ages alike, and
 * {@code OUT_OF_SERVICE} would take them all out of the load balancer while their certificates still
 * work; alert on the details instead. No key, certificate or file content is in the details.
 */
final class ZeroTrustHealthIndicator implements HealthIndicator {

    private final CredentialSource credentials;
    private final CredentialHealth rotations;
    private final Clock clock;

    ZeroTrustHealthIndicator(CredentialSource credentials, CredentialHealth rotations, Clock clock) {
        this.credentials = credentials;
        this.rotations = rotations;
        this.clock = clock;
    }

    @Override
    public Health health() {
        X509Certificate leaf = credentials.current().identity().certificate();
        Instant now = clock.instant();
        Instant notBefore = leaf.getNotBefore().toInstant();
        Instant notAfter = leaf.getNotAfter().toInstant();
        Duration lifetime = Duration.between(notBefore, notAfter);
        Duration left = Duration.between(now, notAfter);
        boolean valid = !now.isBefore(notBefore) && now.isBefore(notAfter);
        Health.Builder health = valid ? Health.up() : Health.down();
        health.withDetail("identity", credentials.current().identity().identity().map(ServiceIdentity::toString)
                        .orElse("none"))
                .withDetail("notBefore", notBefore.toString())
                .withDetail("notAfter", notAfter.toString())
                .withDetail("daysLeft", left.isNegative() ? 0 : left.toDays())
                .withDetail("renewalDue", left.compareTo(lifetime.dividedBy(3)) < 0);
        if (!valid) {
            health.withDetail("problem", now.isBefore(notBefore) ? "the certificate is not valid yet"
                    : "the certificate has expired: rotate it now");
        }
        rotations.unresolvedRefusal().ifPresent(refused -> {
            Map<String, String> detail = new LinkedHashMap<>();
            detail.put("at", refused.time().toString());
            detail.put("reason", refused.fields().getOrDefault("reason", "unknown"));
            health.withDetail("rotationRefused", detail);
        });
        return health.build();
    }
}
