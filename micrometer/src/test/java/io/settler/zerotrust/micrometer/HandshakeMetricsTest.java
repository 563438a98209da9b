package io.settler.zerotrust.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/** Real mTLS handshakes over 127.0.0.1 between core's contexts, counted by the server's metrics. */
class HandshakeMetricsTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");
    private static final IssuedCertificate SERVER = CA.leaf("server").serverAndClient().dnsNames("localhost").issue();

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RecordingAuditLog recording = new RecordingAuditLog();
    private final MtlsContext server = MtlsContext.server(source(SERVER),
                    PeerAuthorizer.builder().allowIdentities("spiffe://example.org/api").build())
            .auditLog(recording.alsoTo(ZeroTrustMetrics.builder(registry).build().auditLog())).build();

    @Test
    void acceptedAndRefusedPeersAreCountedWithRoleRuleAndReasonButNoAddressIdentityOrFingerprint() throws Exception {
        assertThat(handshake(CA.leaf("api").client().issue())).as("api is allowed").isTrue();
        assertThat(handshake(CA.leaf("api").client().issue())).isTrue();
        assertThat(handshake(CA.leaf("intruder").client().issue())).as("intruder is not").isFalse();
        DevCertificateAuthority stranger = DevCertificateAuthority.create("example.org");
        assertThat(handshake(stranger.leaf("api").client().issue())).as("another CA's api is not").isFalse();

        Counter accepted = registry.get("zerotrust.tls.peers").tag("action", "peer.accepted").counter();
        assertThat(accepted.count()).isEqualTo(2.0);
        assertThat(accepted.getId().getTags()).contains(Tag.of("outcome", "ALLOWED"), Tag.of("role", "client"),
                Tag.of("rule", recording.last("peer.accepted").fields().get("rule")));
        List<Counter> refused = List.copyOf(registry.get("zerotrust.tls.peers").tag("action", "peer.refused")
                .counters());
        assertThat(refused).as("two refusals, one counter per reason").hasSize(2);
        assertThat(refused).allSatisfy(c -> assertThat(c.count()).isEqualTo(1.0));
        assertThat(refused.stream().map(c -> c.getId().getTag("reason")))
                .containsExactlyInAnyOrderElementsOf(recording.withAction("peer.refused").stream()
                        .map(e -> e.fields().get("reason")).toList());
        for (Meter meter : registry.getMeters()) {
            assertThat(meter.getId().getTags()).extracting(Tag::getKey)
                    .doesNotContain("remote", "identity", "fingerprint", "detail");
        }
    }

    private boolean handshake(IssuedCertificate clientCertificate) throws Exception {
        MtlsContext client = MtlsContext.client(source(clientCertificate)).build();
        try (SSLServerSocket listener = (SSLServerSocket) server.serverSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(10_000);
            CompletableFuture<Boolean> accepted = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket socket = (SSLSocket) listener.accept()) {
                    socket.setSoTimeout(10_000);
                    server.handshake(socket);
                    socket.getOutputStream().write(socket.getInputStream().read());
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
            try (Socket plain = new Socket()) {
                plain.setSoTimeout(10_000);
                plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()), 10_000);
                try (SSLSocket socket = (SSLSocket) client.socketFactory().createSocket(plain, "localhost",
                        listener.getLocalPort(), true)) {
                    socket.startHandshake();
                    socket.getOutputStream().write(42);
                    socket.getInputStream().read();
                }
            } catch (IOException expectedWhenRefused) {
                // the server's verdict is what counts
            }
            return accepted.get(15, TimeUnit.SECONDS);
        }
    }

    private static CredentialSource source(IssuedCertificate issued) {
        return CredentialSource.fixed(TlsIdentity.of(issued.privateKey(), issued.chain()),
                TrustBundle.of(List.of(CA.rootCertificate())));
    }
}
