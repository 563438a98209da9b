package io.settler.zerotrust.spring;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslContext;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.netty.PeerIdentityHandler;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.tls.MtlsContext;
import java.time.Duration;
import org.springframework.boot.reactor.netty.NettyReactiveWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;
import reactor.netty.NettyPipeline;
import reactor.netty.http.server.HttpServer;

/**
 * Puts the Reactor Netty server of a WebFlux application on the library's mutual TLS: its
 * {@code HttpServer} is secured with netty-mtls's {@link NettyMtls#sslContext() SslContext} of the
 * {@link MtlsContext} (the context's key manager, so a rotated certificate is served from the next
 * handshake on; its trust manager, so every client certificate is verified against the current
 * trust bundle and admitted by the policy's authorizer in the handshake; its protocols, TLS 1.3;
 * client certificates required; no session resumed). netty-mtls's {@link PeerIdentityHandler} follows
 * the {@code SslHandler} of each connection: it audits the handshakes the TLS stack refuses before the
 * library's checks (no certificate, TLS 1.2) and publishes the verified peer on the channel. Boot's
 * own {@code server.ssl} wiring would build a plain PKIX trust manager from a bundle's trust store,
 * so {@code server.ssl.*} must stay unset, as for Tomcat.
 *
 * <p>Runs last among the factory's customizers, so it sees what the application's own set.
 */
final class ZeroTrustNettyCustomizer implements WebServerFactoryCustomizer<NettyReactiveWebServerFactory>,
        Ordered, ServerSecurer {

    /** The name of netty-mtls's {@link PeerIdentityHandler} in each connection's pipeline. */
    static final String PEER_IDENTITY = "zerotrust.peerIdentity";

    /** How long a client has to complete its handshake, as netty-mtls's default. */
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    private final MtlsContext context;
    private final ServicePolicy service;
    private final AuditLog audit;
    private final StartupChecks checks;
    private volatile boolean securedTheServer;

    ZeroTrustNettyCustomizer(MtlsContext context, ServicePolicy service, AuditLog audit, StartupChecks checks) {
        this.context = context;
        this.service = service;
        this.audit = audit;
        this.checks = checks;
    }

    /** Whether the application's Reactor Netty server was put on the library's TLS ({@link ServerGuard} asks). */
    @Override
    public boolean securedTheServer() {
        return securedTheServer;
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }

    @Override
    public void customize(NettyReactiveWebServerFactory factory) {
        ServerSslSettings.refuse(factory.getSsl(), checks);
        factory.addServerCustomizers(this::secure);
    }

    private HttpServer secure(HttpServer server) {
        // JDK provider: the MtlsContext's own engines' refusal of session resumption, whatever the class path.
        SslContext tls = NettyMtls.builder(context).provider(NettyMtls.Provider.JDK).auditLog(audit).build()
                .sslContext();
        securedTheServer = true;
        audit.event(SpringAudit.SERVER_TLS)
                .field("server", "reactor-netty")
                .field("service", service.name())
                .field("identity", service.identity())
                .field("protocols", String.join(",", context.sslParameters().getProtocols()))
                .field("client_auth", "required")
                .field("ssl_bundle", ZeroTrustAutoConfiguration.SSL_BUNDLE)
                .record();
        return server.secure(spec -> spec.sslContext(tls).handshakeTimeout(HANDSHAKE_TIMEOUT))
                .doOnChannelInit((observer, channel, remote) -> {
                    ChannelPipeline pipeline = channel.pipeline();
                    if (pipeline.get(NettyPipeline.SslHandler) == null) {
                        channel.close(); // fail closed: no connection without the library's TLS
                        return;
                    }
                    pipeline.addAfter(NettyPipeline.SslHandler, PEER_IDENTITY, new PeerIdentityHandler(context, audit));
                });
    }
}
