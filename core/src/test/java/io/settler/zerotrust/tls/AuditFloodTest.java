package io.settler.zerotrust.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.CoreTestAudit;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * A flood of junk connections against a real JDK mTLS server over 127.0.0.1, whose audit log is
 * limited as the README advises ({@code limitedTo(20, 1 s)}), must not hide a real intrusion
 * attempt in the same window: a certificate from our CA for an identity the server refuses.
 */
class AuditFloodTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");
    private static final IssuedCertificate SERVER = CA.leaf("api").serverAndClient().dnsNames("localhost").issue();
    private static final IssuedCertificate INTRUDER = CA.leaf("intruder").issue();
    private static final int JUNK_CONNECTIONS = 60;
    private static final int LIMIT = 20;

    private final List<AuditEvent> recorded = new CopyOnWriteArrayList<>();
    /** One instant for the whole test: the flood and the attempt fall in one window however slow the machine. */
    private final Clock clock = Clock.fixed(Instant.now(), ZoneOffset.UTC);
    private final AuditLog audit = CoreTestAudit.into(recorded).withClock(clock)
            .limitedTo(LIMIT, Duration.ofSeconds(1));

    private static CredentialSource credentials(IssuedCertificate issued) {
        return CredentialSource.fixed(TlsIdentity.of(issued.privateKey(), issued.chain()),
                TrustBundle.of(List.of(CA.rootCertificate())));
    }

    @Test
    void junkConnectionFloodCannotHideARefusedIdentityFromTheAuditLog() throws Exception {
        MtlsContext server = MtlsContext.server(credentials(SERVER),
                PeerAuthorizer.builder().allowIdentities("spiffe://example.org/worker").build())
                .auditLog(audit).build();
        MtlsContext intruder = MtlsContext.client(credentials(INTRUDER)).build();

        try (SSLServerSocket listener = (SSLServerSocket) server.serverSocketFactory().createServerSocket(0,
                JUNK_CONNECTIONS + 1, InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(10_000);
            CompletableFuture<Void> serving = CompletableFuture.runAsync(() -> serve(server, listener));
            for (int i = 0; i < JUNK_CONNECTIONS; i++) {
                junk(listener.getLocalPort(), i % 2 == 0);
            }
            try (SSLSocket socket = (SSLSocket) intruder.socketFactory().createSocket("localhost",
                    listener.getLocalPort())) {
                socket.setSoTimeout(10_000);
                socket.startHandshake();
                socket.getOutputStream().write(42);
                socket.getInputStream().read(); // TLS 1.3: the client learns of the refusal here
            } catch (IOException refused) {
                // expected: the server refuses the intruder's identity
            }
            serving.get(30, TimeUnit.SECONDS);
        }

        List<AuditEvent> refusals = recorded.stream().filter(e -> e.action().equals("peer.refused")).toList();
        assertThat(refusals).filteredOn(e -> "NOT_AUTHORIZED".equals(e.fields().get("reason"))).singleElement()
                .satisfies(e -> {
                    assertThat(e.authenticatedPeer()).isTrue();
                    assertThat(e.fields()).containsEntry("identity", "spiffe://example.org/intruder")
                            .containsEntry("remote", "127.0.0.1").containsEntry("role", "client");
                });
        for (String junk : List.of("NOT_TLS", "HANDSHAKE_FAILED")) {
            assertThat(refusals).filteredOn(e -> junk.equals(e.fields().get("reason")))
                    .as("%d junk connections of each kind were audited up to the limit", JUNK_CONNECTIONS / 2)
                    .hasSize(LIMIT);
        }
    }

    /** Handshakes every connection: the junk ones, then the intruder's; each refusal is audited. */
    private static void serve(MtlsContext server, SSLServerSocket listener) {
        for (int i = 0; i <= JUNK_CONNECTIONS; i++) {
            try (SSLSocket socket = (SSLSocket) listener.accept()) {
                socket.setSoTimeout(10_000);
                server.handshake(socket);
                socket.getOutputStream().write(socket.getInputStream().read());
            } catch (IOException refused) {
                // audited by the context
            }
        }
    }

    /** A TCP connection that sends plain HTTP, or nothing, instead of a TLS handshake. */
    private static void junk(int port, boolean http) throws IOException {
        try (Socket socket = new Socket()) {
            socket.setSoTimeout(10_000);
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
            if (http) {
                socket.getOutputStream()
                        .write("GET / HTTP/1.1\r\nHost: api\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            socket.shutdownOutput();
            InputStream in = socket.getInputStream();
            while (in.read() >= 0) {
                // until the server closes: it has refused (and audited) this connection by then
            }
        } catch (IOException e) {
            // the server may reset the connection after its alert; it has audited it either way
        }
    }
}
