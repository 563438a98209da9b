package io.settler.zerotrust.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenSource;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's quick start, as written there but on loopback. */
class ReadmeExampleTest {

    @TempDir
    Path tlsDirectory;

    @Test
    void quickStartServesTheWorker() throws Exception {
        TestPki.API.writePem(tlsDirectory, "tls");
        CredentialSource workerCredentials = TestPki.credentials(TestPki.WORKER);
        KeySet workerKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "worker-1")).build();
        String workerJwks = workerKeys.toJwks();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        ChannelHandler application = new SimpleChannelInboundHandler<FullHttpRequest>() {
            @Override
            public boolean isSharable() {
                return true;
            }

            @Override
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                String who = ctx.channel().attr(PeerIdentityHandler.PEER_IDENTITY).get() + " "
                        + ctx.channel().attr(ServiceTokenAuthHandler.VERIFIED_TOKEN).get().scopes();
                var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.copiedBuffer(who, StandardCharsets.UTF_8));
                HttpUtil.setContentLength(response, response.content().readableBytes());
                ctx.writeAndFlush(response);
            }
        };
        try (FileCredentialSource credentials = FileCredentialSource.builder(
                tlsDirectory.resolve("tls.crt"), tlsDirectory.resolve("tls.key"), tlsDirectory.resolve("ca.crt"))
                        .start()) {
            PeerAuthorizer authorizer = PeerAuthorizer.builder().allowIdentities("spiffe://example.org/worker").build();
            NettyMtls tls = NettyMtls.builder(MtlsContext.server(credentials, authorizer).build())  // AUTO provider
                    .connectionLimits(ConnectionLimits.builder()                // these are the defaults
                            .handshakeTimeout(Duration.ofSeconds(10))           // the TLS handshake
                            .requestHeadTimeout(Duration.ofSeconds(10))         // a request head, from its first byte
                            .idleTimeout(Duration.ofSeconds(30))                // between requests
                            .maxConnectionsPerIdentity(64).maxConnections(10_000).build())
                    .build();

            SourceNetworkFilter network = SourceNetworkFilter.builder().allow("127.0.0.0/8").build();
            ConnectionExpiryHandler expiry = ConnectionExpiryHandler.builder(() -> authorizer).build();
            RateLimitHandler rateLimit = RateLimitHandler.builder().burst(100).perSecond(50).build();
            ServiceTokens verifier = ServiceTokens.builder()
                    .identity("spiffe://example.org/api")                    // the audience it accepts
                    .verificationKeys(KeySet.fromJwks(workerJwks).pinnedTo("spiffe://example.org/worker"))
                    .trustIssuers("spiffe://example.org/worker")
                    .build();
            RouteScopes routes = RouteScopes.builder().route(HttpMethod.GET, "/jobs", "jobs:read").build();
            ServiceTokenAuthHandler tokens = ServiceTokenAuthHandler.builder(verifier, routes).build();

            Channel listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            channel.pipeline().addLast(network);
                            tls.addTo(channel);
                            channel.pipeline().addLast(expiry, new HttpServerCodec(), new HttpObjectAggregator(65536),
                                    rateLimit, tokens, application);
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
            int port = ((InetSocketAddress) listener.localAddress()).getPort();

            NettyMtls clientTls = NettyMtls.builder(MtlsContext.client(workerCredentials)
                    .expectedServer("spiffe://example.org/api").build()).build();
            TokenSource workerTokens = TokenSource.builder(ServiceTokens.builder()
                    .identity("spiffe://example.org/worker").keys(workerKeys).build()).build();
            try (MtlsHttpClient http = MtlsHttpClient.builder(clientTls)
                    .requestHeaders(BearerTokens.from(workerTokens, "spiffe://example.org/api", "jobs:read"))
                    .build()) {
                MtlsHttpClient.Response response = http.get("127.0.0.1", port, "/jobs").join();
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.bodyText()).isEqualTo("spiffe://example.org/worker [jobs:read]");
            }
            listener.close().sync();
        } finally {
            group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }
}
