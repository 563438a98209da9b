package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.token.ServiceTokens;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.authentication.AnonymousAuthenticationFilter;

/**
 * Service-token authentication in a Spring Security filter chain: add it to a chain of your own
 * with {@code http.with(zeroTrust.configurer(), withDefaults())} (see {@link ZeroTrustSecurity});
 * without a chain of your own, the auto-configuration's chain has it, with every request
 * authenticated. It makes the chain stateless (no session, no CSRF token, no logout: a caller proves
 * itself on every request), refuses with empty {@code 401}/{@code 403} responses, and audits each
 * decision.
 */
public final class ZeroTrustConfigurer extends AbstractHttpConfigurer<ZeroTrustConfigurer, HttpSecurity> {

    private final TokenAuthenticator authenticator;
    private final RequestRefusals refusals;

    ZeroTrustConfigurer(ServiceTokens verifier, AuditLog audit) {
        this.authenticator = new TokenAuthenticator(verifier, audit);
        this.refusals = new RequestRefusals(authenticator);
    }

    /**
     * Makes the chain stateless as soon as it is added ({@code http.with(...)} calls this), before
     * any configurer initializes: Spring Security's session management decides in its own
     * {@code init} where it keeps security contexts, and a policy set later (in this configurer's
     * {@code init}) would leave it storing each authenticated context in a new HTTP session.
     */
    @Override
    public void setBuilder(HttpSecurity http) {
        super.setBuilder(http);
        http.csrf(csrf -> csrf.disable()); // no cookies or sessions: nothing a forged cross-site request could ride on
        http.sessionManagement(sessions -> sessions.sessionCreationPolicy(SessionCreationPolicy.STATELESS));
        http.requestCache(cache -> cache.disable());
        // Nothing to log out of, and Spring's LogoutFilter would answer POST /logout before the token check
        // (a redirect to a login page) on every caller's behalf.
        http.logout(logout -> logout.disable());
    }

    @Override
    public void init(HttpSecurity http) {
        http.exceptionHandling(exceptions -> exceptions.authenticationEntryPoint(refusals)
                .accessDeniedHandler(refusals));
    }

    @Override
    public void configure(HttpSecurity http) {
        http.addFilterBefore(new ZeroTrustAuthenticationFilter(authenticator, refusals),
                AnonymousAuthenticationFilter.class);
    }
}
