package io.settler.zerotrust.examples;

import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;

/**
 * Clients without any of the library's checks: what an attacker or a misconfigured peer uses. Each
 * method returns what the server answered when it answered, and throws when it refused.
 */
final class Intruder {

    private static final int TIMEOUT_MILLIS = 5_000;

    private final TrustBundle trust;

    /** An intruder who trusts {@code trust}, so that the server's certificate is not what stops it. */
    Intruder(TrustBundle trust) {
        this.trust = trust;
    }

    /** An HTTP request in plaintext to a TLS port. */
    String plaintextHttp(int port) throws IOException {
        try (Socket socket = connect(port)) {
            return exchange(socket, "GET /orders/1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        }
    }

    /** A RESP {@code PING} in plaintext to a TLS port. */
    String plaintextRedis(int port) throws IOException {
        try (Socket socket = connect(port)) {
            return exchange(socket, "PING\r\n");
        }
    }

    /**
     * An HTTPS request with the JDK's stock client, offering only {@code protocol}, trusting the CA,
     * presenting {@code certificate} (or none, when null).
     */
    String https(int port, @Nullable TlsIdentity certificate, String protocol) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        if (certificate != null) {
            keys.setKeyEntry("key", certificate.privateKey(), new char[0],
                    certificate.chain().toArray(X509Certificate[]::new));
        }
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, new char[0]);
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        for (X509Certificate anchor : trust.anchors()) {
            anchors.setCertificateEntry("ca-" + anchors.size(), anchor);
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(anchors);
        SSLContext context = SSLContext.getInstance(protocol); // a "TLSv1.2" context offers nothing newer
        context.init(keyManagers.getKeyManagers(), trust.getTrustManagers(), null);
        try (Socket plain = connect(port);
             SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, "localhost", port, true)) {
            socket.setEnabledProtocols(new String[] {protocol});
            socket.startHandshake();
            // With TLS 1.3 a refused client certificate shows on the first read, not in the handshake.
            return exchange(socket, "GET /orders/1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MILLIS);
        socket.setSoTimeout(TIMEOUT_MILLIS);
        return socket;
    }

    /** Writes {@code request}, returns the first line of the answer; throws if there is none. */
    private static String exchange(Socket socket, String request) throws IOException {
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        InputStream in = socket.getInputStream();
        StringBuilder line = new StringBuilder();
        int c = in.read();
        if (c == 0x15 || c == 0x16) { // a TLS alert or handshake record: the port speaks TLS only
            throw new IOException("the server answered with a TLS record, not in plaintext");
        }
        for (; c >= 0 && c != '\n'; c = in.read()) {
            line.append((char) c);
        }
        if (line.isEmpty()) {
            throw new IOException("the server closed the connection without an answer");
        }
        return line.toString().trim();
    }
}
