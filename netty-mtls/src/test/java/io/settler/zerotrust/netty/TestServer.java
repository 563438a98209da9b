package io.settler.zerotrust.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A real Netty HTTPS server on 127.0.0.1 and a free port: {@code beforeTls} handlers, our TLS and
 * peer identity, {@code afterTls} handlers, HTTP, {@code beforeApp} handlers, then an application
 * that answers 200 with the peer's identity.
 */
final class TestServer implements AutoCloseable {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel listener;
    final Set<Channel> connections = ConcurrentHashMap.newKeySet();

    private TestServer(NettyMtls tls, Consumer<Channel> beforeTls, Consumer<Channel> afterTls,
                       Consumer<Channel> beforeApp) {
        listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        connections.add(channel);
                        beforeTls.accept(channel);
                        tls.addTo(channel);
                        afterTls.accept(channel);
                        channel.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536));
                        beforeApp.accept(channel);
                        channel.pipeline().addLast(new WhoAmI());
                    }
                })
                .bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    static TestServer start(NettyMtls tls) {
        return new TestServer(tls, c -> { }, c -> { }, c -> { });
    }

    static TestServer start(NettyMtls tls, Consumer<Channel> beforeTls, Consumer<Channel> afterTls,
                            Consumer<Channel> beforeApp) {
        return new TestServer(tls, beforeTls, afterTls, beforeApp);
    }

    int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Answers every request with the verified identity of the peer. */
    private static final class WhoAmI extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String who = PeerIdentityHandler.peerIdentity(ctx.channel()).map(Object::toString).orElse("anonymous");
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer(who, StandardCharsets.UTF_8));
            HttpUtil.setContentLength(response, response.content().readableBytes());
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            HttpUtil.setKeepAlive(response, keepAlive);
            var written = ctx.writeAndFlush(response);
            if (!keepAlive) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
