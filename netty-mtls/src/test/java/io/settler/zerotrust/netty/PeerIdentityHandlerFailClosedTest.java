package io.settler.zerotrust.netty;

import static io.settler.zerotrust.netty.TestPki.field;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.credentials.CertificateFingerprint;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.tls.MtlsContext;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link PeerIdentityHandler} fails closed on a certificate whose identity
 * {@link ServiceIdentity#fromCertificate} refuses, after a handshake that a trust manager other than
 * ours verified: here a plain Netty server context that trusts the client's CA and nothing else, with
 * our handler behind its {@code SslHandler}, both providers, real TLS 1.3 on 127.0.0.1. The refused
 * peer's connection is closed, the application behind the handler never sees its bytes (not even
 * those sent right behind its Finished), no attribute is set, and one {@code peer.refused} event is
 * recorded with the reason of the identity rule the certificate breaks. The same setup with a certificate that
 * carries one valid SPIFFE ID admits the peer and publishes it, so the refusal is the certificate's.
 */
@ParameterizedClass
@EnumSource(value = NettyMtls.Provider.class, names = {"JDK", "OPENSSL"})
class PeerIdentityHandlerFailClosedTest {

    private static final String WORKER_ID = TestPki.WORKER_ID;
    /** The client's CA: the only one the plain server context trusts; unknown to our verifier. */
    private static final LocalCa CLIENT_CA = LocalCa.create();

    @Parameter
    NettyMtls.Provider provider;

    private final TestPki pki = new TestPki();
    private final TestClient clients = new TestClient();

    @AfterEach
    void stopClients() {
        clients.close();
    }

    @Test
    void closesConnectionOfPeerWhoseSpiffeIdSitsBesideAnotherUri() throws Exception {
        AuditEvent refused = refuse(CLIENT_CA.leaf(WORKER_ID, "https://example.org/x"), "SEVERAL_URI_NAMES");

        assertThat(refused.fields().get("detail")).contains("2 URI SANs", "reissue it with only that one");
    }

    @Test
    void closesConnectionOfPeerWhoseSpiffeIdIsInvalid() throws Exception {
        AuditEvent refused = refuse(CLIENT_CA.leaf("spiffe://Example.org/worker"), "INVALID_SPIFFE_ID");

        assertThat(refused.fields().get("detail")).contains("not a valid SPIFFE ID", "reissue it");
    }

