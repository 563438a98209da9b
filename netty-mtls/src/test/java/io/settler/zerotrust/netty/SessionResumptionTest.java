package io.settler.zerotrust.netty;

import static io.settler.zerotrust.netty.TestPki.field;
import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A resumed TLS session is no way around verification: on each of the three servers (JDK sockets,
 * Netty on the JDK, Netty on OpenSSL) the real {@code openssl s_client} saves the session of a full
 * handshake ({@code -sess_out}) and offers it again ({@code -sess_in}); the server never resumes it,
 * so every connection is verified, authorized and audited as if it were the first.
 */
@ParameterizedClass
@EnumSource(SessionResumptionTest.ServerKind.class)
class SessionResumptionTest {

    /** The three ways a server of ours terminates TLS. */
    enum ServerKind { JDK_SOCKET, NETTY_JDK, NETTY_OPENSSL }

    @Parameter
    ServerKind kind;

    @TempDir
    Path directory;

    private final TestPki pki = new TestPki();

    @Test
    void refusesClientResumingTls13SessionWithoutCertificate() throws Exception {
        try (Server server = start(new RotatingCredentials(TestPki.API), false)) {
            OpenSslClient openssl = new OpenSslClient(directory);
            Path session = directory.resolve("worker.session");
            OpenSslClient.Run first = openssl.connect(server.port(), "-tls1_3", Optional.of(TestPki.WORKER),
                    Optional.of(session), Optional.empty(), server.request());
            assertThat(first.output()).as("the worker is served").contains(server.expectedAnswer());
            assertThat(first.ticketsReceived()).as("NewSessionTicket messages: " + first.output()).isZero();
            assertThat(session).as("TLS 1.3 without a ticket leaves openssl no session to save").doesNotExist();

            OpenSslClient.Run second = openssl.connect(server.port(), "-tls1_3", Optional.empty(),
                    Optional.empty(), Optional.empty(), server.request());
            assertThat(second.reused()).as(second.output()).isFalse();
            assertThat(second.output()).doesNotContain(server.expectedAnswer());
            pki.awaitEvent("peer.refused", field("reason", "NO_CERTIFICATE"));
        }
    }

    @Test
    void refusesClientResumingTls12SessionWithoutCertificate() throws Exception {
        try (Server server = start(new RotatingCredentials(TestPki.API), true)) {
            OpenSslClient openssl = new OpenSslClient(directory);
            Path session = directory.resolve("worker.session");
            OpenSslClient.Run first = openssl.connect(server.port(), "-tls1_2", Optional.of(TestPki.WORKER),
                    Optional.of(session), Optional.empty(), server.request());
            assertThat(first.output()).as("the worker is served").contains(server.expectedAnswer());
            expectSessionToOfferOnlyFromTheJdk(session, first);

            OpenSslClient.Run resumed = openssl.connect(server.port(), "-tls1_2", Optional.empty(),
                    Optional.empty(), existing(session), server.request());
            assertThat(resumed.reused()).as(resumed.output()).isFalse();
            assertThat(resumed.output()).doesNotContain(server.expectedAnswer());
            pki.awaitEvent("peer.refused", field("reason", "NO_CERTIFICATE"));
        }
    }

    @Test
    void refusesPeerWhoseCaWasRotatedOutThoughItOffersItsSession() throws Exception {
        RotatingCredentials credentials = new RotatingCredentials(TestPki.API);
        try (Server server = start(credentials, true)) {
            OpenSslClient openssl = new OpenSslClient(directory);
            Path session = directory.resolve("worker.session");
            OpenSslClient.Run first = openssl.connect(server.port(), "-tls1_2", Optional.of(TestPki.WORKER),
                    Optional.of(session), Optional.empty(), server.request());
            assertThat(first.output()).as("the worker is served").contains(server.expectedAnswer());
            expectSessionToOfferOnlyFromTheJdk(session, first);

            credentials.rotateTrust(TrustBundle.of(List.of(
                    DevCertificateAuthority.create("example.org").rootCertificate())));
            OpenSslClient.Run resumed = openssl.connect(server.port(), "-tls1_2", Optional.of(TestPki.WORKER),
                    Optional.empty(), existing(session), server.request());
            assertThat(resumed.reused()).as(resumed.output()).isFalse();
            assertThat(resumed.output()).doesNotContain(server.expectedAnswer());
            AuditEvent refused = pki.awaitEvent("peer.refused", field("role", "client"));
            assertThat(refused.fields().get("reason")).isNotEqualTo("NO_CERTIFICATE");
        }
    }

