package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.token.ServiceTokens;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Spring Security for a WebFlux application: every exchange authenticated by a service token of
 * the connection's own certificate identity, its scopes as {@code SCOPE_<scope>} authorities. The
 * application's own {@link SecurityWebFilterChain} replaces the default one and adds the
 * authentication with {@link ZeroTrustReactiveSecurity#configure(ServerHttpSecurity)}.
 */
@AutoConfiguration(after = ZeroTrustAutoConfiguration.class, beforeName = {
        "org.springframework.boot.security.autoconfigure.web.reactive.ReactiveWebSecurityAutoConfiguration",
        "org.springframework.boot.security.autoconfigure.ReactiveUserDetailsServiceAutoConfiguration"})
@ConditionalOnClass(name = {"org.springframework.security.web.server.SecurityWebFilterChain",
        "org.springframework.security.config.web.server.ServerHttpSecurity"})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
@Import(ZeroTrustTokenConfiguration.class)
public final class ZeroTrustReactiveSecurityAutoConfiguration {

    /** Created by Spring. */
    public ZeroTrustReactiveSecurityAutoConfiguration() {
        // beans only
    }

    /**
     * Admits the {@link ZeroTrustAuthentication} the filter built, and nothing else. Being there, it
     * also keeps Boot from configuring an in-memory user with a generated password, which a
     * service authenticated by tokens must not have.
     */
    @Bean
    @ConditionalOnMissingBean(ReactiveAuthenticationManager.class)
    ReactiveAuthenticationManager zeroTrustReactiveAuthenticationManager() {
        // built by the filter from a verified token only
        return authentication -> authentication instanceof ZeroTrustAuthentication ? Mono.just(authentication)
                : Mono.empty();
    }

    /** The authentication for the application's own chains. */
    @Bean
    ZeroTrustReactiveSecurity zeroTrustReactiveSecurity(ServiceTokens verifier, AuditLog audit) {
        return new ZeroTrustReactiveSecurity(verifier, audit);
    }

    /** Without a chain of the application's own: every exchange needs a valid service token. */
    @Bean
    @ConditionalOnMissingBean(SecurityWebFilterChain.class)
    SecurityWebFilterChain zeroTrustWebFilterChain(ServerHttpSecurity http, ZeroTrustReactiveSecurity zeroTrust) {
        return zeroTrust.configure(http).authorizeExchange(exchanges -> exchanges.anyExchange().authenticated())
                .build();
    }
}
