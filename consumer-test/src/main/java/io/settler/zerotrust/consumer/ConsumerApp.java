package io.settler.zerotrust.consumer;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.jdbc.InsecureDataSourceException;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.jdbc.PostgresServerConfig;
import io.settler.zerotrust.micrometer.ZeroTrustMetrics;
import io.settler.zerotrust.netty.BearerTokens;
import io.settler.zerotrust.netty.MtlsHttpClient;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.netty.PeerIdentityHandler;
import io.settler.zerotrust.netty.RouteScopes;
import io.settler.zerotrust.netty.ServiceTokenAuthHandler;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.queue.Envelope;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.QueueException;
import io.settler.zerotrust.queue.VerifiedMessage;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqConnection;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqConnections;
import io.settler.zerotrust.queue.rabbitmq.RabbitMqException;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.KeyNamespace;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.redis.RedisTlsException;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.InMemoryReplayGuard;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenRequest;
import io.settler.zerotrust.token.TokenSource;
import io.settler.zerotrust.token.VerifiedToken;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A user's program, built against the installed artifacts through {@code zerotrust-bom} alone: it
 * uses each module's public API on one machine, with no PostgreSQL or Redis, and exits 0 only if
 * every step did what the library promises. Run by this project's build ({@code mvn verify}).
 *
 * <ol>
 *   <li>core: a development CA, certificates for two services, TLS contexts, a policy;</li>
 *   <li>service-token: mint and verify a scoped token;</li>
 *   <li>netty-mtls: an mTLS server on 127.0.0.1 (provider AUTO: OpenSSL, from the BOM-managed
 *       netty-tcnative) with a token check per route, called by the mTLS HTTP client;</li>
 *   <li>jdbc-mtls: pg_hba/pg_ident/GRANTs rendered from the policy, and a pool whose first
 *       connection (HikariCP, pgjdbc) is refused by a closed loopback port;</li>
 *   <li>redis-tls: the ACL file rendered from the policy, and a Lettuce client (on the BOM's Netty)
 *       whose connection is refused the same way;</li>
 *   <li>queue: a payload-bound one-time token sealed, verified, and refused when replayed;</li>
 *   <li>queue-rabbitmq: an AMQP connection (amqp-client, from the BOM) refused by a closed loopback port.</li>
 * </ol>
 */
public final class ConsumerApp {

    private static final String DOMAIN = "example.org";
    private static final String GATEWAY = "spiffe://example.org/gateway";
    private static final String API = "spiffe://example.org/api";
    private static final String POLICY = """
            {
              "trustDomain": "example.org",
              "services": {
                "gateway": {"scopes": ["orders:write"]},
                "api": {
                  "scopes": ["db:write", "redis:api:write", "queue:jobs:publish"],
                  "accepts": [{"service": "gateway", "networks": ["127.0.0.0/8"]}]
                },
                "orders-db": {"accepts": [{"service": "api", "networks": ["127.0.0.1/32"]}]}
              }
            }
            """;

    private final List<AuditEvent> events = new CopyOnWriteArrayList<>();
    private final AuditLog audit = events::add;

    private ConsumerApp() {
    }

    /**
     * Runs every step; exit status 0 when all passed, 1 (and why) otherwise.
     *
     * @param args none
     */
    public static void main(String[] args) {
        int status;
        try {
            new ConsumerApp().run();
            System.out.println("consumer: every module works through the BOM");
            status = 0;
        } catch (Exception | AssertionError e) {
            System.err.println("consumer: FAILED");
            e.printStackTrace();
            status = 1;
        }
        System.exit(status); // also ends the client and event-loop threads the steps left winding down
    }

    private void run() throws Exception {
        // core
        DevCertificateAuthority ca = DevCertificateAuthority.create(DOMAIN);
        IssuedCertificate apiCertificate = ca.leaf("api").serverAndClient()
                .dnsNames("localhost").ipAddresses("127.0.0.1").issue();
        IssuedCertificate gatewayCertificate = ca.leaf("gateway").serverAndClient().issue();
        CredentialSource apiCerts = credentials(ca, apiCertificate);
        CredentialSource gatewayCerts = credentials(ca, gatewayCertificate);
        Policy policy = Policy.fromJson(POLICY);
        MtlsContext serverContext = MtlsContext.server(apiCerts, policy.authorizerFor("api")).auditLog(audit).build();
        check(serverContext.sslParameters().getNeedClientAuth(), "the server context requires client certificates");
        step("core", "development CA, two service certificates, a server context requiring client certificates");

        // micrometer
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ZeroTrustMetrics metrics = ZeroTrustMetrics.builder(registry).build();
        metrics.bindCredentials(apiCerts);
        MtlsContext.server(apiCerts, policy.authorizerFor("api")).auditLog(metrics.auditLog()).build();
        check(registry.get("zerotrust.tls.contexts").counter().count() == 1.0, "a TLS context is counted");
        check(registry.get("zerotrust.credentials.validity.remaining").gauge().value() > 0,
                "the certificate's remaining validity is a gauge");
        step("micrometer", "a TLS context counted from its audit event, the certificate's expiry as a gauge");

        // service-token
        KeySet gatewayKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "gw-1")).build();
        ServiceTokens gateway = ServiceTokens.builder().identity(GATEWAY).keys(gatewayKeys).policy(policy).build();
        ServiceTokens api = ServiceTokens.builder().identity(API)
                .verificationKeys(KeySet.fromJwks(gatewayKeys.toJwks()).pinnedTo(GATEWAY))
                .trustIssuers(GATEWAY).build();
        VerifiedToken verified = api.verify(gateway.mint(TokenRequest.to(API).scopes("orders:write").build()),
                "orders:write");
        check(verified.service().toString().equals(GATEWAY), "the token's service is the gateway: " + verified);
        step("service-token", "minted by the gateway, verified by the API server");

        // netty-mtls
        netty(serverContext, gatewayCerts, gateway, api);

        // jdbc-mtls
        PostgresServerConfig database = PostgresServerConfig.builder(policy, "orders-db").database("orders")
                .auditLog(audit).build();
        check(database.identLines().contains("zerotrust \"" + API + "\" \"api\""),
                "pg_ident.conf maps the API's SPIFFE ID to its role: " + database.identLines());
        try (PostgresMtlsDataSource refused = PostgresMtlsDataSource.builder().host("127.0.0.1").port(closedPort())
                .database("orders").role("api").credentials(apiCerts).connectionTimeout(Duration.ofSeconds(2))
                .auditLog(audit).build()) {
            throw new AssertionError("a pool started against a closed port: " + refused);
        } catch (InsecureDataSourceException e) {
            check(e.reason() == InsecureDataSourceException.Reason.CONNECTION_FAILED, "refused as " + e.reason());
        }
        step("jdbc-mtls", "PostgreSQL configuration rendered; HikariCP + pgjdbc refused a closed port at start");

        // redis-tls
        String acl = RedisAcl.builder(policy).password("api", "not-a-real-password".toCharArray())
                .auditLog(audit).build().aclFile();
        check(acl.contains("user api "), "the ACL file has the API's user: " + acl);
        try (HardenedRedis redis = HardenedRedis.builder().host("127.0.0.1").port(closedPort()).user("api")
                .password("not-a-real-password"::toCharArray).credentials(apiCerts)
                .connectTimeout(Duration.ofSeconds(2)).auditLog(audit).build()) {
            redis.connect().close();
            throw new AssertionError("connected to a closed port");
        } catch (RedisTlsException e) {
            check(e.reason() == RedisTlsException.Reason.CONNECTION_FAILED, "refused as " + e.reason());
        }
        check(KeyNamespace.of("api").key("order", "42").equals("api:order:42"), "key namespace");
        step("redis-tls", "ACL file rendered; Lettuce refused a closed port when connecting");

        // queue
        KeySet apiKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "api-1")).build();
        ServiceTokens apiTokens = ServiceTokens.builder().identity(API).keys(apiKeys).policy(policy).build();
        Envelope envelope = EnvelopeSigner.builder(apiTokens, "jobs").build()
                .seal("{\"orderId\":42}".getBytes(StandardCharsets.UTF_8));
        ServiceTokens queueTokens = ServiceTokens.builder().identity("spiffe://example.org/queue/jobs")
                .verificationKeys(KeySet.fromJwks(apiKeys.toJwks()).pinnedTo(API)).trustIssuers(API).build();
        EnvelopeVerifier verifier = EnvelopeVerifier.builder(queueTokens, "jobs").policy(policy)
                .replayGuard(InMemoryReplayGuard.create(1000)).auditLog(audit).build();
        VerifiedMessage message = verifier.verify(envelope);
        check(new String(message.payload(), StandardCharsets.UTF_8).equals("{\"orderId\":42}"), "the payload");
        try {
            verifier.verify(envelope);
            throw new AssertionError("a message was accepted twice");
        } catch (QueueException e) {
            check(e.reason() == QueueException.Reason.REPLAYED, "the replay refused as " + e.reason());
        }
        step("queue", "a sealed message verified once, its replay refused");

        // queue-rabbitmq
        MtlsContext rabbitClient = MtlsContext.client(apiCerts).auditLog(audit).build();
        try (RabbitMqConnection refused = RabbitMqConnections.builder(rabbitClient).host("127.0.0.1")
                .port(closedPort()).timeout(Duration.ofSeconds(2)).auditLog(audit).build().connect("consumer")) {
            throw new AssertionError("connected to a closed port: " + refused);
        } catch (RabbitMqException e) {
            check(e.reason() == RabbitMqException.Reason.CONNECTION_FAILED, "refused as " + e.reason());
        }
        step("queue-rabbitmq", "the RabbitMQ client (EXTERNAL over TLS 1.3) refused a closed port when connecting");
    }

    /** An mTLS server with a token check on POST /orders, and the gateway calling it with a fresh token. */
    private void netty(MtlsContext serverContext, CredentialSource gatewayCerts, ServiceTokens gateway,
                       ServiceTokens api) throws Exception {
        NettyMtls tls = NettyMtls.builder(serverContext).auditLog(audit).build(); // provider AUTO
        check(tls.provider() == NettyMtls.Provider.OPENSSL, "AUTO took OpenSSL (netty-tcnative, managed by the"
                + " BOM, loads with the BOM's Netty); the audit says: " + netty("SERVER"));
        ServiceTokenAuthHandler tokens = ServiceTokenAuthHandler.builder(api,
                RouteScopes.builder().route(HttpMethod.POST, "/orders", "orders:write").build())
                .auditLog(audit).build();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            tls.addTo(channel);
                            channel.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                    tokens, new Caller());
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            int port = ((InetSocketAddress) server.localAddress()).getPort();
            MtlsContext client = MtlsContext.client(gatewayCerts).expectedServer(API).auditLog(audit).build();
            try (MtlsHttpClient http = MtlsHttpClient.builder(NettyMtls.builder(client).auditLog(audit).build())
                    .requestHeaders(BearerTokens.from(TokenSource.builder(gateway).build(), API, "orders:write"))
                    .build()) {
                MtlsHttpClient.Response created = http.send("localhost", port,
                        new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/orders")).join();
                check(created.status() == 201 && created.bodyText().equals(GATEWAY),
                        "POST /orders: " + created.status() + " " + created.bodyText());
                int unrouted = http.get("localhost", port, "/orders").join().status();
                check(unrouted == 403, "GET /orders, which no route covers: " + unrouted);
            }
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
        step("netty-mtls", "mTLS 1.3 on " + tls.provider() + " with a token per route: 201, and 403 off the routes");
    }

    /** The fields of the first {@code tls.netty} event of a role, as audited. */
    private String netty(String role) {
        return events.stream().filter(event -> event.action().equals("tls.netty"))
                .filter(event -> role.equals(event.fields().get("role"))).findFirst()
                .map(event -> event.fields().toString()).orElse("no tls.netty event");
    }

    private static CredentialSource credentials(DevCertificateAuthority ca, IssuedCertificate issued) {
        return CredentialSource.fixed(TlsIdentity.of(issued.privateKey(), issued.chain()),
                TrustBundle.of(List.of(ca.rootCertificate())));
    }

    /** A loopback port nothing listens on (it was free a moment ago). */
    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    private static void step(String module, String what) {
        System.out.println("consumer: " + module + ": " + what);
    }

    /** The application behind the token check: 201 with the caller's verified identity. */
    @ChannelHandler.Sharable
    private static final class Caller extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            byte[] body = String.valueOf(ctx.channel().attr(PeerIdentityHandler.PEER_IDENTITY).get())
                    .getBytes(StandardCharsets.UTF_8);
            DefaultFullHttpResponse created = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.CREATED, ctx.alloc().buffer(body.length).writeBytes(body));
            HttpUtil.setContentLength(created, body.length);
            ctx.writeAndFlush(created).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
