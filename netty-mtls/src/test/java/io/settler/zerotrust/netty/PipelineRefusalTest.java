package io.settler.zerotrust.netty;

import static io.settler.zerotrust.netty.TestPki.field;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.Channel;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.testkit.MutableClock;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Our handlers in a real server pipeline, each refusal named after the attack, with both providers. */
@ParameterizedClass
@EnumSource(value = NettyMtls.Provider.class, names = {"JDK", "OPENSSL"})
class PipelineRefusalTest {

    @Parameter
    NettyMtls.Provider provider;

    private final TestPki pki = new TestPki();
    private final TestClient clients = new TestClient();

    @AfterEach
    void stopClients() {
        clients.close();
    }

    private MtlsHttpClient worker() {
        return MtlsHttpClient.builder(pki.client(provider, TestPki.WORKER)).build();
    }

    @Test
    void refusesConnectionFromWrongNetwork() throws Exception {
        SourceNetworkFilter onlyTenNet = SourceNetworkFilter.builder().allow("10.0.0.0/8").auditLog(pki.audit).build();
        try (TestServer server = TestServer.start(pki.server(provider), c -> c.pipeline().addLast(onlyTenNet),
                c -> { }, c -> { }); MtlsHttpClient http = worker()) {
            assertThatThrownBy(() -> http.get("127.0.0.1", server.port(), "/").join())
                    .isInstanceOf(CompletionException.class);
            pki.awaitEvent("connection.refused", field("reason", "SOURCE_NETWORK").and(field("remote", "127.0.0.1")));
            assertThat(pki.audit.events()).noneMatch(event -> event.action().equals("peer.accepted"));
        }
    }

    @Test
    void letsConnectionFromAllowedNetworkThrough() throws Exception {
        SourceNetworkFilter loopback = SourceNetworkFilter.builder().allow("127.0.0.0/8").allow("::1/128")
                .auditLog(pki.audit).build();
        try (TestServer server = TestServer.start(pki.server(provider), c -> c.pipeline().addLast(loopback),
                c -> { }, c -> { }); MtlsHttpClient http = worker()) {
            assertThat(http.get("127.0.0.1", server.port(), "/").join().status()).isEqualTo(200);
        }
    }

    @Test
    void refusesRequestFloodWith429() throws Exception {
        RateLimitHandler limit = RateLimitHandler.builder().burst(2).perSecond(0.001).auditLog(pki.audit).build();
        try (TestServer server = TestServer.start(pki.server(provider), c -> { }, c -> { },
                c -> c.pipeline().addLast(limit)); MtlsHttpClient http = worker()) {
            assertThat(http.get("127.0.0.1", server.port(), "/").join().status()).isEqualTo(200);
            assertThat(http.get("127.0.0.1", server.port(), "/").join().status()).isEqualTo(200);
            MtlsHttpClient.Response refused = http.get("127.0.0.1", server.port(), "/jobs?token=secret").join();
            assertThat(refused.status()).isEqualTo(429);
            assertThat(refused.headers().get("Retry-After")).isNotBlank();
            assertThat(refused.body()).isEmpty();
            var event = pki.awaitEvent("request.refused",
                    field("reason", "RATE_LIMITED").and(field("peer", TestPki.WORKER_ID)));
            assertThat(event.fields()).containsEntry("path", "/jobs");
        }
    }

    @Test
    void closesConnectionWhenPeerCertificateExpires() throws Exception {
        MutableClock clock = new MutableClock();
        ConnectionExpiryHandler expiry = ConnectionExpiryHandler.builder(TestPki::onlyWorker)
                .checkEvery(Duration.ofMillis(20)).clock(clock).auditLog(pki.audit).build();
        try (TestServer server = TestServer.start(pki.server(provider), c -> { }, c -> c.pipeline().addLast(expiry),
                c -> { })) {
            Channel channel = clients.connect(pki.client(provider, TestPki.WORKER), server.port());
            assertThat(TestClient.handshake(channel)).isTrue();
            pki.awaitEvent("peer.accepted", field("identity", TestPki.WORKER_ID));
            clock.set(TestPki.WORKER.certificate().getNotAfter().toInstant().plusSeconds(1));
            assertThat(TestClient.closes(channel)).isTrue();
            pki.awaitEvent("connection.closed", field("reason", "CERTIFICATE_EXPIRED")
                    .and(field("identity", TestPki.WORKER_ID)));
        }
    }

    @Test
    void closesConnectionWhenIdentityRevoked() throws Exception {
        AtomicReference<PeerAuthorizer> current = new AtomicReference<>(TestPki.onlyWorker());
        ConnectionExpiryHandler expiry = ConnectionExpiryHandler.builder(current::get)
                .checkEvery(Duration.ofMillis(20)).auditLog(pki.audit).build();
        try (TestServer server = TestServer.start(pki.server(provider), c -> { }, c -> c.pipeline().addLast(expiry),
                c -> { })) {
            Channel channel = clients.connect(pki.client(provider, TestPki.WORKER), server.port());
            assertThat(TestClient.handshake(channel)).isTrue();
            pki.awaitEvent("peer.accepted", field("identity", TestPki.WORKER_ID));
            current.set(PeerAuthorizer.builder().allowIdentities("spiffe://example.org/billing").build());
            assertThat(TestClient.closes(channel)).isTrue();
            pki.awaitEvent("connection.closed", field("reason", "REVOKED").and(field("identity", TestPki.WORKER_ID)));
        }
    }

    @Test
    void keepsConnectionOfPeerStillAllowed() throws Exception {
        ConnectionExpiryHandler expiry = ConnectionExpiryHandler.builder(TestPki::onlyWorker)
                .checkEvery(Duration.ofMillis(20)).auditLog(pki.audit).build();
        try (TestServer server = TestServer.start(pki.server(provider), c -> { }, c -> c.pipeline().addLast(expiry),
                c -> { })) {
            Channel channel = clients.connect(pki.client(provider, TestPki.WORKER), server.port());
            assertThat(TestClient.handshake(channel)).isTrue();
            // Several checks run meanwhile; the connection must survive them.
            assertThat(channel.closeFuture().awaitUninterruptibly(300)).isFalse();
            assertThat(pki.audit.events()).noneMatch(event -> event.action().equals("connection.closed"));
        }
    }
}