    /**
     * With TLS 1.2 the JDK promises a ticket in its ServerHello before any of our code runs, so it
     * issues one (which no engine of ours will redeem) and openssl saves it; BoringSSL without
     * tickets and session cache hands out nothing resumable, so openssl has nothing to save.
     */
    private void expectSessionToOfferOnlyFromTheJdk(Path session, OpenSslClient.Run first) {
        assertThat(first.fullHandshake()).as(first.output()).isTrue();
        if (kind == ServerKind.NETTY_OPENSSL) {
            assertThat(first.output()).doesNotContain("TLS session ticket:");
            assertThat(session).doesNotExist();
        } else {
            assertThat(session).exists();
        }
    }

    private static Optional<Path> existing(Path session) {
        return Files.exists(session) ? Optional.of(session) : Optional.empty();
    }

    private Server start(RotatingCredentials credentials, boolean allowTls12) throws IOException {
        MtlsContext.Builder builder = MtlsContext.server(credentials, TestPki.onlyWorker()).auditLog(pki.audit);
        MtlsContext mtls = (allowTls12 ? builder.allowTls12() : builder).build();
        return switch (kind) {
            case JDK_SOCKET -> new JdkSocketServer(mtls);
            case NETTY_JDK -> new NettyServer(TestServer.start(NettyMtls.builder(mtls)
                    .provider(NettyMtls.Provider.JDK).auditLog(pki.audit).build()));
            case NETTY_OPENSSL -> new NettyServer(TestServer.start(NettyMtls.builder(mtls)
                    .provider(NettyMtls.Provider.OPENSSL).auditLog(pki.audit).build()));
        };
    }

    /** A running server: where it listens, what a client sends, what it answers a verified worker. */
    private interface Server extends AutoCloseable {
        int port();

        String request();

        String expectedAnswer();

        @Override
        void close() throws IOException;
    }

    private record NettyServer(TestServer server) implements Server {
        @Override
        public int port() {
            return server.port();
        }

        @Override
        public String request() {
            return "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        }

        @Override
        public String expectedAnswer() {
            return TestPki.WORKER_ID;
        }

        @Override
        public void close() {
            server.close();
        }
    }

    /** JDK sockets as the core README shows them: accept, {@code handshake(socket)}, answer one line, close. */
    private static final class JdkSocketServer implements Server {
        private static final String ANSWER = "pong\n";

        private final SSLServerSocket listener;
        private final Thread acceptor;

        JdkSocketServer(MtlsContext mtls) throws IOException {
            listener = (SSLServerSocket) mtls.serverSocketFactory().createServerSocket(0, 16,
                    InetAddress.getLoopbackAddress());
            acceptor = new Thread(() -> {
                while (!listener.isClosed()) {
                    try (SSLSocket socket = (SSLSocket) listener.accept()) {
                        socket.setSoTimeout(10_000);
                        mtls.handshake(socket);
                        InputStream in = socket.getInputStream();
                        int b;
                        do {
                            b = in.read();
                        } while (b != -1 && b != '\n');
                        OutputStream out = socket.getOutputStream();
                        out.write(ANSWER.getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    } catch (IOException e) {
                        // A refused handshake (audited by the context) or the listener closing.
                    }
                }
            }, "jdk-socket-server");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        @Override
        public int port() {
            return listener.getLocalPort();
        }

        @Override
        public String request() {
            return "ping\n";
        }

        @Override
        public String expectedAnswer() {
            return ANSWER;
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
