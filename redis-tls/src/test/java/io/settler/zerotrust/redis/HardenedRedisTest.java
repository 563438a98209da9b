package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.authz.PeerRule;
import io.settler.zerotrust.credentials.CertificateFingerprint;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.CertificateDefect;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsRedis;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hardened client against the testkit's real TLS Redis: what it accepts, and each attack it refuses. */
@TlsRedis
class HardenedRedisTest {

    private static final String USER = "rt_api";
    private static final String PASSWORD = "rt-api-secret-7f3a9c";

    @TempDir
    Path dir;

    private final RecordingAuditLog audit = RecordingAuditLog.logging();

    @BeforeAll
    static void createUser(LocalRedis redis) {
        redis.createUser(USER, PASSWORD, "~rt:* " + RedisTestSupport.RULES);
    }

    private HardenedRedis.Builder builder(LocalRedis redis) throws IOException {
        return RedisTestSupport.builder(redis, USER, RedisTestSupport.passwordFile(dir, PASSWORD), audit);
    }

    @Test
    void connectsOverTls13AsTheConfiguredUser(LocalRedis redis) throws IOException {
        try (HardenedRedis client = builder(redis).build();
             StatefulRedisConnection<String, String> connection = client.connect()) {
            connection.sync().set("rt:greeting", "hello");
            assertThat(connection.sync().get("rt:greeting")).isEqualTo("hello");
            assertThat(connection.sync().aclWhoami()).isEqualTo(USER);
        }
        AuditEvent connected = audit.withAction("redis.connected").get(0);
        assertThat(connected.fields()).containsEntry("protocol", "TLSv1.3").containsEntry("user", USER);
        assertThat(connected.fields()).containsEntry("client_fingerprint",
                CertificateFingerprint.sha256(redis.clientCertificate(USER).certificate()));
        assertThat(audit.withAction("redis.client.posture").get(0).outcome()).isEqualTo(AuditEvent.Outcome.INFO);
        AuditEvent handshake = audit.single(RedisAudit.TLS_HANDSHAKE);
        assertThat(handshake.fields()).containsEntry("protocol", "TLSv1.3")
                .containsEntry("client_fingerprint", connected.fields().get("client_fingerprint"));
        assertThat(handshake.elapsed()).as("the handshake is timed").isNotNull().isPositive();
    }

    @Test
    void connectsWithUriAndSpiffeServerIdentity(LocalRedis redis) throws IOException {
        String serverIdentity = "spiffe://" + redis.certificateAuthority().trustDomain() + "/redis";
        try (HardenedRedis client = builder(redis).host("unused").uri(redis.uri())
                .expectedServer(serverIdentity).build();
             StatefulRedisConnection<String, String> connection = client.connect()) {
            assertThat(connection.sync().ping()).isEqualTo("PONG");
        }
    }

    @Test
    void runsOnClientResourcesTheUserOwnsAndLeavesThemRunning(LocalRedis redis) throws IOException {
        java.util.concurrent.atomic.AtomicInteger usersChannels = new java.util.concurrent.atomic.AtomicInteger();
        io.lettuce.core.resource.ClientResources owned = io.lettuce.core.resource.DefaultClientResources.builder()
                .ioThreadPoolSize(1).computationThreadPoolSize(1)
                .nettyCustomizer(new io.lettuce.core.resource.NettyCustomizer() {
                    @Override
                    public void afterChannelInitialized(io.netty.channel.Channel channel) {
                        usersChannels.incrementAndGet();
                    }
                })
                .build();
        List<io.lettuce.core.event.Event> usersEvents = new java.util.concurrent.CopyOnWriteArrayList<>();
        reactor.core.Disposable listening = owned.eventBus().get().subscribe(usersEvents::add);
        try {
            for (int round = 0; round < 2; round++) { // the second client runs on what the first left running
                try (HardenedRedis client = builder(redis).clientResources(owned).build();
                     StatefulRedisConnection<String, String> connection = client.connect()) {
                    assertThat(connection.sync().ping()).isEqualTo("PONG");
                }
                assertThat(owned.eventExecutorGroup().isShuttingDown()).isFalse();
            }
            assertThat(usersChannels).hasValue(2);
            assertThat(audit.withAction("redis.tls.handshake")).hasSize(2); // our guard saw both handshakes
            assertThat(audit.withAction("redis.connected")).hasSize(2);
            RedisTestSupport.await(java.time.Duration.ofSeconds(5), "the client's events on the user's bus",
                    () -> usersEvents.stream().anyMatch(
                            e -> e instanceof io.lettuce.core.event.connection.ConnectionActivatedEvent));
        } finally {
            listening.dispose();
            owned.shutdown();
        }
    }

