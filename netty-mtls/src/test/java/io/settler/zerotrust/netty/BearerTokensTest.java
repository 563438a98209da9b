package io.settler.zerotrust.netty;

import static io.settler.zerotrust.netty.TestPki.field;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenSource;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link BearerTokens} sends a token only to the service it is for, over real loopback mTLS with
 * both providers: the worker's client checks the server's name by host only (no
 * {@code expectedServer}), and another service of the same CA holds a certificate for the same
 * address.
 */
@ParameterizedClass
@EnumSource(value = NettyMtls.Provider.class, names = {"JDK", "OPENSSL"})
class BearerTokensTest {

    static final String API_ID = "spiffe://example.org/api";
    static final String OTHER_ID = "spiffe://example.org/other";
    /** Another service: a valid certificate from the same CA naming the api's address, 127.0.0.1. */
    static final IssuedCertificate OTHER = TestPki.CA.leaf("other").serverAndClient()
            .dnsNames("localhost").ipAddresses("127.0.0.1").issue();
    static final KeySet WORKER_KEYS = KeySet.builder()
            .signingKey(TokenKey.generate(TokenAlgorithm.ES256, "worker-1")).build();

    @Parameter
    NettyMtls.Provider provider;

    private final TestPki pki = new TestPki();
    private final TokenSource tokens = TokenSource.builder(ServiceTokens.builder().identity(TestPki.WORKER_ID)
            .keys(WORKER_KEYS).auditLog(pki.audit).build()).build();
    /** The Authorization header values every server of the test received, one entry per request. */
    private final List<List<String>> received = new CopyOnWriteArrayList<>();

    private TestServer server(IssuedCertificate certificate) {
        return server(TestPki.credentials(certificate));
    }

