package io.settler.zerotrust.benchmarks.netty;

import io.netty.bootstrap.Bootstrap;
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
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.netty.ConnectionExpiryHandler;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.netty.RateLimitHandler;
import io.settler.zerotrust.netty.RouteScopes;
import io.settler.zerotrust.netty.ServiceTokenAuthHandler;
import io.settler.zerotrust.netty.SourceNetworkFilter;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenSource;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * HTTP/1.1 requests, one at a time, over one kept-alive mTLS 1.3 connection on 127.0.0.1 (the
 * handshake happens once, in set-up): what our handlers cost per request.
 *
 * <p>{@code baseline}: a plain Netty TLS server (client auth required, TLS 1.3, the CA as trust
 * anchor, no handlers of ours). {@code ourPipeline}: {@link SourceNetworkFilter},
 * {@link NettyMtls} (with {@code PeerIdentityHandler}), {@link ConnectionExpiryHandler}, a
 * {@link RateLimitHandler} whose limit is never reached and a {@link ServiceTokenAuthHandler}
 * (ES256 token, verified-token cache on: the usual reused token costs a lookup plus the scope,
 * binding and identity checks), audit to a no-op log. Both answer 200 with a two-byte body; the same
 * client context talks to both and sends the same {@code Authorization} header, from a
 * {@link TokenSource}, to both; {@code provider} is the TLS provider of servers and client. Higher
 * is better (requests per second).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class NettyRequestBenchmark {

    /** The TLS provider of both servers and the client. */
    @Param({"JDK", "OPENSSL"})
    public String provider;

    private EventLoopGroup serverGroup;
    private EventLoopGroup clientGroup;
    private Connection plain;
    private Connection ours;

    /** Starts both servers and connects a client to each. */
    @Setup
    public void setUp() throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
        IssuedCertificate server = ca.leaf("api").ipAddresses("127.0.0.1").issue();
        IssuedCertificate client = ca.leaf("worker").issue();
        SslProvider sslProvider = SslProvider.valueOf(provider);
        AuditLog noop = event -> { };
        serverGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        clientGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

        SslContext plainServer = SslContextBuilder.forServer(server.privateKey(), server.chain())
                .trustManager(ca.rootCertificate()).clientAuth(ClientAuth.REQUIRE)
                .protocols("TLSv1.3").sslProvider(sslProvider).build();
        int plainPort = listen(channel -> {
            channel.pipeline().addLast(plainServer.newHandler(channel.alloc()));
            channel.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536), new Ok());
        });

        NettyMtls tls = NettyMtls.builder(MtlsContext.server(
                        CredentialSource.fixed(TlsIdentity.of(server.privateKey(), server.chain()),
                                TrustBundle.of(List.of(ca.rootCertificate()))),
                        PeerAuthorizer.builder().allowIdentities("spiffe://example.org/worker").build())
                .auditLog(noop).build()).provider(NettyMtls.Provider.valueOf(provider)).auditLog(noop).build();
        SourceNetworkFilter network = SourceNetworkFilter.builder().allow("127.0.0.0/8").auditLog(noop).build();
        ConnectionExpiryHandler expiry = ConnectionExpiryHandler.builder(
                () -> PeerAuthorizer.builder().allowIdentities("spiffe://example.org/worker").build())
                .auditLog(noop).build();
        RateLimitHandler rateLimit = RateLimitHandler.builder().burst(Integer.MAX_VALUE).perSecond(1e9)
                .auditLog(noop).build();
        KeySet workerKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "worker-1")).build();
        ServiceTokens verifier = ServiceTokens.builder().identity("spiffe://example.org/api")
                .verificationKeys(KeySet.fromJwks(workerKeys.toJwks()).pinnedTo("spiffe://example.org/worker"))
                .trustIssuers("spiffe://example.org/worker").auditLog(noop).build();
        ServiceTokenAuthHandler tokens = ServiceTokenAuthHandler.builder(verifier,
                RouteScopes.builder().anyMethod("/", "jobs:read").build()).auditLog(noop).build();
        ChannelHandler ok = new Ok();
        int ourPort = listen(channel -> {
            channel.pipeline().addLast(network);
            tls.addTo(channel);
            channel.pipeline().addLast(expiry, new HttpServerCodec(), new HttpObjectAggregator(65536), rateLimit,
                    tokens, ok);
        });
        TokenSource workerTokens = TokenSource.builder(ServiceTokens.builder().identity("spiffe://example.org/worker")
                .keys(workerKeys).auditLog(noop).build()).build();

        SslContext clientContext = SslContextBuilder.forClient().keyManager(client.privateKey(), client.chain())
                .trustManager(ca.rootCertificate()).protocols("TLSv1.3").sslProvider(sslProvider)
                .endpointIdentificationAlgorithm(null).build();
        plain = new Connection(clientGroup, clientContext, plainPort, workerTokens);
        ours = new Connection(clientGroup, clientContext, ourPort, workerTokens);
        baseline();
        ourPipeline(); // both must answer before anything is measured
    }

    /** Stops clients and servers. */
    @TearDown
    public void tearDown() {
        plain.channel.close().syncUninterruptibly();
        ours.channel.close().syncUninterruptibly();
        clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** A request to the plain Netty TLS server. */
    @Benchmark
    public int baseline() throws Exception {
        return plain.get();
    }

    /** The same request through our pipeline. */
    @Benchmark
    public int ourPipeline() throws Exception {
        return ours.get();
    }

    private int listen(Consumer<Channel> pipeline) {
        Channel listener = new ServerBootstrap().group(serverGroup).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        pipeline.accept(channel);
                    }
                })
                .bind("127.0.0.1", 0).syncUninterruptibly().channel();
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Answers 200 "ok", keeping the connection. */
    @ChannelHandler.Sharable
    private static final class Ok extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(new byte[] {'o', 'k'}));
            HttpUtil.setContentLength(response, 2);
            ctx.writeAndFlush(response);
        }
    }

    /** One kept-alive client connection; one request in flight at a time. */
    private static final class Connection {
        private final Channel channel;
        private final TokenSource tokens;
        private volatile CompletableFuture<Integer> pending = new CompletableFuture<>(); // until the first get()

        Connection(EventLoopGroup group, SslContext context, int port, TokenSource tokens) {
            this.tokens = tokens;
            channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            channel.pipeline().addLast(context.newHandler(channel.alloc(), "127.0.0.1", port),
                                    new HttpClientCodec(), new HttpObjectAggregator(65536),
                                    new SimpleChannelInboundHandler<FullHttpResponse>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx,
                                                FullHttpResponse response) {
                                            pending.complete(response.status().code());
                                        }

                                        @Override
                                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                            pending.completeExceptionally(cause);
                                        }
                                    });
                        }
                    })
                    .connect("127.0.0.1", port).syncUninterruptibly().channel();
        }

        int get() throws Exception {
            CompletableFuture<Integer> response = new CompletableFuture<>();
            pending = response;
            FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
            request.headers().set(HttpHeaderNames.HOST, "127.0.0.1");
            request.headers().set(HttpHeaderNames.AUTHORIZATION,
                    "Bearer " + tokens.token("spiffe://example.org/api", "jobs:read"));
            HttpUtil.setContentLength(request, 0);
            channel.writeAndFlush(request);
            int status = response.get(10, TimeUnit.SECONDS);
            if (status != 200) {
                throw new IllegalStateException("status " + status);
            }
            return status;
        }
    }
}
