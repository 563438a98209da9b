package io.settler.zerotrust.spring;

import io.settler.zerotrust.credentials.CredentialSource;
import java.time.Clock;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Actuator's {@code zerotrust} health component ({@link ZeroTrustHealthIndicator}: certificate
 * validity, days left, refused rotations), when {@code spring-boot-health} is there; off with
 * {@code management.health.zerotrust.enabled=false}.
 */
@AutoConfiguration(after = ZeroTrustAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
@ConditionalOnEnabledHealthIndicator("zerotrust")
public final class ZeroTrustHealthAutoConfiguration {

    /** Created by Spring. */
    public ZeroTrustHealthAutoConfiguration() {
        // beans only
    }

    /** The {@code zerotrust} health component (the bean name minus {@code HealthIndicator}). */
    @Bean
    HealthIndicator zerotrustHealthIndicator(CredentialSource credentials, CredentialHealth rotations) {
        return new ZeroTrustHealthIndicator(credentials, rotations, Clock.systemUTC());
    }
}
