package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.token.ServiceTokens;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.security.autoconfigure.web.servlet.ConditionalOnDefaultWebSecurity;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.firewall.HttpFirewall;

/**
 * Spring Security for a servlet application: every request authenticated by a service token of
 * the connection's own certificate identity, its scopes as {@code SCOPE_<scope>} authorities. The
 * application's own {@link SecurityFilterChain} replaces the default one and adds the
 * authentication with {@link ZeroTrustSecurity#configurer()}.
 */
@AutoConfiguration(after = ZeroTrustAutoConfiguration.class,
        beforeName = "org.springframework.boot.security.autoconfigure.web.servlet.ServletWebSecurityAutoConfiguration")
@ConditionalOnClass(name = {"org.springframework.security.web.SecurityFilterChain",
        "org.springframework.security.config.annotation.web.builders.HttpSecurity",
        "org.springframework.boot.security.autoconfigure.web.servlet.ConditionalOnDefaultWebSecurity"})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@Import(ZeroTrustTokenConfiguration.class)
public final class ZeroTrustSecurityAutoConfiguration {

    /** Created by Spring. */
    public ZeroTrustSecurityAutoConfiguration() {
        // beans only
    }

    /**
     * Admits the {@link ZeroTrustAuthentication} the filter built, and nothing else. Being there, it
     * also keeps Boot from configuring an in-memory user with a generated password, which a
     * service authenticated by tokens must not have.
     */
    @Bean
    @ConditionalOnMissingBean(AuthenticationProvider.class)
    AuthenticationProvider zeroTrustAuthenticationProvider() {
        return new AuthenticationProvider() {
            @Override
            public Authentication authenticate(Authentication authentication) {
                return authentication; // built by the filter from a verified token only
            }

            @Override
            public boolean supports(Class<?> authentication) {
                return ZeroTrustAuthentication.class.isAssignableFrom(authentication);
            }
        };
    }

    /** The configurer for the application's own filter chains. */
    @Bean
    ZeroTrustSecurity zeroTrustSecurity(ServiceTokens verifier, AuditLog audit) {
        return new ZeroTrustSecurity(verifier, audit);
    }

    /**
     * Spring Security's default firewall, checking header characters without its regular expression
     * ({@link HeaderCharacters}): the same headers refused, at a fraction of the cost per token.
     */
    @Bean
    @ConditionalOnMissingBean(HttpFirewall.class)
    HttpFirewall zeroTrustHttpFirewall() {
        return HeaderCharacters.firewall();
    }

    /** Without a chain of the application's own: every request needs a valid service token. */
    @Bean
    @ConditionalOnDefaultWebSecurity
    SecurityFilterChain zeroTrustFilterChain(HttpSecurity http, ZeroTrustSecurity zeroTrust) {
        return http.authorizeHttpRequests(requests -> requests.anyRequest().authenticated())
                .with(zeroTrust.configurer(), Customizer.withDefaults())
                .build();
    }
}