    @Test
    void refusesPlaintextRedisUri(LocalRedis redis) throws IOException {
        HardenedRedis.Builder builder = builder(redis).uri("redis://localhost:" + redis.tlsPort());
        assertRefusedAtBuild(builder, RedisTlsException.Reason.PLAINTEXT_SCHEME);
        assertRefusedAtBuild(builder(redis).uri("redis-socket:///tmp/redis.sock"),
                RedisTlsException.Reason.INVALID_CONFIGURATION);
    }

    @Test
    void refusesVerifyModesOtherThanFull(LocalRedis redis) throws IOException {
        assertRefusedAtBuild(builder(redis).uri(redis.uri() + "?verifyPeer=NONE"),
                RedisTlsException.Reason.WEAK_VERIFICATION);
        assertRefusedAtBuild(builder(redis).uri(redis.uri() + "?verifyPeer=CA"),
                RedisTlsException.Reason.WEAK_VERIFICATION);
    }

    @Test
    void refusesPasswordInUri(LocalRedis redis) throws IOException {
        RedisTlsException refused = assertRefusedAtBuild(
                builder(redis).uri("rediss://" + USER + ":" + PASSWORD + "@localhost:" + redis.tlsPort()),
                RedisTlsException.Reason.PASSWORD_IN_URI);
        assertThat(refused.getMessage()).doesNotContain(PASSWORD);
        assertThat(audit.events().toString()).doesNotContain(PASSWORD);
    }

    @Test
    void refusesMissingPassword(LocalRedis redis) {
        HardenedRedis.Builder builder = HardenedRedis.builder().host(redis.host()).port(redis.tlsPort()).user(USER)
                .credentials(RedisTestSupport.credentials(redis, redis.clientCertificate(USER))).auditLog(audit);
        assertRefusedAtBuild(builder, RedisTlsException.Reason.PASSWORD_MISSING);
    }

    @Test
    void mistypedSpiffeIdAsExpectedServerGetsTheSpiffeIdError(LocalRedis redis) throws IOException {
        RedisTlsException refused = assertRefusedAtBuild(builder(redis).expectedServer("spiffe:/example.org/redis"),
                RedisTlsException.Reason.INVALID_CONFIGURATION);
        assertThat(refused.getMessage()).contains("'spiffe:/example.org/redis' is not a SPIFFE ID: it must start"
                + " with spiffe://").doesNotContain("not an IP address literal");
    }

    @Test
    void missingPasswordFileFailsAtBuildNotAtFirstConnect(LocalRedis redis) throws IOException {
        Path absent = dir.resolve("not-mounted-yet");
        RedisTlsException refused = assertRefusedAtBuild(builder(redis).password(PasswordSource.fromFile(absent)),
                RedisTlsException.Reason.PASSWORD_UNREADABLE);
        assertThat(refused.getMessage()).contains("the password file " + absent + " does not exist");
    }

    @Test
    void refusesDefaultUser(LocalRedis redis) throws IOException {
        assertRefusedAtBuild(builder(redis).user("default"), RedisTlsException.Reason.INVALID_CONFIGURATION);
    }

