package io.settler.zerotrust.netty;

import static io.settler.zerotrust.netty.TestPki.field;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Open connections and trust rotation: a new trust bundle reaches new handshakes by itself; the
 * {@link ConnectionExpiryHandler} makes it reach connections that stay open, with both providers.
 */
@ParameterizedClass
@EnumSource(value = NettyMtls.Provider.class, names = {"JDK", "OPENSSL"})
class ConnectionExpiryHandlerTest {

    @Parameter
    NettyMtls.Provider provider;

    private final TestPki pki = new TestPki();
    private final TestClient clients = new TestClient();
    private final RotatingCredentials serverCredentials = new RotatingCredentials(TestPki.API);

    @AfterEach
    void stopClients() {
        clients.close();
    }

    private ConnectionExpiryHandler expiry(Supplier<PeerAuthorizer> authorizer) {
        return ConnectionExpiryHandler.builder(authorizer).checkEvery(Duration.ofMillis(20)).auditLog(pki.audit)
                .build();
    }

    private TestServer server(ConnectionExpiryHandler expiry) {
        return TestServer.start(pki.server(provider, serverCredentials, TestPki.onlyWorker()), c -> { },
                c -> c.pipeline().addLast(expiry), c -> { });
    }

    private static TrustBundle bundleOf(X509Certificate... anchors) {
        return TrustBundle.of(List.of(anchors));
    }

    @Test
    void closesConnectionWhosePeersCaWasRotatedOutOfTheTrustBundle() throws Exception {
        try (TestServer server = server(expiry(TestPki::onlyWorker))) {
            Channel channel = clients.connect(pki.client(provider, TestPki.WORKER), server.port());
            assertThat(TestClient.handshake(channel)).isTrue();
            pki.awaitEvent("peer.accepted", field("identity", TestPki.WORKER_ID));

            // The CA is re-keyed: a new root of the same name replaces the one that issued the worker.
            serverCredentials.rotateTrust(bundleOf(DevCertificateAuthority.create("example.org").rootCertificate()));

            assertThat(TestClient.closes(channel)).isTrue();
            AuditEvent closed = pki.awaitEvent("connection.closed", field("reason", "NO_LONGER_TRUSTED")
                    .and(field("identity", TestPki.WORKER_ID)));
            assertThat(closed.fields().get("detail")).startsWith("BAD_SIGNATURE");
            // It was admitted by its certificate: no flood may hold this event back (AuditLog.limitedTo).
            assertThat(closed.authenticatedPeer()).isTrue();
        }
    }

    @Test
    void keepsConnectionWhenTheRotatedBundleStillHoldsThePeersCa() throws Exception {
        CountDownLatch checksAfterRotation = new CountDownLatch(5);
        Supplier<PeerAuthorizer> counting = () -> {
            checksAfterRotation.countDown();
            return TestPki.onlyWorker();
        };
        try (TestServer server = server(expiry(counting))) {
            Channel channel = clients.connect(pki.client(provider, TestPki.WORKER), server.port());
            assertThat(TestClient.handshake(channel)).isTrue();

            serverCredentials.rotateTrust(bundleOf(DevCertificateAuthority.create("example.org").rootCertificate(),
                    TestPki.CA.rootCertificate()));

            // The authorizer is asked only after the trust check passed: five passes after the rotation.
            assertThat(checksAfterRotation.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(channel.isActive()).isTrue();
            assertThat(pki.audit.events()).noneMatch(event -> event.action().equals("connection.closed"));
        }
    }

    @Test
    void closesConnectionItCannotVerifyAgain() throws Exception {
        ConnectionExpiryHandler expiry = expiry(TestPki::onlyWorker);
        try (TestServer server = TestServer.start(pki.server(provider, serverCredentials, TestPki.onlyWorker()),
                c -> { }, c -> {
                    // As if the TLS handlers had been added by hand rather than by NettyMtls.addTo.
                    c.attr(NettyMtls.CONTEXT).set(null);
                    c.pipeline().addLast(expiry);
                }, c -> { })) {
            Channel channel = clients.connect(pki.client(provider, TestPki.WORKER), server.port());
            assertThat(TestClient.handshake(channel)).isTrue();

            assertThat(TestClient.closes(channel)).isTrue();
            AuditEvent closed = pki.awaitEvent("connection.closed", field("reason", "VERIFIER_FAILED"));
            assertThat(closed.fields().get("detail")).contains("NettyMtls.addTo");
        }
    }
}
