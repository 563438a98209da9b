package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.tls.MtlsContext;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;

/**
 * The embedded Tomcat of a servlet application on the library's mutual TLS 1.3: client
 * certificates required, verified and admitted by the policy's authorizer in the handshake; a
 * rotated certificate is served from the next handshake on.
 */
@AutoConfiguration(after = {ZeroTrustAutoConfiguration.class, SslAutoConfiguration.class})
@ConditionalOnClass(name = {"org.apache.catalina.startup.Tomcat",
        "org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory"})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
public final class ZeroTrustServerAutoConfiguration {

    /** Created by Spring. */
    public ZeroTrustServerAutoConfiguration() {
        // beans only
    }

    @Bean
    ZeroTrustTomcatCustomizer zeroTrustTomcatCustomizer(MtlsContext server, CredentialSource credentials,
                                                        ServicePolicy service, AuditLog audit, StartupChecks checks,
                                                        SslBundles bundles, PeerNetworks networks) {
        return new ZeroTrustTomcatCustomizer(server, credentials, service, audit, checks, bundles, networks);
    }
}
