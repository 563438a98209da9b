package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.tls.MtlsContext;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.context.annotation.Bean;

/**
 * The embedded Reactor Netty server of a WebFlux application on the library's mutual TLS 1.3:
 * client certificates required, verified and admitted by the policy's authorizer in the handshake;
 * a rotated certificate is served from the next handshake on. Needs {@code zerotrust-netty-mtls}
 * on the class path, which builds the Netty context from the {@link MtlsContext} bean.
 */
@AutoConfiguration(after = {ZeroTrustAutoConfiguration.class, SslAutoConfiguration.class})
@ConditionalOnClass(name = {"reactor.netty.http.server.HttpServer",
        "org.springframework.boot.reactor.netty.NettyReactiveWebServerFactory",
        "io.settler.zerotrust.netty.NettyMtls"})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
public final class ZeroTrustReactiveServerAutoConfiguration {

    /** Created by Spring. */
    public ZeroTrustReactiveServerAutoConfiguration() {
        // beans only
    }

    @Bean
    ZeroTrustNettyCustomizer zeroTrustNettyCustomizer(MtlsContext server, ServicePolicy service, AuditLog audit,
                                                      StartupChecks checks) {
        return new ZeroTrustNettyCustomizer(server, service, audit, checks);
    }

    /** The policy's networks for each exchange, ahead of every other web filter. */
    @Bean
    PeerNetworkWebFilter zeroTrustPeerNetworkWebFilter(PeerNetworks networks) {
        return new PeerNetworkWebFilter(networks);
    }
}