    @Test
    void refusesServerCertificateFromWrongCa(LocalRedis redis) throws IOException {
        DevCertificateAuthority other = DevCertificateAuthority.create("other.test");
        IssuedCertificate mine = redis.clientCertificate(USER);
        CredentialSource trustsOtherCa = CredentialSource.fixed(
                TlsIdentity.of(mine.privateKey(), mine.chain()),
                TrustBundle.of(List.of(other.rootCertificate())));
        try (HardenedRedis client = builder(redis).credentials(trustsOtherCa).build()) {
            assertThat(assertRefusedOnConnect(client, RedisTlsException.Reason.HANDSHAKE_FAILED).getMessage())
                    .contains("the server's certificate is not from a CA in this service's trust bundle");
        }
        assertThat(audit.withAction("peer.refused")).isNotEmpty();
    }

    @Test
    void serverRefusingOurCaSaysToAddItToTheServersCaFile(LocalRedis redis) throws IOException {
        IssuedCertificate fromAnotherCa = DevCertificateAuthority.create("other.test").leaf(USER).client().issue();
        try (HardenedRedis client = builder(redis)
                .credentials(RedisTestSupport.credentials(redis, fromAnotherCa)).build()) {
            RedisTlsException refused = assertRefusedOnConnect(client, RedisTlsException.Reason.HANDSHAKE_FAILED);
            assertThat(refused.getMessage()).as(refused.getMessage()).contains("the Redis server does not trust the CA"
                    + " of this service's certificate: add it to the server's tls-ca-cert-file")
                    .doesNotContain("within its bounds");
        }
    }

    @Test
    void connectionRefusedSaysNothingListensWithoutACertificateHint(LocalRedis redis) throws IOException {
        int port;
        try (java.net.ServerSocket closedAgain = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closedAgain.getLocalPort();
        }
        try (HardenedRedis client = builder(redis).host("127.0.0.1").port(port).build()) {
            RedisTlsException refused = assertRefusedOnConnect(client, RedisTlsException.Reason.CONNECTION_FAILED);
            assertThat(refused.getMessage()).contains("nothing listens on 127.0.0.1:" + port
                    + " (is the server running? is the port right?)").doesNotContain("certificate")
                    .doesNotContain("trust bundle");
        }
    }

    @Test
    void refusesServerWithWrongHostname(LocalRedis redis) throws IOException {
        try (HardenedRedis client = builder(redis).expectedServer("cache.elsewhere.test").build()) {
            assertRefusedOnConnect(client, RedisTlsException.Reason.HANDSHAKE_FAILED);
        }
        assertThat(audit.withAction("peer.refused").get(0).fields()).containsEntry("reason", "NAME_MISMATCH");
    }

    @Test
    void refusedByServerWithClientCertificateFromUnknownCa(LocalRedis redis) throws IOException {
        IssuedCertificate impostor = redis.certificateAuthority().leaf(USER).client()
                .defect(CertificateDefect.UNKNOWN_CA).issue();
        try (HardenedRedis client = builder(redis).credentials(RedisTestSupport.credentials(redis, impostor)).build()) {
            assertRefusedOnConnect(client, RedisTlsException.Reason.HANDSHAKE_FAILED);
        }
    }

    @Test
    void clientWithoutCertificateIsRefusedByTheServer(LocalRedis redis) throws Exception {
        // HardenedRedis always presents a certificate; a plain Lettuce client shows what a client
        // without one meets: the server ends the TLS 1.3 handshake (certificate_required).
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", redis.certificateAuthority().rootCertificate());
        javax.net.ssl.TrustManagerFactory trustManagers = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        trustManagers.init(trust);
        io.lettuce.core.RedisClient plain = io.lettuce.core.RedisClient.create(io.lettuce.core.RedisURI.builder()
                .withHost(redis.host()).withPort(redis.tlsPort()).withSsl(true)
                .withAuthentication(USER, PASSWORD.toCharArray()).build());
        try {
            plain.setOptions(io.lettuce.core.ClientOptions.builder().sslOptions(io.lettuce.core.SslOptions.builder()
                    .jdkSslProvider().protocols("TLSv1.3").trustManager(trustManagers).build()).build());
            assertThatThrownBy(plain::connect).isInstanceOf(io.lettuce.core.RedisConnectionException.class)
                    .hasStackTraceContaining("certificate_required");
        } finally {
            plain.shutdown();
        }
    }

