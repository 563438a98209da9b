package io.settler.zerotrust.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Raw Netty TLS connections to a test server, held open so a test can watch them. */
final class TestClient implements AutoCloseable {

    /** Kept from set-up: a refused channel closes and its pipeline empties before a test looks. */
    private static final AttributeKey<Future<Channel>> HANDSHAKE = AttributeKey.valueOf("test.handshake");

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    /** Connects with our client context (SslHandler + PeerIdentityHandler). */
    Channel connect(NettyMtls tls, int port) {
        return connect(channel -> tls.addTo(channel, "127.0.0.1", port), port);
    }

    /** Connects with a plain Netty context, without any of our handlers. */
    Channel connect(SslContext plain, int port) {
        return connect(
                channel -> channel.pipeline().addLast(plain.newHandler(channel.alloc(), "127.0.0.1", port)), port);
    }

    private Channel connect(Consumer<Channel> tls, int port) {
        return new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        tls.accept(channel);
                        channel.attr(HANDSHAKE).set(channel.pipeline().get(SslHandler.class).handshakeFuture());
                        // Reads whatever arrives so a refusal alert is seen and the channel closes.
                        channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
                                ctx.close();
                            }
                        });
                    }
                })
                .connect("127.0.0.1", port).syncUninterruptibly().channel();
    }

    /** Waits (bounded) for the handshake; returns whether it succeeded on this side. */
    static boolean handshake(Channel channel) {
        Future<Channel> handshake = channel.attr(HANDSHAKE).get();
        return handshake.awaitUninterruptibly(10, TimeUnit.SECONDS) && handshake.isSuccess();
    }

    /** Waits (bounded) for the channel to close; returns whether it did. */
    static boolean closes(Channel channel) {
        return channel.closeFuture().awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
