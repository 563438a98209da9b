package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.token.ServiceTokens;
import org.springframework.security.config.web.server.SecurityWebFiltersOrder;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.context.NoOpServerSecurityContextRepository;
import org.springframework.security.web.server.savedrequest.NoOpServerRequestCache;

/**
 * Service-token authentication for a WebFlux {@code SecurityWebFilterChain} of the application's
 * own, the reactive counterpart of {@link ZeroTrustSecurity}:
 *
 * <pre>{@code
 * @Bean
 * SecurityWebFilterChain api(ServerHttpSecurity http, ZeroTrustReactiveSecurity zeroTrust) {
 *     return zeroTrust.configure(http)
 *             .authorizeExchange(exchanges -> exchanges
 *                     .pathMatchers(HttpMethod.POST, "/orders").hasAuthority("SCOPE_orders:write")
 *                     .anyExchange().authenticated())
 *             .build();
 * }
 * }</pre>
 *
 * <p>Without a chain of the application's own, the auto-configuration's chain has it, with every
 * exchange authenticated. It makes the chain stateless (no session, no CSRF token, no request
 * cache, no HTTP Basic, form login or logout: a caller proves itself on every request), refuses with
 * empty {@code 401}/{@code 403} responses, and audits each decision.
 */
public final class ZeroTrustReactiveSecurity {

    private final TokenAuthenticator authenticator;
    private final ReactiveRequestRefusals refusals;

    ZeroTrustReactiveSecurity(ServiceTokens verifier, AuditLog audit) {
        this.authenticator = new TokenAuthenticator(verifier, audit);
        this.refusals = new ReactiveRequestRefusals(authenticator);
    }

    /**
     * Adds the authentication to {@code http} and returns it, for its authorization rules and
     * {@code build()}.
     */
    public ServerHttpSecurity configure(ServerHttpSecurity http) {
        return http.csrf(ServerHttpSecurity.CsrfSpec::disable)
                .httpBasic(ServerHttpSecurity.HttpBasicSpec::disable)
                .formLogin(ServerHttpSecurity.FormLoginSpec::disable)
                .logout(ServerHttpSecurity.LogoutSpec::disable)
                .requestCache(cache -> cache.requestCache(NoOpServerRequestCache.getInstance()))
                .securityContextRepository(NoOpServerSecurityContextRepository.getInstance())
                .exceptionHandling(exceptions -> exceptions.authenticationEntryPoint(refusals)
                        .accessDeniedHandler(refusals))
                .addFilterAt(new ZeroTrustAuthenticationWebFilter(authenticator, refusals),
                        SecurityWebFiltersOrder.AUTHENTICATION);
    }
}
