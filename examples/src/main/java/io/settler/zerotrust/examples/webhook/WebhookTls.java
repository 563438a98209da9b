package io.settler.zerotrust.examples.webhook;

import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * The server-only TLS between the webhook service and a receiver (a customer's endpoint presents a
 * server certificate and does not ask for ours): TLS 1.3 with explicit AEAD suites, never the
 * JDK's defaults.
 */
final class WebhookTls {

    private static final String[] PROTOCOLS = {"TLSv1.3"};
    private static final String[] SUITES = {"TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
            "TLS_CHACHA20_POLY1305_SHA256"};

    private WebhookTls() {
    }

    /** The server's parameters: TLS 1.3 with our suites; no client certificate asked for. */
    static SSLParameters serverParameters() {
        return new SSLParameters(SUITES.clone(), PROTOCOLS.clone());
    }

    /** The client's parameters: TLS 1.3 with our suites, and the server must name the URL's host. */
    static SSLParameters clientParameters() {
        SSLParameters parameters = serverParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        return parameters;
    }

    /** A server context presenting {@code identity}. */
    static SSLContext server(TlsIdentity identity) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            char[] password = new char[0]; // the store lives in memory only
            store.setKeyEntry("server", identity.privateKey(), password,
                    identity.chain().toArray(X509Certificate[]::new));
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, password);
            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build the receiver's TLS context from " + identity, e);
        }
    }

    /** A client context trusting only {@code trust}'s anchors (PKIX; the host name is checked by the client). */
    static SSLContext client(TrustBundle trust) {
        try {
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            anchors.load(null, null);
            int i = 0;
            for (X509Certificate anchor : trust.anchors()) {
                anchors.setCertificateEntry("anchor-" + i++, anchor);
            }
            TrustManagerFactory trustManagers = TrustManagerFactory.getInstance("PKIX");
            trustManagers.init(anchors);
            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(null, trustManagers.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a TLS client context trusting " + trust, e);
        }
    }
}
