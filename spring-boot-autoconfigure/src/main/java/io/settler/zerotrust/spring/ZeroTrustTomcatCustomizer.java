package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.policy.ServicePolicy;
import io.settler.zerotrust.tls.MtlsContext;
import java.security.KeyStore;
import javax.net.ssl.SSLParameters;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.ProtocolHandler;
import org.apache.coyote.http11.AbstractHttp11Protocol;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;

/**
 * Puts the embedded Tomcat's connector on the library's mutual TLS: the connector's default host
 * gets the {@link MtlsContext} as its ready {@code SSLContext} (see {@link TomcatMtlsContext}), the
 * context's protocols (TLS 1.3) and client certificates required; when the policy names networks,
 * the engine's first valve checks each request's address ({@link PeerNetworkValve}). Boot's own {@code server.ssl}
 * wiring cannot do this: it builds Tomcat's trust manager from a bundle's trust store, a plain
 * PKIX check that would admit every certificate of the CA, whatever the policy says. So
 * {@code server.ssl.*} must stay unset, and a setting that would weaken the server (plaintext,
 * optional client certificates, a plaintext additional connector) stops the start.
 *
 * <p>Runs last among the factory's customizers, so it sees what the application's own set.
 */
final class ZeroTrustTomcatCustomizer implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>,
        Ordered, ServerSecurer {

    private final MtlsContext context;
    private final CredentialSource credentials;
    private final ServicePolicy service;
    private final AuditLog audit;
    private final StartupChecks checks;
    private final SslBundles bundles;
    private final PeerNetworks networks;
    private volatile boolean securedAConnector;

    ZeroTrustTomcatCustomizer(MtlsContext context, CredentialSource credentials, ServicePolicy service,
                              AuditLog audit, StartupChecks checks, SslBundles bundles, PeerNetworks networks) {
        this.bundles = bundles;
        this.networks = networks;
        this.context = context;
        this.credentials = credentials;
        this.service = service;
        this.audit = audit;
        this.checks = checks;
    }

    /** Whether a Tomcat connector of this application was put on the library's TLS ({@link ServerGuard} asks). */
    @Override
    public boolean securedTheServer() {
        return securedAConnector;
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        ServerSslSettings.refuse(factory.getSsl(), checks);
        if (!factory.getAdditionalConnectors().isEmpty()) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.PLAINTEXT_SERVER, "additional connectors",
                    factory.getAdditionalConnectors().size() + " additional Tomcat connector(s) are configured; zero"
                            + " trust secures the main connector only: remove them, or serve them from another"
                            + " application", null);
        }
        factory.addConnectorCustomizers(this::secure);
        if (networks.active()) {
            factory.addEngineValves(new PeerNetworkValve(networks));
        }
    }

    private void secure(Connector connector) {
        ProtocolHandler handler = connector.getProtocolHandler();
        if (!(handler instanceof AbstractHttp11Protocol<?> protocol)) {
            throw checks.refuse(ZeroTrustConfigurationException.Reason.PLAINTEXT_SERVER, "server.tomcat",
                    "the Tomcat connector's protocol " + handler.getClass().getName() + " does not take TLS; use the"
                            + " default HTTP/1.1 NIO protocol", null);
        }
        protocol.setSSLEnabled(true);
        SslBundle current = bundles.getBundle(ZeroTrustAutoConfiguration.SSL_BUNDLE);
        protocol.addSslHostConfig(hostConfig(protocol, current), true);
        connector.setScheme("https");
        connector.setSecure(true);
        securedAConnector = true;
        // As Boot's own server.ssl wiring does on a bundle update: Tomcat replaces the host's TLS configuration.
        // The key manager serves a rotated certificate from the next handshake on anyway; the reload keeps
        // Tomcat's view (its certificate log and expiry checks) on the current one.
        bundles.addBundleUpdateHandler(ZeroTrustAutoConfiguration.SSL_BUNDLE,
                bundle -> protocol.addSslHostConfig(hostConfig(protocol, bundle), true));
        SSLParameters parameters = context.sslParameters();
        audit.event(SpringAudit.SERVER_TLS)
                .field("server", "tomcat")
                .field("service", service.name())
                .field("identity", service.identity())
                .field("protocols", String.join(",", parameters.getProtocols()))
                .field("client_auth", "required")
                .field("ssl_bundle", ZeroTrustAutoConfiguration.SSL_BUNDLE)
                .record();
    }

    /**
     * The default host's TLS: the library's context, its protocols, client certificates required.
     * The bundle's key store is there for Tomcat's log and expiry view only ("set directly", under
     * the bundle's alias): with a ready context Tomcat reads no key material from it.
     */
    private SSLHostConfig hostConfig(AbstractHttp11Protocol<?> protocol, SslBundle bundle) {
        SSLParameters parameters = context.sslParameters();
        SSLHostConfig host = new SSLHostConfig();
        host.setHostName(protocol.getDefaultSSLHostConfigName());
        host.setProtocols(String.join(",", parameters.getProtocols()));
        host.setCertificateVerification("required");
        SSLHostConfigCertificate certificate = new SSLHostConfigCertificate(host,
                SSLHostConfigCertificate.Type.UNDEFINED);
        certificate.setSslContext(new TomcatMtlsContext(context, credentials));
        KeyStore keyStore = bundle.getStores().getKeyStore();
        if (keyStore != null) {
            certificate.setCertificateKeystore(keyStore);
            certificate.setCertificateKeyAlias(ZeroTrustSslBundle.KEY_ALIAS);
        }
        host.addCertificate(certificate);
        return host;
    }
}
