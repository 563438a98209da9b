package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A loopback server that answers pgjdbc's SSLRequest with 'S' and then speaks TLS 1.2 only, with a
 * certificate from the testkit CA for localhost: a downgraded server our client must refuse.
 */
final class Tls12OnlyServer implements AutoCloseable {

    private final ServerSocket listener;
    private final MtlsContext tls;
    private final AtomicInteger handshakeFailures = new AtomicInteger();
    private final Thread acceptor;

    private Tls12OnlyServer(LocalPostgres postgres) throws IOException {
        IssuedCertificate certificate = postgres.certificateAuthority().leaf("fake-postgres").server()
                .dnsNames("localhost").ipAddresses("127.0.0.1").issue();
        this.tls = MtlsContext.server(CredentialSource.fixed(Fixtures.identity(certificate), Fixtures.trust(postgres)),
                PeerAuthorizer.builder().insecureAllowAnyAuthenticatedPeer().build()).allowTls12().build();
        this.listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::serve, "tls12-only-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    static Tls12OnlyServer start(LocalPostgres postgres) throws IOException {
        return new Tls12OnlyServer(postgres);
    }

    int port() {
        return listener.getLocalPort();
    }

    int handshakeFailures() {
        return handshakeFailures.get();
    }

    private void serve() {
        while (!listener.isClosed()) {
            try (Socket plain = listener.accept()) {
                plain.setSoTimeout(10_000);
                new DataInputStream(plain.getInputStream()).readFully(new byte[8]); // SSLRequest
                plain.getOutputStream().write('S');
                plain.getOutputStream().flush();
                SSLSocket socket = (SSLSocket) tls.sslContext().getSocketFactory()
                        .createSocket(plain, null, plain.getPort(), false);
                socket.setUseClientMode(false);
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setProtocols(new String[] {"TLSv1.2"});
                parameters.setNeedClientAuth(false);
                socket.setSSLParameters(parameters);
                try {
                    socket.startHandshake();
                } catch (IOException e) {
                    handshakeFailures.incrementAndGet();
                }
            } catch (IOException e) {
                // listener closed, or a client went away
            }
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
