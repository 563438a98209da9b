package io.settler.zerotrust.testkit;

import io.settler.zerotrust.pki.IssuedCertificate;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Client-side TLS for talking to the test servers from Java: a context built from in-memory CA
 * objects (no files), and sockets with explicit protocols and host name verification.
 */
final class ClientTls {

    static final String TLS13 = "TLSv1.3";

    private ClientTls() {
    }

    /**
     * An SSL context that trusts {@code root} only and, when given, presents {@code client}.
     */
    static SSLContext context(Optional<IssuedCertificate> client, X509Certificate root) {
        try {
            char[] password = "in-memory".toCharArray();
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("root", root);
            TrustManagerFactory trustManagers = TrustManagerFactory.getInstance("PKIX");
            trustManagers.init(trust);

            KeyManager[] keyManagers = null;
            if (client.isPresent()) {
                KeyStore keys = KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                keys.setKeyEntry("client", client.get().privateKey(), password,
                        client.get().chain().toArray(X509Certificate[]::new));
                KeyManagerFactory keyManagerFactory = KeyManagerFactory.getInstance("PKIX");
                keyManagerFactory.init(keys, password);
                keyManagers = keyManagerFactory.getKeyManagers();
            }
            SSLContext context = SSLContext.getInstance(TLS13);
            context.init(keyManagers, trustManagers.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a client TLS context", e);
        }
    }

    /**
     * Connects to {@code 127.0.0.1:port}, verifying that the server certificate names
     * {@code hostName}, with only {@code protocols} enabled. The handshake happens on first use.
     */
    static SSLSocket connect(SSLContext context, String hostName, int port, Duration timeout, String... protocols)
            throws IOException {
        Socket plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), (int) timeout.toMillis());
            plain.setSoTimeout((int) timeout.toMillis());
            SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, hostName, port, true);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setProtocols(protocols.length == 0 ? new String[] {TLS13} : protocols);
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            parameters.setServerNames(List.of(new SNIHostName(hostName)));
            socket.setSSLParameters(parameters);
            return socket;
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }
}
