package io.settler.zerotrust.spring;

import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.tls.MtlsContext;
import java.security.KeyManagementException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.TrustManager;
import org.apache.tomcat.util.net.SSLContext;

/**
 * The library's server context in the shape Tomcat takes a ready {@code SSLContext} in
 * ({@code SSLHostConfigCertificate#setSslContext}): Tomcat then generates none of its own, so
 * every handshake runs the library's key manager (the credential source's current certificate)
 * and its trust manager (PKIX against the current trust bundle, then the policy's authorizer,
 * audited), and every engine refuses session resumption.
 */
final class TomcatMtlsContext implements SSLContext {

    private final MtlsContext context;
    private final CredentialSource credentials;

    TomcatMtlsContext(MtlsContext context, CredentialSource credentials) {
        this.context = context;
        this.credentials = credentials;
    }

    /** Refused: the context comes with its own managers, and other ones would bypass the policy. */
    @Override
    public void init(KeyManager[] keyManagers, TrustManager[] trustManagers, SecureRandom random)
            throws KeyManagementException {
        throw new KeyManagementException("the zero trust context has its own key and trust managers");
    }

    @Override
    public void destroy() {
        // nothing held: the credential source is closed with the application context
    }

    @Override
    public SSLSessionContext getServerSessionContext() {
        return context.sslContext().getServerSessionContext();
    }

    /** The library's engine, auditing the refusals the JDK makes before the library's checks. */
    @Override
    public SSLEngine createSSLEngine() {
        return new AuditedServerEngine(context.newEngine(null, -1), context);
    }

    @Override
    public SSLServerSocketFactory getServerSocketFactory() {
        return context.serverSocketFactory();
    }

    @Override
    public SSLParameters getSupportedSSLParameters() {
        return context.sslContext().getSupportedSSLParameters();
    }

    /** The chain served now, whatever the alias: Tomcat asks for it to report expiring certificates. */
    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return credentials.current().identity().chain().toArray(X509Certificate[]::new);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return context.trustManager().getAcceptedIssuers();
    }
}
