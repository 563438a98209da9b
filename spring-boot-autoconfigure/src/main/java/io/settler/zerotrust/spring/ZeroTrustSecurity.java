package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.token.ServiceTokens;
import java.util.Objects;

/**
 * Hands out the {@link ZeroTrustConfigurer} for a Spring Security filter chain of the
 * application's own:
 *
 * <pre>{@code
 * @Bean
 * SecurityFilterChain api(HttpSecurity http, ZeroTrustSecurity zeroTrust) throws Exception {
 *     return http.authorizeHttpRequests(requests -> requests
 *                     .requestMatchers(HttpMethod.POST, "/orders").hasAuthority("SCOPE_orders:write")
 *                     .anyRequest().authenticated())
 *             .with(zeroTrust.configurer(), Customizer.withDefaults())
 *             .build();
 * }
 * }</pre>
 */
public final class ZeroTrustSecurity {

    private final ServiceTokens verifier;
    private final AuditLog audit;

    ZeroTrustSecurity(ServiceTokens verifier, AuditLog audit) {
        this.verifier = Objects.requireNonNull(verifier, "verifier");
        this.audit = Objects.requireNonNull(audit, "audit");
    }

    /** A new configurer for one filter chain. */
    public ZeroTrustConfigurer configurer() {
        return new ZeroTrustConfigurer(verifier, audit);
    }
}
