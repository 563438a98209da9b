package io.settler.zerotrust.benchmarks.spring.bundle;

import io.settler.zerotrust.benchmarks.spring.HelloController;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.security.autoconfigure.SecurityAutoConfiguration;
import org.springframework.boot.security.autoconfigure.UserDetailsServiceAutoConfiguration;
import org.springframework.boot.security.autoconfigure.web.servlet.SecurityFilterAutoConfiguration;
import org.springframework.boot.security.autoconfigure.web.servlet.ServletWebSecurityAutoConfiguration;
import org.springframework.context.annotation.Import;

/**
 * {@link HelloController} as a team would secure it by hand with Boot alone: {@code server.ssl.bundle} (a PEM
 * bundle) with client certificates required and TLS 1.3, and no token check, so neither the starter nor Spring
 * Security is configured (both are on the class path, shared with {@code ZeroTrustApplication}; the benchmark
 * excludes the starter's auto-configurations by property).
 */
@SpringBootApplication(proxyBeanMethods = false,
        exclude = {SecurityAutoConfiguration.class, ServletWebSecurityAutoConfiguration.class,
                SecurityFilterAutoConfiguration.class, UserDetailsServiceAutoConfiguration.class})
@Import(HelloController.class)
public class BundleApplication {
}