    @Test
    void refusesWrongAclPassword(LocalRedis redis) throws IOException {
        try (HardenedRedis client = builder(redis)
                .password(PasswordSource.fromFile(RedisTestSupport.passwordFile(dir, "guessed-password"))).build()) {
            assertRefusedOnConnect(client, RedisTlsException.Reason.AUTHENTICATION_FAILED);
        }
    }

    @Test
    void refusesServerThatOnlySpeaksTls12(LocalRedis redis) throws Exception {
        IssuedCertificate serverCertificate = redis.certificateAuthority().leaf("fake-redis").server()
                .dnsNames("localhost").ipAddresses("127.0.0.1").issue();
        MtlsContext server = MtlsContext.server(RedisTestSupport.credentials(redis, serverCertificate),
                PeerAuthorizer.builder().allow(PeerRule.trustDomain(redis.certificateAuthority().trustDomain()))
                        .build())
                .allowTls12().auditLog(audit).build();
        try (SSLServerSocket listener = (SSLServerSocket) server.serverSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            listener.setEnabledProtocols(new String[] {"TLSv1.2"});
            Thread acceptor = new Thread(() -> acceptOnce(listener), "tls12-only-server");
            acceptor.start();
            try (HardenedRedis client = builder(redis).port(listener.getLocalPort()).build()) {
                assertRefusedOnConnect(client, RedisTlsException.Reason.HANDSHAKE_FAILED);
            }
            acceptor.join(10_000);
        }
    }

    @Test
    void allowTls12IsAWarningAndTheServerStillGetsTls13(LocalRedis redis) throws IOException {
        try (HardenedRedis client = builder(redis).allowTls12().build();
             StatefulRedisConnection<String, String> connection = client.connect()) {
            assertThat(connection.sync().ping()).isEqualTo("PONG");
        }
        assertThat(audit.single(RedisAudit.CLIENT_POSTURE_WEAKENED).fields().get("protocols")).contains("TLSv1.2");
        assertThat(audit.withAction("redis.connected").get(0).fields()).containsEntry("protocol", "TLSv1.3");
    }

    private static void acceptOnce(SSLServerSocket listener) {
        try (SSLSocket socket = (SSLSocket) listener.accept()) {
            socket.setSoTimeout(10_000);
            InputStream in = socket.getInputStream();
            in.read(); // runs the handshake, which the TLS 1.3-only client refuses
        } catch (IOException expected) {
            // the refusal
        }
    }

    private RedisTlsException assertRefusedAtBuild(HardenedRedis.Builder builder, RedisTlsException.Reason reason) {
        int before = audit.withAction("redis.refused").size();
        RedisTlsException refused = catchRefusal(() -> builder.build().close());
        assertThat(refused.reason()).isEqualTo(reason);
        assertThat(audit.withAction("redis.refused")).hasSize(before + 1);
        assertThat(audit.withAction("redis.refused").get(before).fields()).containsEntry("reason", reason.name());
        return refused;
    }

    private RedisTlsException assertRefusedOnConnect(HardenedRedis client, RedisTlsException.Reason reason) {
        RedisTlsException refused = catchRefusal(client::connect);
        assertThat(refused.reason()).as(refused.getMessage()).isEqualTo(reason);
        assertThat(audit.withAction("redis.refused")).anyMatch(hasReason(reason));
        assertThat(audit.withAction("redis.connected")).isEmpty();
        return refused;
    }

    private static Predicate<AuditEvent> hasReason(RedisTlsException.Reason reason) {
        return event -> reason.name().equals(event.fields().get("reason"));
    }

    private static RedisTlsException catchRefusal(Runnable action) {
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(action::run);
        assertThat(thrown).isInstanceOf(RedisTlsException.class);
        return (RedisTlsException) thrown;
    }
}