    @Test
    void publishesPeerWhoseCertificateCarriesOneValidSpiffeId() throws Exception {
        try (PlainServer server = new PlainServer()) {
            Channel client = clients.connect(client(CLIENT_CA.leaf(WORKER_ID)), server.port());
            client.writeAndFlush(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII));

            String read = server.reads.poll(10, TimeUnit.SECONDS);
            assertThat(read).as("what the application behind PeerIdentityHandler read")
                    .isEqualTo("hello identity=" + WORKER_ID);
            Channel accepted = server.accepted.poll(10, TimeUnit.SECONDS);
            assertThat(accepted).isNotNull();
            assertThat(PeerIdentityHandler.peerIdentity(accepted)).contains(ServiceIdentity.parse(WORKER_ID));
            assertThat(client.isActive()).isTrue();
        }
        assertThat(pki.audit.events()).noneMatch(event -> event.action().equals("peer.refused"));
    }

    /**
     * Connects with {@code leaf}, sending bytes as soon as the handshake lets it; asserts that the
     * server closed the connection with nothing read by the application nor identity published, and
     * returns the one refusal event (after the server stopped, so nothing it records is missed), which
     * names the identity rule the certificate breaks and the certificate.
     */
    private AuditEvent refuse(Leaf leaf, String reason) throws Exception {
        Channel accepted;
        BlockingQueue<String> reads;
        try (PlainServer server = new PlainServer()) {
            reads = server.reads;
            Channel client = clients.connect(client(leaf), server.port());
            // Queued by the SslHandler until the handshake completes, then sent right behind the client's Finished.
            client.writeAndFlush(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII));

            assertThat(TestClient.handshake(client)).as("client side of the handshake (the plain server admits it)")
                    .isTrue();
            assertThat(TestClient.closes(client)).as("connection closed by the server").isTrue();
            accepted = server.accepted.poll(10, TimeUnit.SECONDS);
            assertThat(accepted).isNotNull();
            assertThat(accepted.closeFuture().awaitUninterruptibly(10, TimeUnit.SECONDS)).isTrue();
            pki.awaitEvent("peer.refused", field("remote", "127.0.0.1"));
        }
        assertThat(reads).as("what the application behind PeerIdentityHandler read").isEmpty();
        assertThat(PeerIdentityHandler.peerIdentity(accepted)).isEmpty();
        assertThat(PeerIdentityHandler.peerCertificate(accepted)).isEmpty();
        assertThat(pki.audit.events()).as("events besides the context's tls.posture")
                .filteredOn(event -> !event.action().equals("tls.posture"))
                .extracting(AuditEvent::action).containsExactly("peer.refused");
        AuditEvent refused = pki.audit.single("peer.refused");
        assertThat(refused.outcome()).isEqualTo(AuditEvent.Outcome.REFUSED);
        assertThat(refused.fields()).containsEntry("role", "client").containsEntry("remote", "127.0.0.1")
                .containsEntry("reason", reason)
                .containsEntry("fingerprint", CertificateFingerprint.sha256(leaf.certificate()));
        return refused;
    }

    /** A plain Netty client (none of our checks) that trusts the server's CA and presents {@code leaf}. */
    private SslContext client(Leaf leaf) throws Exception {
        return TestPki.plainClient(provider, leaf.key(), List.of(leaf.certificate()), "TLSv1.3");
    }

    /**
     * A server whose handshake is verified by Netty's plain trust manager for {@link #CLIENT_CA} (client
     * certificate required), then our {@link PeerIdentityHandler} built from the library's server
     * {@link MtlsContext}, then an application that records what it reads with the identity it sees.
     */
    private final class PlainServer implements AutoCloseable {
        final BlockingQueue<String> reads = new LinkedBlockingQueue<>();
        final BlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();
        private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        private final Channel listener;

        PlainServer() throws Exception {
            SslContext plain = SslContextBuilder
                    .forServer(TestPki.API.privateKey(), TestPki.API.chain().toArray(X509Certificate[]::new))
                    .sslProvider(provider == NettyMtls.Provider.OPENSSL ? SslProvider.OPENSSL : SslProvider.JDK)
                    .trustManager(CLIENT_CA.certificate)
                    .clientAuth(ClientAuth.REQUIRE)
                    .protocols("TLSv1.3")
                    .build();
            MtlsContext mtls = MtlsContext.server(TestPki.credentials(TestPki.API), TestPki.onlyWorker())
                    .auditLog(pki.audit).build();
            PeerIdentityHandler identity = new PeerIdentityHandler(mtls, pki.audit);
            listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            accepted.add(channel);
                            channel.pipeline().addLast(plain.newHandler(channel.alloc()), identity,
                                    new Application());
                        }
                    })
                    .bind("127.0.0.1", 0).syncUninterruptibly().channel();
        }

        int port() {
            return ((InetSocketAddress) listener.localAddress()).getPort();
        }

        @Override
        public void close() {
            listener.close().syncUninterruptibly();
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }

        private final class Application extends ChannelInboundHandlerAdapter {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                    String text = msg instanceof ByteBuf bytes ? bytes.toString(StandardCharsets.US_ASCII)
                            : msg.toString();
                    reads.add(text + " identity=" + PeerIdentityHandler.peerIdentity(ctx.channel())
                            .map(Object::toString).orElse("none"));
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }
        }
    }

    /** A leaf key and certificate. */
    private record Leaf(PrivateKey key, X509Certificate certificate) {
    }

    /** A CA of the test's own (EC P-256), issuing client leaves with any URI SANs, taken as they are. */
    private record LocalCa(KeyPair keys, X509Certificate certificate) {

        static LocalCa create() {
            try {
                KeyPair keys = ec();
                X500Name name = new X500Name("CN=Plain Client CA");
                X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(), start(), end(),
                        name, keys.getPublic());
                builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
                builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
                builder.addExtension(Extension.subjectKeyIdentifier, false,
                        new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
                return new LocalCa(keys, sign(builder, keys.getPrivate()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        Leaf leaf(String... uris) {
            try {
                KeyPair leafKeys = ec();
                GeneralName[] names = new GeneralName[uris.length];
                for (int i = 0; i < uris.length; i++) {
                    names[i] = new GeneralName(GeneralName.uniformResourceIdentifier, uris[i]);
                }
                JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
                X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial(), start(),
                        end(), new X500Name("CN=worker"), leafKeys.getPublic());
                builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
                builder.addExtension(Extension.extendedKeyUsage, false,
                        new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
                builder.addExtension(Extension.subjectKeyIdentifier, false,
                        utils.createSubjectKeyIdentifier(leafKeys.getPublic()));
                builder.addExtension(Extension.authorityKeyIdentifier, false,
                        utils.createAuthorityKeyIdentifier(certificate));
                return new Leaf(leafKeys.getPrivate(), sign(builder, keys.getPrivate()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key) throws Exception {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
        }

        private static KeyPair ec() throws GeneralSecurityException {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        }

        private static BigInteger serial() {
            return new BigInteger(120, new SecureRandom()).setBit(0);
        }

        private static Date start() {
            return Date.from(Instant.now().minus(Duration.ofHours(1)));
        }

        private static Date end() {
            return Date.from(Instant.now().plus(Duration.ofDays(1)));
        }
    }
}
