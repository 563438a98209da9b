package io.settler.zerotrust.spring;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * The {@link ServerGuard}: a start-up failure, not a plaintext server, when the application's web
 * server is one the starter cannot secure or its Spring Boot is older than 4.0.
 */
@AutoConfiguration(after = {ZeroTrustAutoConfiguration.class, ZeroTrustServerAutoConfiguration.class,
        ZeroTrustReactiveServerAutoConfiguration.class})
public final class ZeroTrustServerGuardAutoConfiguration {

    /** Created by Spring. */
    public ZeroTrustServerGuardAutoConfiguration() {
        // beans only
    }

    @Bean
    ServerGuard zeroTrustServerGuard(ApplicationContext context, ObjectProvider<ServerSecurer> securers,
                                     StartupChecks checks) {
        return new ServerGuard(SpringBootVersion.getVersion(), context, securers, checks);
    }
}
