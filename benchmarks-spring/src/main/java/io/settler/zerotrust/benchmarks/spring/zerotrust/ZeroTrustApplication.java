package io.settler.zerotrust.benchmarks.spring.zerotrust;

import io.settler.zerotrust.benchmarks.spring.HelloController;
import io.settler.zerotrust.benchmarks.spring.ResponseHeaders;
import io.settler.zerotrust.spring.ZeroTrustSecurity;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.web.SecurityFilterChain;

/**
 * {@link HelloController} with the starter, as its README shows: Tomcat with mTLS 1.3 and the policy's
 * authorizer in the handshake, the bearer service token verified, and {@code /hello} needing the scope
 * {@code orders:read}.
 */
@SpringBootApplication(proxyBeanMethods = false)
@Import(HelloController.class)
public class ZeroTrustApplication {

    /**
     * {@code /hello} needs the authority {@code SCOPE_orders:read}; everything else a valid token.
     *
     * @param http Spring Security's builder
     * @param zeroTrust the starter's token authentication
     * @param environment where {@link ResponseHeaders} reads which headers to write
     * @return the chain
     * @throws Exception as {@link HttpSecurity#build()}
     */
    @Bean
    SecurityFilterChain api(HttpSecurity http, ZeroTrustSecurity zeroTrust, Environment environment)
            throws Exception {
        ResponseHeaders.apply(http, environment);
        return http.authorizeHttpRequests(requests -> requests
                        .requestMatchers("/hello").hasAuthority("SCOPE_orders:read")
                        .anyRequest().authenticated())
                .with(zeroTrust.configurer(), Customizer.withDefaults())
                .build();
    }
}
