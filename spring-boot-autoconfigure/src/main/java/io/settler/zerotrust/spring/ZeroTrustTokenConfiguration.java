package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.token.ServiceTokens;
import java.util.Map;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The verifier of callers' service tokens, for the servlet and the WebFlux security alike
 * ({@link ZeroTrustSecurityAutoConfiguration}, {@link ZeroTrustReactiveSecurityAutoConfiguration}).
 */
@Configuration(proxyBeanMethods = false)
public final class ZeroTrustTokenConfiguration {

    /** Created by Spring. */
    public ZeroTrustTokenConfiguration() {
        // beans only
    }

    /**
     * The verifier of the service tokens callers send: audience this service, issuers and their
     * keys from {@code zerotrust.tokens.issuers} (each issuer's keys pinned to it).
     */
    @Bean
    @ConditionalOnMissingBean
    ServiceTokens zeroTrustServiceTokens(ZeroTrustProperties properties, ServicePolicy service, Policy policy,
                                         AuditLog audit, StartupChecks checks) {
        Map<String, ZeroTrustProperties.Issuer> issuers = properties.tokens().issuers();
        if (issuers.isEmpty()) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.MISSING_SETTING, "zerotrust.tokens.issuers",
                    "no token issuer is set, so every request would be refused: set zerotrust.tokens.issuers.<service>"
                            + ".jwks=file:/etc/zerotrust/jwks/<service>.json for each calling service, or define a"
                            + " ServiceTokens bean", null);
        }
        ServiceTokens.Builder tokens = IssuerKeys.trust(ServiceTokens.builder().identity(service.identity())
                .auditLog(audit), issuers, "zerotrust.tokens.issuers", policy, checks);
        if (properties.tokens().requireCertificateBinding()) {
            tokens.requireCertificateBinding();
        }
        return tokens.build();
    }

}
