package io.settler.zerotrust.consumer.modular;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslHandler;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.jdbc.InsecureDataSourceException;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.micrometer.ZeroTrustMetrics;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.queue.Envelope;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.VerifiedMessage;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqConnection;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqConnections;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqException;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.KeyNamespace;
import io.settler.zerotrust.redis.RedisTlsException;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.InMemoryReplayGuard;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenRequest;
import io.settler.zerotrust.token.VerifiedToken;
import io.settler.zerotrust.trust.VerifiedPeer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * Touches the API of every published library module from the module path, with no server outside
 * this process: a development CA and an mTLS handshake over loopback (core, Bouncy Castle, Jackson),
 * a token minted and verified (service-token, JJWT found at run time), a Netty server handler
 * (netty-mtls), a refused plaintext PostgreSQL URL and a pool's first connection to a closed port
 * (jdbc-mtls, HikariCP, pgjdbc), a refused {@code redis://} URI and a Lettuce connection to a closed
 * port (redis-tls), a queue message sealed and verified (queue), and an AMQP connection to a closed
 * port (queue-rabbitmq, amqp-client as an automatic module). Prints one line per check; any
 * failure, a missing class or module above all, exits with status 1.
 */
public final class ModulePathConsumer {

    private static final String DOMAIN = "consumer.test";
    private static final String API = "spiffe://consumer.test/api";
    private static final String GATEWAY = "spiffe://consumer.test/gateway";
    private static final String QUEUE = "spiffe://consumer.test/queue/jobs";

    private ModulePathConsumer() {
    }

    public static void main(String[] args) {
        try {
            run();
        } catch (Throwable failure) {
            System.out.flush();
            System.err.println("module path consumer FAILED:");
            failure.printStackTrace();
            System.exit(1);
        }
        System.out.println("module path consumer: all checks passed");
        System.exit(0); // Lettuce's and Netty's threads may linger a moment; the checks are done
    }

    private static void run() throws Exception {
        Module self = ModulePathConsumer.class.getModule();
        check(self.isNamed(), "the application runs as a named module, not from the class path: " + self);
        Module core = Policy.class.getModule();
        check(core.isNamed() && core.getDescriptor() != null && !core.getDescriptor().isAutomatic(),
                "zerotrust-core is an explicit module, not an automatic one: " + core.getDescriptor());
        ok("running as " + self.getName() + " with " + core.getDescriptor().toNameAndVersion());

        // core: a development CA (Bouncy Castle), a policy read from JSON (Jackson), an mTLS handshake.
        DevCertificateAuthority ca = DevCertificateAuthority.create(DOMAIN);
        IssuedCertificate api = ca.leaf("api").serverAndClient().dnsNames("localhost").ipAddresses("127.0.0.1")
                .issue();
        IssuedCertificate gateway = ca.leaf("gateway").client().issue();
        check(api.identity().toString().equals(API), "issued " + api.identity());
        ok("DevCertificateAuthority issued " + api.identity() + " and " + gateway.identity());

        Policy policy = Policy.fromJson("{\"trustDomain\": \"consumer.test\", \"services\": {"
                + "\"api\": {\"scopes\": [\"queue:jobs:publish\"], \"accepts\": [{\"service\": \"gateway\"}]},"
                + "\"gateway\": {\"scopes\": [\"orders:write\"]}}}");
        ok("Policy.fromJson read " + policy);

        TrustBundle trust = TrustBundle.of(List.of(ca.rootCertificate()));
        CredentialSource apiCredentials = CredentialSource.fixed(TlsIdentity.of(api.privateKey(), api.chain()), trust);
        CredentialSource gatewayCredentials =
                CredentialSource.fixed(TlsIdentity.of(gateway.privateKey(), gateway.chain()), trust);
        MtlsContext server = MtlsContext.server(apiCredentials, policy.authorizerFor("api")).build();
        MtlsContext client = MtlsContext.client(gatewayCredentials).expectedServer(API).build();
        VerifiedPeer seenByServer = handshake(server, client);
        String seen = seenByServer.identity().map(Object::toString).orElse("no identity");
        check(seen.equals(GATEWAY), "the server saw " + seenByServer);
        ok("mTLS handshake over loopback: the server verified " + seen);

        // micrometer: an automatic module (micrometer.core) required transitively by ours.
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ZeroTrustMetrics metrics = ZeroTrustMetrics.builder(registry).build();
        metrics.bindCredentials(apiCredentials);
        MtlsContext.server(apiCredentials, policy.authorizerFor("api")).auditLog(metrics.auditLog()).build();
        check(registry.get("zerotrust.tls.contexts").counter().count() == 1.0, "a TLS context is counted");
        check(registry.get("zerotrust.credentials.validity.remaining").gauge().value() > 0,
                "the certificate's remaining validity is a gauge");
        ok("ZeroTrustMetrics counted a TLS context and gauges the certificate's expiry");

        // service-token: JJWT's implementation and Jackson binding are found at run time.
        KeySet gatewayKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "gw-1")).build();
        ServiceTokens minter = ServiceTokens.builder().identity(GATEWAY).keys(gatewayKeys).policy(policy).build();
        String token = minter.mint(TokenRequest.to(API).scopes("orders:write").claim("tenant", "acme").build());
        ServiceTokens verifier = ServiceTokens.builder().identity(API)
                .verificationKeys(KeySet.fromJwks(gatewayKeys.toJwks()).pinnedTo(GATEWAY))
                .trustIssuers(GATEWAY).build();
        VerifiedToken verified = verifier.verify(token, "orders:write");
        check(verified.issuer().toString().equals(GATEWAY), "verified " + verified);
        ok("ServiceTokens minted and verified a token from " + verified.issuer() + " for " + verified.audience());

        // netty-mtls: the server's SslContext and its handlers in a channel.
        NettyMtls netty = NettyMtls.builder(server).build();
        EmbeddedChannel channel = new EmbeddedChannel(); // left open: closed before any handshake, it
        netty.addTo(channel);                             // would audit a refused peer
        check(channel.pipeline().get(SslHandler.class) != null, "no SslHandler in " + channel.pipeline());
        ok("NettyMtls (" + netty.provider() + ", OpenSSL available: " + NettyMtls.openSslAvailable()
                + ") built " + netty.sslContext().getClass().getSimpleName() + " and the pipeline "
                + channel.pipeline().names());

        // jdbc-mtls: a plaintext URL is refused before any connection is tried; a pool to a port where
        // nothing listens fails on its first connection, after HikariCP, pgjdbc and the socket factory
        // pgjdbc creates by class name have all run.
        try {
            PostgresMtlsDataSource.builder().jdbcUrl("jdbc:postgresql://localhost:5432/orders?sslmode=disable")
                    .role("api").credentials(apiCredentials).build().close();
            throw new AssertionError("PostgresMtlsDataSource accepted sslmode=disable");
        } catch (InsecureDataSourceException expected) {
            ok("PostgresMtlsDataSource refused sslmode=disable: " + expected.reason());
        }
        int closedPort = closedPort();
        try {
            PostgresMtlsDataSource.builder().host("localhost").port(closedPort).database("orders").role("api")
                    .credentials(apiCredentials).connectionTimeout(Duration.ofSeconds(2)).build().close();
            throw new AssertionError("PostgresMtlsDataSource connected to a closed port");
        } catch (InsecureDataSourceException expected) {
            check(expected.reason() == InsecureDataSourceException.Reason.CONNECTION_FAILED,
                    "refused for " + expected.reason() + ": " + expected.getMessage());
            ok("PostgresMtlsDataSource tried localhost:" + closedPort + " and reported " + expected.reason());
        }

        // redis-tls: a Lettuce client with our TLS, built (it connects only on connect()) and closed;
        // a plaintext URI refused.
        try (HardenedRedis redis = HardenedRedis.builder().host("localhost").port(closedPort).user("api")
                .password(() -> "not-used".toCharArray()).credentials(apiCredentials)
                .connectTimeout(Duration.ofSeconds(2)).build()) {
            ok("HardenedRedis built a Lettuce client for user " + redis.user() + ": " + redis.client().getClass()
                    .getName() + "; key " + KeyNamespace.of("api").key("order", "42"));
            try {
                redis.connect().close();
                throw new AssertionError("HardenedRedis connected to a closed port");
            } catch (RedisTlsException expected) {
                check(expected.reason() == RedisTlsException.Reason.CONNECTION_FAILED,
                        "refused for " + expected.reason() + ": " + expected.getMessage());
                ok("HardenedRedis tried localhost:" + closedPort + " through Lettuce and Netty and reported "
                        + expected.reason());
            }
        }
        try {
            HardenedRedis.builder().uri("redis://localhost:6379").user("api")
                    .password(() -> "not-used".toCharArray()).credentials(apiCredentials).build().close();
            throw new AssertionError("HardenedRedis accepted redis://");
        } catch (RedisTlsException expected) {
            check(expected.reason() == RedisTlsException.Reason.PLAINTEXT_SCHEME, "refused for " + expected.reason());
            ok("HardenedRedis refused redis://: " + expected.reason());
        }

        // queue: a message sealed with a one-time token bound to its payload, then verified.
        TokenKey apiKey = TokenKey.generate(TokenAlgorithm.ED25519, "api-1").forIssuers(API);
        ServiceTokens publisherTokens = ServiceTokens.builder().identity(API).signingKey(apiKey).policy(policy).build();
        ServiceTokens queueTokens = ServiceTokens.builder().identity(QUEUE)
                .verificationKeys(KeySet.of(apiKey.verifyOnly())).trustIssuers(API).build();
        Envelope envelope = EnvelopeSigner.builder(publisherTokens, "jobs").build()
                .seal("{\"orderId\":42}".getBytes(StandardCharsets.UTF_8));
        VerifiedMessage message = EnvelopeVerifier.builder(queueTokens, "jobs").policy(policy)
                .replayGuard(InMemoryReplayGuard.create(1_000)).build()
                .verify(Envelope.fromFields(envelope.toFields()));
        check(Arrays.equals(message.payload(), "{\"orderId\":42}".getBytes(StandardCharsets.UTF_8)),
                "the payload changed");
        ok("EnvelopeSigner sealed and EnvelopeVerifier verified a message from " + message.publisher());

        // queue-rabbitmq: the RabbitMQ client (an automatic module) connecting by EXTERNAL to a closed port.
        MtlsContext rabbitClient = MtlsContext.client(apiCredentials).build();
        try (RabbitMqConnection refused = RabbitMqConnections.builder(rabbitClient).host("localhost").port(closedPort)
                .timeout(Duration.ofSeconds(2)).build().connect("module-path-consumer")) {
            throw new AssertionError("RabbitMqConnections connected to a closed port: " + refused);
        } catch (RabbitMqException expected) {
            check(expected.reason() == RabbitMqException.Reason.CONNECTION_FAILED, "refused for " + expected.reason());
            ok("RabbitMqConnections tried localhost:" + closedPort + " through amqp-client and reported "
                    + expected.reason());
        }
    }

    /** One TLS handshake over loopback; returns the client as the server verified it. */
    private static VerifiedPeer handshake(MtlsContext server, MtlsContext client) throws Exception {
        try (SSLServerSocket listener = (SSLServerSocket) server.serverSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(30_000);
            CompletableFuture<VerifiedPeer> accepted = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket socket = (SSLSocket) listener.accept()) {
                    socket.setSoTimeout(30_000);
                    server.handshake(socket);
                    VerifiedPeer peer = server.verifyAgain(socket.getSession());
                    socket.getOutputStream().write(1);
                    socket.getOutputStream().flush();
                    return peer;
                } catch (Exception e) {
                    throw new IllegalStateException("the server side of the handshake failed", e);
                }
            });
            try (SSLSocket socket = (SSLSocket) client.socketFactory().createSocket("localhost",
                    listener.getLocalPort())) {
                socket.setSoTimeout(30_000);
                client.handshake(socket);
                if (socket.getInputStream().read() != 1) {
                    throw new IOException("the server closed the connection");
                }
            }
            return accepted.get(30, TimeUnit.SECONDS);
        }
    }

    /** A loopback port where nothing listens (it just did, for a moment). */
    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message);
        }
    }

    private static void ok(String message) {
        System.out.println("ok: " + message);
    }
}
