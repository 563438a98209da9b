package io.settler.zerotrust.examples;

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
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.netty.RouteScopes;
import io.settler.zerotrust.netty.ServiceTokenAuthHandler;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API server: only the gateway may connect (TLS 1.3, its certificate, the policy), and
 * {@code POST /orders} needs its token with {@code orders:write} ({@code 401}/{@code 403} otherwise).
 * Run: {@code java QuickStartServer.java certs 8443}, with the library and an SLF4J provider on the
 * class path. Stop: Ctrl-C.
 */
public final class QuickStartServer {

    private static final Logger LOG = LoggerFactory.getLogger(QuickStartServer.class);

    /** Arguments: the directory of the files (default {@code certs}), the port (default 8443). */
    public static void main(String[] args) throws Exception {
        Path certs = Path.of(args.length > 0 ? args[0] : "certs");  // policy.json, ca.crt, api.crt/.key, jwks/
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 8443;
        Policy policy = Policy.fromJson(certs.resolve("policy.json"));   // api accepts the gateway only
        ServiceTokens api = ServiceTokens.builder().identity("spiffe://demo.settler.test/api") // the audience
                .verificationKeys(KeySet.fromJwks(Files.readString(certs.resolve("jwks/gateway.json")))
                        .pinnedTo("spiffe://demo.settler.test/gateway"))   // the gateway's published keys
                .trustIssuers("spiffe://demo.settler.test/gateway").build();
        ServiceTokenAuthHandler tokens = ServiceTokenAuthHandler.builder(api,
                RouteScopes.builder().route(HttpMethod.POST, "/orders", "orders:write").build()).build();
        Orders orders = new Orders();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> group.shutdownGracefully().syncUninterruptibly()));
        try (FileCredentialSource apiCerts = FileCredentialSource.builder(certs.resolve("api.crt"),
                certs.resolve("api.key"), certs.resolve("ca.crt")).start()) {  // re-read when they rotate
            NettyMtls tls = NettyMtls.builder(MtlsContext.server(apiCerts, policy.authorizerFor("api")).build())
                    .build();
            Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {     // TLS 1.3, client certificate, policy
                            tls.addTo(channel);   // + handshake, request-head and idle timeouts, a cap per caller
                            channel.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                    tokens, orders);
                        }
                    }).bind("127.0.0.1", port).sync().channel();
            System.out.println("listening on " + server.localAddress());
            server.closeFuture().sync();                                  // until Ctrl-C
        } finally {
            group.shutdownGracefully().sync();
        }
    }

    /** The application, at the end of the pipeline: what reaches it passed the handshake and the token. */
    @ChannelHandler.Sharable
    private static final class Orders extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            DefaultFullHttpResponse created = new DefaultFullHttpResponse(request.protocolVersion(),
                    HttpResponseStatus.CREATED);
            HttpUtil.setContentLength(created, 0);
            ctx.writeAndFlush(created).addListener(ChannelFutureListener.CLOSE);
        }

        /**
         * Refused handshakes end before this (the library audits them); anything else that fails a
         * connection is logged in one line and the connection closed, instead of Netty's warning.
         */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.warn("closing the connection from {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
