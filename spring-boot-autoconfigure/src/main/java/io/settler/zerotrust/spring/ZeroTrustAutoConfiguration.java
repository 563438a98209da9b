package io.settler.zerotrust.spring;

import io.micrometer.core.instrument.MeterRegistry;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialException;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.micrometer.ZeroTrustMetrics;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.policy.PolicyException;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.ssl.SslBundleRegistrar;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.Resource;

/**
 * The library's objects as beans, from {@link ZeroTrustProperties}: the {@link AuditLog} (SLF4J,
 * plus Micrometer counters when a {@code MeterRegistry} bean exists), the {@link Policy}, the
 * rotating {@link CredentialSource}, this service's server {@link MtlsContext} (TLS 1.3, client
 * certificates verified and authorized by the policy) and the SSL bundle {@value #SSL_BUNDLE} in
 * Boot's registry, replaced on each rotation. Each bean backs off for one of the application's own.
 * A missing or invalid setting stops the start ({@link ZeroTrustConfigurationException}).
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"})
@EnableConfigurationProperties(ZeroTrustProperties.class)
public final class ZeroTrustAutoConfiguration {

    /** The name of the SSL bundle in Boot's registry, fed from the credential source. */
    public static final String SSL_BUNDLE = "zerotrust";

    /** Created by Spring. */
    public ZeroTrustAutoConfiguration() {
        // beans only
    }

    /** Micrometer counters, timers and credential gauges, when the application has a meter registry. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({ZeroTrustMetrics.class, MeterRegistry.class})
    @ConditionalOnBean(MeterRegistry.class)
    static class Metrics {

        @Bean
        @ConditionalOnMissingBean
        ZeroTrustMetrics zeroTrustMetrics(MeterRegistry registry) {
            return ZeroTrustMetrics.builder(registry).build();
        }

        @Bean
        @ConditionalOnMissingBean
        AuditLog zeroTrustAuditLog(ZeroTrustMetrics metrics) {
            return AuditLog.slf4j().alsoTo(metrics.auditLog());
        }

        @Bean(destroyMethod = "close")
        ZeroTrustMetrics.Binding zeroTrustCredentialGauges(ZeroTrustMetrics metrics, CredentialSource credentials) {
            return metrics.bindCredentials(credentials);
        }
    }

    /** Audit events to SLF4J (the {@code zerotrust.audit} logger) when there is no meter registry. */
    @Bean
    @ConditionalOnMissingBean
    AuditLog zeroTrustAuditLog() {
        return AuditLog.slf4j();
    }

    /** The credential source's latest rotation and refused rotation, for the health indicator. */
    @Bean
    CredentialHealth zeroTrustCredentialHealth() {
        return new CredentialHealth();
    }

    @Bean
    StartupChecks zeroTrustStartupChecks(AuditLog audit) {
        return new StartupChecks(audit);
    }

    /** The policy file {@code zerotrust.policy}. */
    @Bean
    @ConditionalOnMissingBean
    Policy zeroTrustPolicy(ZeroTrustProperties properties, StartupChecks checks) {
        Resource file = checks.require(properties.policy(), "zerotrust.policy", "file:/etc/zerotrust/policy.json");
        String json = checks.read(file, "zerotrust.policy");
        try {
            return Policy.fromJson(json);
        } catch (PolicyException e) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.INVALID_POLICY, "zerotrust.policy",
                    "the policy " + file.getDescription() + " is invalid: " + e.getMessage(), e);
        }
    }

    /** This service's entry in the policy ({@code zerotrust.service}). */
    @Bean
    ServicePolicy zeroTrustService(ZeroTrustProperties properties, Policy policy, StartupChecks checks) {
        String name = checks.require(properties.service(), "zerotrust.service", "api");
        return policy.service(name).orElseThrow(() -> checks.refuse(
                ZeroTrustConfigurationException.Reason.UNKNOWN_SERVICE, "zerotrust.service",
                "the policy has no service '" + name + "'; it defines "
                        + policy.services().stream().map(ServicePolicy::name).toList()
                        + ": set zerotrust.service to one of them, or add '" + name + "' to the policy", null));
    }

    /**
     * The certificate, key and trust files, validated now and re-read when they change: a valid
     * new set is used by the next handshake, an invalid one is refused and audited, and the last good
     * set stays.
     */
    @Bean
    @ConditionalOnMissingBean(CredentialSource.class)
    FileCredentialSource zeroTrustCredentials(ZeroTrustProperties properties, AuditLog audit,
                                              CredentialHealth health, StartupChecks checks) {
        ZeroTrustProperties.Credentials files = properties.credentials();
        Path certificate = checks.require(files.certificate(), "zerotrust.credentials.certificate",
                "/etc/zerotrust/api.crt");
        Path key = checks.require(files.key(), "zerotrust.credentials.key", "/etc/zerotrust/api.key");
        Path trust = checks.require(files.trust(), "zerotrust.credentials.trust", "/etc/zerotrust/ca.crt");
        try {
            return FileCredentialSource.builder(certificate, key, trust).auditLog(audit.alsoTo(health::record))
                    .start();
        } catch (CredentialException e) {
            boolean unreadable = e.reason() == CredentialException.Reason.FILE_UNREADABLE;
            throw checks.refuse(unreadable ? ZeroTrustConfigurationException.Reason.UNREADABLE_FILE
                            : ZeroTrustConfigurationException.Reason.INVALID_CREDENTIALS, "zerotrust.credentials",
                    "the credentials " + certificate + ", " + key + " and " + trust + " are refused (" + e.reason()
                            + "): " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.UNREADABLE_FILE, "zerotrust.credentials",
                    "cannot watch the directories of " + certificate + ", " + key + " and " + trust + ": "
                            + e.getMessage(), e);
        }
    }

    /**
     * The policy's network conditions for callers of this service, which the server applies to
     * each request (the handshake cannot). Made after the server context, so that its start-up
     * checks (the certificate's identity first) are the ones a misconfiguration meets.
     */
    @Bean
    @ConditionalOnMissingBean
    PeerNetworks zeroTrustPeerNetworks(ServicePolicy service, Policy policy, AuditLog audit, StartupChecks checks,
                                       MtlsContext server) {
        try {
            return new PeerNetworks(policy.authorizerFor(service.name()), audit);
        } catch (PolicyException e) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.UNKNOWN_SERVICE, "zerotrust.service",
                    e.getMessage() + " (a server needs callers it accepts)", e);
        }
    }

    /**
     * This service's server context: TLS 1.3 only, no session resumption, a client certificate
     * required, verified against the trust bundle and admitted only if the policy's authorizer
     * for {@code zerotrust.service} accepts it (its identity: the networks are checked on each
     * request, see {@link PeerNetworks}). The certificate must prove the identity the policy gives
     * this service.
     */
    @Bean
    @ConditionalOnMissingBean
    MtlsContext zeroTrustServerContext(ServicePolicy service, Policy policy, CredentialSource credentials,
                                       AuditLog audit, StartupChecks checks) {
        Optional<ServiceIdentity> proven = credentials.current().identity().identity();
        if (!proven.equals(Optional.of(service.identity()))) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.IDENTITY_MISMATCH,
                    "zerotrust.credentials.certificate",
                    "the certificate proves " + proven.map(Object::toString).orElse("no SPIFFE identity") + " but the"
                            + " policy's service '" + service.name() + "' is " + service.identity() + ": use this"
                            + " service's certificate, or set zerotrust.service to the service it belongs to", null);
        }
        try {
            // The handshake does not see the caller's address; PeerNetworks checks networks on each request.
            return MtlsContext.server(credentials, policy.authorizerFor(service.name()).deferringNetworks())
                    .auditLog(audit).build();
        } catch (PolicyException e) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.UNKNOWN_SERVICE, "zerotrust.service",
                    e.getMessage() + " (a server needs callers it accepts)", e);
        }
    }

    /** The SSL bundle {@value #SSL_BUNDLE} in Boot's registry, replaced on each rotation. */
    @Bean
    SslBundleRegistrar zeroTrustSslBundleRegistrar(CredentialSource credentials, MtlsContext server) {
        return registry -> {
            registry.registerBundle(SSL_BUNDLE, new ZeroTrustSslBundle(credentials.current(), server));
            credentials.onRotation(snapshot -> registry.updateBundle(SSL_BUNDLE,
                    new ZeroTrustSslBundle(snapshot, server)));
        };
    }
}
