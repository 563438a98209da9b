package io.settler.zerotrust.netty;

import static io.settler.zerotrust.netty.TestPki.field;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.settler.zerotrust.audit.AuditAction;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.authz.PeerRule;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import java.util.concurrent.CompletionException;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Real Netty mTLS servers and clients over 127.0.0.1, once with the JDK and once with the OpenSSL provider. */
@ParameterizedClass
@EnumSource(value = NettyMtls.Provider.class, names = {"JDK", "OPENSSL"})
class NettyMtlsTest {

    @Parameter
    NettyMtls.Provider provider;

    private final TestPki pki = new TestPki();
    private final TestClient clients = new TestClient();

    @AfterEach
    void stopClients() {
        clients.close();
    }

    private MtlsHttpClient http(IssuedCertificate issued) {
        return MtlsHttpClient.builder(pki.client(provider, issued)).build();
    }

    @Test
    void usesTheProviderAskedFor() {
        assertThat(pki.server(provider).provider()).isEqualTo(provider);
    }

    @Test
    void allowedWorkerGetsThroughAndItsIdentityIsPublished() throws Exception {
        try (TestServer server = TestServer.start(pki.server(provider)); MtlsHttpClient http = http(TestPki.WORKER)) {
            MtlsHttpClient.Response response = http.get("127.0.0.1", server.port(), "/").join();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.bodyText()).isEqualTo(TestPki.WORKER_ID);
            pki.awaitEvent("peer.accepted", field("identity", TestPki.WORKER_ID).and(field("remote", "127.0.0.1")));
        }
    }

    /** Both ends record each completed handshake, timed from the connection's start, for handshake metrics. */
    @Test
    void completedHandshakesAreTimedOnBothSides() throws Exception {
        try (TestServer server = TestServer.start(pki.server(provider))) {
            Channel channel = clients.connect(pki.client(provider, TestPki.WORKER), server.port());
            assertThat(TestClient.handshake(channel)).isTrue();

            AuditEvent serverSide = pki.awaitEvent("tls.handshake", field("role", "SERVER"));
            assertThat(serverSide.kind()).isEqualTo(NettyAudit.TLS_HANDSHAKE);
            assertThat(serverSide.fields()).containsEntry("provider", provider.name())
                    .containsEntry("protocol", "TLSv1.3").containsEntry("identity", TestPki.WORKER_ID)
                    .containsEntry("remote", "127.0.0.1");
            assertThat(serverSide.elapsed()).isNotNull().isPositive();
            AuditEvent clientSide = pki.awaitEvent("tls.handshake", field("role", "CLIENT"));
            assertThat(clientSide.fields()).containsEntry("provider", provider.name())
                    .containsEntry("identity", "spiffe://example.org/api");
            assertThat(clientSide.elapsed()).isNotNull().isPositive();
        }
    }

    /** A log that does not record handshakes (SLF4J with DEBUG off) is given none. */
    @Test
    void handshakesAreNotRecordedWhereTheLogDropsThem() throws Exception {
        RecordingAuditLog recording = new RecordingAuditLog();
        AuditLog withoutHandshakes = new AuditLog() {
            @Override
            public void record(AuditEvent event) {
                recording.record(event);
            }

            @Override
            public boolean records(AuditAction action) {
                return action != NettyAudit.TLS_HANDSHAKE;
            }
        };
        NettyMtls tls = NettyMtls.builder(MtlsContext.server(TestPki.credentials(TestPki.API), TestPki.onlyWorker())
                .auditLog(withoutHandshakes).build()).provider(provider).auditLog(withoutHandshakes).build();
        try (TestServer server = TestServer.start(tls); MtlsHttpClient http = http(TestPki.WORKER)) {
            // The answer names the identity PeerIdentityHandler published after the handshake completed.
            assertThat(http.get("127.0.0.1", server.port(), "/").join().bodyText()).isEqualTo(TestPki.WORKER_ID);
        }
        assertThat(recording.withAction(NettyAudit.TLS_HANDSHAKE)).isEmpty();
        assertThat(recording.single(NettyAudit.TLS_NETTY).fields()).containsEntry("role", "SERVER");
    }

    @Test
    void refusesClientWithoutCertificate() throws Exception {
        try (TestServer server = TestServer.start(pki.server(provider))) {
            Channel channel = clients.connect(TestPki.plainClient(provider, null, "TLSv1.3"), server.port());
            assertThat(TestClient.closes(channel)).isTrue();
            pki.awaitEvent("peer.refused", field("reason", "NO_CERTIFICATE").and(field("remote", "127.0.0.1")));
        }
    }

    @Test
    void refusesWrongIdentity() throws Exception {
        try (TestServer server = TestServer.start(pki.server(provider)); MtlsHttpClient http = http(TestPki.INTRUDER)) {
            assertThatThrownBy(() -> http.get("127.0.0.1", server.port(), "/").join())
                    .isInstanceOf(CompletionException.class);
            pki.awaitEvent("peer.refused", field("reason", "NOT_AUTHORIZED").and(field("remote", "127.0.0.1")));
        }
    }

    @Test
    void refusesTls12Client() throws Exception {
        try (TestServer server = TestServer.start(pki.server(provider))) {
            Channel channel = clients.connect(TestPki.plainClient(provider, TestPki.WORKER, "TLSv1.2"), server.port());
            assertThat(TestClient.handshake(channel)).isFalse();
            pki.awaitEvent("peer.refused", field("reason", "PROTOCOL_VERSION").and(field("remote", "127.0.0.1")));
        }
    }

    @Test
    void clientRefusesServerProvingAnotherIdentity() throws Exception {
        NettyMtls client = NettyMtls.builder(MtlsContext.client(TestPki.credentials(TestPki.WORKER))
                .expectedServer("spiffe://example.org/billing").auditLog(pki.audit).build()).provider(provider).build();
        try (TestServer server = TestServer.start(pki.server(provider));
             MtlsHttpClient http = MtlsHttpClient.builder(client).build()) {
            assertThatThrownBy(() -> http.get("127.0.0.1", server.port(), "/").join())
                    .isInstanceOf(CompletionException.class);
            pki.awaitEvent("peer.refused", field("role", "server").and(field("reason", "NAME_MISMATCH")));
        }
    }

    @Test
    void acceptsServerWhoseOnlyNameIsItsSpiffeIdentity() throws Exception {
        // No DNS or IP SAN: Netty 4.2's default HTTPS host name check would refuse it; ours matches the URI SAN.
        IssuedCertificate spiffeOnly = TestPki.CA.leaf("api").serverAndClient().issue();
        NettyMtls client = NettyMtls.builder(MtlsContext.client(TestPki.credentials(TestPki.WORKER))
                .expectedServer("spiffe://example.org/api").auditLog(pki.audit).build()).provider(provider).build();
        try (TestServer server = TestServer.start(pki.server(provider, TestPki.credentials(spiffeOnly),
                TestPki.onlyWorker()));
             MtlsHttpClient http = MtlsHttpClient.builder(client).build()) {
            assertThat(http.get("127.0.0.1", server.port(), "/").join().status()).isEqualTo(200);
        }
    }

    @Test
    void serverSpeaksOnlyTls13WithOurSuitesAndRequiresClientCertificates() {
        NettyMtls server = pki.server(provider);
        SSLEngine engine = server.sslContext().newEngine(ByteBufAllocator.DEFAULT);
        try {
            // Netty's OpenSSL engine always lists the SSLv2Hello pseudo-protocol; with TLS 1.3 as the
            // minimum BoringSSL negotiates nothing older (refusesTls12Client).
            assertThat(engine.getEnabledProtocols()).filteredOn(protocol -> !protocol.equals("SSLv2Hello"))
                    .containsExactly("TLSv1.3");
            // TLS 1.3 suites are "TLS_AES_*" / "TLS_CHACHA20_*". With TLS 1.3 only, Netty leaves
            // BoringSSL's TLS 1.2 list in place: unreachable, since no TLS 1.2 handshake can happen.
            assertThat(engine.getEnabledCipherSuites()).filteredOn(suite -> !suite.contains("_WITH_"))
                    .containsExactlyInAnyOrder(
                    "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256");
            assertThat(engine.getNeedClientAuth()).isTrue();
            assertThat(server.sslContext().sessionContext().getSessionCacheSize()).isNotNegative();
        } finally {
            ReferenceCountUtil.release(engine);
        }
    }

    @Test
    void acceptsTls12ClientOnlyWhenTheContextAllowsItByName() throws Exception {
        NettyMtls tls12Allowed = NettyMtls.builder(MtlsContext.server(TestPki.credentials(TestPki.API),
                TestPki.onlyWorker()).allowTls12().auditLog(pki.audit).build()).provider(provider).build();
        SSLEngine engine = tls12Allowed.sslContext().newEngine(ByteBufAllocator.DEFAULT);
        try {
            assertThat(engine.getEnabledCipherSuites()).filteredOn(suite -> suite.contains("_WITH_"))
                    .isNotEmpty()
                    .allMatch(suite -> suite.matches("TLS_ECDHE_(ECDSA|RSA)_WITH_"
                            + "(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)"));
        } finally {
            ReferenceCountUtil.release(engine);
        }
        try (TestServer server = TestServer.start(tls12Allowed)) {
            Channel channel = clients.connect(TestPki.plainClient(provider, TestPki.WORKER, "TLSv1.2"), server.port());
            assertThat(TestClient.handshake(channel)).isTrue();
            var session = channel.pipeline().get(SslHandler.class).engine().getSession();
            assertThat(session.getProtocol()).isEqualTo("TLSv1.2");
            assertThat(session.getCipherSuite()).startsWith("TLS_ECDHE_").containsAnyOf("_GCM_", "_CHACHA20_");
            pki.awaitEvent("peer.accepted", field("identity", TestPki.WORKER_ID));
        }
    }

    @Test
    void serverContextRefusesClientSideUse() {
        NettyMtls server = pki.server(provider);
        assertThatThrownBy(() -> MtlsHttpClient.builder(server)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void authorizerSeesTheSourceAddress() throws Exception {
        CredentialSource api = TestPki.credentials(TestPki.API);
        PeerAuthorizer onlyFromTenNet = PeerAuthorizer.builder()
                .allow(PeerRule.allOf(PeerRule.identity(TestPki.WORKER_ID), PeerRule.fromNetworks("10.0.0.0/8")))
                .build();
        try (TestServer server = TestServer.start(pki.server(provider, api, onlyFromTenNet));
             MtlsHttpClient http = http(TestPki.WORKER)) {
            assertThatThrownBy(() -> http.get("127.0.0.1", server.port(), "/").join())
                    .isInstanceOf(CompletionException.class);
            pki.awaitEvent("peer.refused", field("reason", "NOT_AUTHORIZED").and(field("remote", "127.0.0.1")));
        }
    }
}