    private TestServer server(CredentialSource credentials) {
        return TestServer.start(pki.server(provider, credentials, TestPki.onlyWorker()),
                c -> { }, c -> { }, c -> c.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof HttpRequest request) {
                            received.add(request.headers().getAll(HttpHeaderNames.AUTHORIZATION));
                        }
                        ctx.fireChannelRead(msg);
                    }
                }));
    }

    /** The worker's client: host-name verification only, the api token attached by {@link BearerTokens}. */
    private MtlsHttpClient workerClient() {
        return MtlsHttpClient.builder(pki.client(provider, TestPki.WORKER))
                .requestHeaders(BearerTokens.builder(tokens, API_ID).scopes("jobs:read").auditLog(pki.audit).build())
                .build();
    }

    @Test
    void apiTokenIsNotSentToAnotherServiceWhoseCertificateNamesTheSameHost() throws Exception {
        try (TestServer other = server(OTHER); MtlsHttpClient http = workerClient()) {
            assertThatThrownBy(() -> http.get("127.0.0.1", other.port(), "/jobs").join())
                    .isInstanceOf(CompletionException.class)
                    .cause().isInstanceOf(TokenWithheldException.class)
                    .hasMessageContaining(OTHER_ID).hasMessageContaining("not " + API_ID)
                    .hasMessageContaining("expectedServer(\"" + API_ID + "\")")
                    .satisfies(e -> assertThat(((TokenWithheldException) e).reason())
                            .isEqualTo(TokenWithheldException.Reason.AUDIENCE_MISMATCH));
            AuditEvent event = pki.awaitEvent("token.withheld", field("reason", "AUDIENCE_MISMATCH"));
            assertThat(event.fields()).containsEntry("audience", API_ID).containsEntry("server", OTHER_ID)
                    .containsEntry("remote", "127.0.0.1:" + other.port());
            awaitClosed(other);
            assertThat(received).as("the other service received no request, so no Authorization header").isEmpty();
            assertThat(pki.audit.events()).noneMatch(e -> e.action().equals("token.minted")
                    && OTHER_ID.equals(e.fields().get("audience")));
        }
    }

    @Test
    void apiTokenGoesToTheApi() {
        try (TestServer api = server(TestPki.API); MtlsHttpClient http = workerClient()) {
            MtlsHttpClient.Response response = http.get("127.0.0.1", api.port(), "/jobs").join();
            assertThat(response.status()).isEqualTo(200);
            assertThat(received).hasSize(1);
            assertThat(received.get(0)).singleElement().asString().startsWith("Bearer ey");
            assertThat(pki.audit.events()).noneMatch(e -> e.action().equals("token.withheld"));
        }
    }

    @Test
    void apiTokenIsNotSentToAServerThatProvesNoServiceIdentity() throws Exception {
        HostOnly hostOnly = HostOnly.issue();
        CredentialSource serverCredentials = CredentialSource.fixed(
                TlsIdentity.of(hostOnly.key(), List.of(hostOnly.leaf())),
                TrustBundle.of(List.of(TestPki.CA.rootCertificate())));
        CredentialSource workerTrustingBoth = CredentialSource.fixed(
                TlsIdentity.of(TestPki.WORKER.privateKey(), TestPki.WORKER.chain()),
                TrustBundle.of(List.of(TestPki.CA.rootCertificate(), hostOnly.root())));
        NettyMtls clientTls = NettyMtls.builder(MtlsContext.client(workerTrustingBoth).auditLog(pki.audit).build())
                .provider(provider).auditLog(pki.audit).build();
        try (TestServer server = server(serverCredentials);
             MtlsHttpClient http = MtlsHttpClient.builder(clientTls)
                     .requestHeaders(BearerTokens.builder(tokens, API_ID).scopes("jobs:read")
                             .auditLog(pki.audit).build())
                     .build()) {
            assertThatThrownBy(() -> http.get("127.0.0.1", server.port(), "/jobs").join())
                    .cause().isInstanceOf(TokenWithheldException.class)
                    .hasMessageContaining("proved no SPIFFE ID")
                    .satisfies(e -> assertThat(((TokenWithheldException) e).reason())
                            .isEqualTo(TokenWithheldException.Reason.NO_SERVER_IDENTITY));
            AuditEvent event = pki.awaitEvent("token.withheld", field("reason", "NO_SERVER_IDENTITY"));
            assertThat(event.fields()).containsEntry("audience", API_ID).containsEntry("server", "none");
            awaitClosed(server);
            assertThat(received).as("the host-only server received no request").isEmpty();
        }
    }

    @Test
    void refusesToAttachATokenWithoutTheConnection() {
        BearerTokens headers = BearerTokens.builder(tokens, API_ID).scopes("jobs:read").auditLog(pki.audit).build();
        HttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/jobs");
        assertThatThrownBy(() -> headers.addTo(request, request.headers()))
                .isInstanceOf(TokenWithheldException.class).hasMessageContaining("MtlsHttpClient")
                .satisfies(e -> assertThat(((TokenWithheldException) e).reason())
                        .isEqualTo(TokenWithheldException.Reason.NO_SERVER_IDENTITY));
        assertThat(request.headers().contains(HttpHeaderNames.AUTHORIZATION)).isFalse();
        assertThat(pki.audit.events()).anyMatch(e -> e.action().equals("token.withheld")
                && "NO_SERVER_IDENTITY".equals(e.fields().get("reason")));
    }

    @Test
    void refusesAnAudienceThatIsNotASpiffeId() {
        assertThatThrownBy(() -> BearerTokens.from(tokens, "api", "jobs:read"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("spiffe://example.org/api");
    }

    /** A CA of its own and a server certificate from it that names 127.0.0.1 and localhost, and no SPIFFE ID. */
    private record HostOnly(X509Certificate root, X509Certificate leaf, PrivateKey key) {
        static HostOnly issue() throws Exception {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(256);
            KeyPair rootKeys = generator.generateKeyPair();
            KeyPair leafKeys = generator.generateKeyPair();
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            X500Name rootName = new X500Name("CN=Host-only Test Root");
            Date from = Date.from(Instant.now().minus(Duration.ofHours(1)));
            Date to = Date.from(Instant.now().plus(Duration.ofHours(1)));
            X509v3CertificateBuilder root = new JcaX509v3CertificateBuilder(rootName, BigInteger.ONE, from, to,
                    rootName, rootKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            utils.createSubjectKeyIdentifier(rootKeys.getPublic()));
            X509v3CertificateBuilder leaf = new JcaX509v3CertificateBuilder(rootName, BigInteger.TWO, from, to,
                    new X500Name("CN=localhost"), leafKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                        new GeneralName(GeneralName.dNSName, "localhost")}))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            utils.createSubjectKeyIdentifier(leafKeys.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            utils.createAuthorityKeyIdentifier(rootKeys.getPublic()));
            return new HostOnly(sign(root, rootKeys.getPrivate()), sign(leaf, rootKeys.getPrivate()),
                    leafKeys.getPrivate());
        }

        private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key) throws Exception {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
        }
    }

    private static void awaitClosed(TestServer server) throws InterruptedException {
        for (Channel connection : server.connections) {
            assertThat(connection.closeFuture().await(10, TimeUnit.SECONDS)).as("the client closed").isTrue();
        }
    }
}
