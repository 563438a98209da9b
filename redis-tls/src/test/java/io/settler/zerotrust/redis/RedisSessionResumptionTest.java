package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.settler.zerotrust.credentials.CredentialSnapshot;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.testkit.LocalRedis;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsRedis;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reconnect verifies the Redis server again against the trust bundle current then: no TLS
 * session is resumed. Redis 7 sends TLS 1.3 session tickets after each handshake and a JDK client
 * keeps them in its context; a resumed handshake skips core's trust manager, so a server whose CA
 * was rotated out of our trust bundle would still be accepted. Each handshake is seen twice: by
 * the guard ({@code redis.tls.handshake}, every completed handshake) and by core's trust manager
 * ({@code peer.accepted} / {@code peer.refused}, a full handshake only).
 *
 * <p>Lettuce 7.7 builds a new JDK context per channel, so its reconnects cannot resume today (the
 * {@code hardenedRedis...} tests pass with or without the guard's refusal). The other tests run
 * the engines the way Lettuce's {@code SslChannelInitializer} builds them, from the same
 * {@code SslOptions}, but from one kept context, as a Lettuce that reused its context would: there
 * the baseline resumes, and the guard is what makes every handshake a full one.
 */
@TlsRedis
class RedisSessionResumptionTest {

    private static final String USER = "rt_resume";
    private static final String PASSWORD = "rt-resume-secret-41c7";

    @TempDir
    Path dir;

    private final RecordingAuditLog audit = RecordingAuditLog.logging();

    @BeforeAll
    static void createUser(LocalRedis redis) {
        redis.createUser(USER, PASSWORD, "~rt:* " + RedisTestSupport.RULES);
    }

    @Test
    void baselineWithoutTheGuardAReconnectResumesAndSkipsTheRotatedTrustBundle(LocalRedis redis) throws Exception {
        SwappableTrust credentials = new SwappableTrust(RedisTestSupport.credentials(redis,
                redis.clientCertificate(USER)));
        try (KeptContextClient client = new KeptContextClient(builder(redis, credentials), false)) {
            assertThat(client.ping(redis)).startsWith("-NOAUTH");
            assertThat(client.ping(redis)).startsWith("-NOAUTH");
            assertThat(audit.withAction("peer.accepted")).hasSize(1); // the second handshake was resumed

            credentials.trustOnly(DevCertificateAuthority.create("rotated-in.test"));
            assertThat(client.ping(redis)).startsWith("-NOAUTH"); // the rotated-out CA's server, still accepted
            assertThat(audit.withAction("peer.refused")).isEmpty();
        }
    }

    @Test
    void reconnectThroughAKeptContextIsAFullHandshake(LocalRedis redis) throws Exception {
        try (KeptContextClient client = new KeptContextClient(builder(redis, RedisTestSupport.credentials(redis,
                redis.clientCertificate(USER))), true)) {
            for (int i = 0; i < 3; i++) {
                assertThat(client.ping(redis)).startsWith("-NOAUTH");
            }
        }
        assertThat(audit.withAction("redis.tls.handshake")).hasSize(3);
        assertThat(audit.withAction("peer.accepted")).hasSize(3);
    }

    @Test
    void serverWhoseCaWasRotatedOutIsRefusedOnReconnectRatherThanResumed(LocalRedis redis) throws Exception {
        SwappableTrust credentials = new SwappableTrust(RedisTestSupport.credentials(redis,
                redis.clientCertificate(USER)));
        try (KeptContextClient client = new KeptContextClient(builder(redis, credentials), true)) {
            assertThat(client.ping(redis)).startsWith("-NOAUTH");

            credentials.trustOnly(DevCertificateAuthority.create("rotated-in.test"));
            assertThatThrownBy(() -> client.ping(redis)).hasMessage("no reply")
                    .cause().isInstanceOf(SSLHandshakeException.class);
        }
        assertThat(audit.withAction("peer.accepted")).hasSize(1);
        assertThat(audit.withAction("peer.refused")).singleElement()
                .satisfies(refused -> assertThat(refused.fields()).containsEntry("role", "server"));
    }

    @Test
    void hardenedRedisVerifiesTheServerAgainOnEveryConnectAndReconnect(LocalRedis redis) throws Exception {
        try (HardenedRedis client = builder(redis, RedisTestSupport.credentials(redis,
                redis.clientCertificate(USER))).build()) {
            client.connect().close();
            try (StatefulRedisConnection<String, String> connection = client.connect()) {
                redis.executeAsAdmin("CLIENT", "KILL", "USER", USER);
                RotationAndSecrecyTest.awaitReconnected(connection);
            }
        }
        assertThat(audit.withAction("redis.tls.handshake")).hasSize(3);
        assertThat(audit.withAction("peer.accepted")).hasSize(3);
    }

    @Test
    void hardenedRedisRefusesOnReconnectAServerWhoseCaWasRotatedOut(LocalRedis redis) throws Exception {
        SwappableTrust credentials = new SwappableTrust(RedisTestSupport.credentials(redis,
                redis.clientCertificate(USER)));
        try (HardenedRedis client = builder(redis, credentials).build()) {
            client.connect().close();

            credentials.trustOnly(DevCertificateAuthority.create("rotated-in.test"));
            assertThatThrownBy(client::connect).isInstanceOfSatisfying(RedisTlsException.class,
                    refused -> assertThat(refused.reason()).isEqualTo(RedisTlsException.Reason.HANDSHAKE_FAILED));
        }
        assertThat(audit.withAction("peer.accepted")).hasSize(1);
        assertThat(audit.withAction("peer.refused")).singleElement()
                .satisfies(refused -> assertThat(refused.fields()).containsEntry("role", "server"));
    }

    private HardenedRedis.Builder builder(LocalRedis redis, CredentialSource credentials) throws IOException {
        return RedisTestSupport.builder(redis, USER, RedisTestSupport.passwordFile(dir, PASSWORD), audit)
                .credentials(credentials);
    }

    /** Our client certificate throughout; the trust bundle can be swapped for another CA's. */
    private static final class SwappableTrust implements CredentialSource {
        private final AtomicReference<CredentialSnapshot> current;

        SwappableTrust(CredentialSource first) {
            this.current = new AtomicReference<>(first.current());
        }

        void trustOnly(DevCertificateAuthority ca) {
            CredentialSnapshot previous = current.get();
            current.set(new CredentialSnapshot(previous.generation() + 1, previous.identity(),
                    TrustBundle.of(List.of(ca.rootCertificate())), Instant.now()));
        }

        @Override
        public CredentialSnapshot current() {
            return current.get();
        }

        @Override
        public AutoCloseable onRotation(Consumer<CredentialSnapshot> listener) {
            return () -> { };
        }
    }

    /**
     * What Lettuce's {@code SslChannelInitializer} does for each channel (parameters from the
     * {@code SslOptions}, {@code HTTPS} for verify mode FULL, then the customizer), except that the
     * Netty context, and so the JDK's session cache, is kept across channels.
     */
    private final class KeptContextClient implements AutoCloseable {
        private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        private final SslOptions ssl;
        private final SslContext context;
        private final Optional<TlsHandshakeGuard> guard;

        KeptContextClient(HardenedRedis.Builder builder, boolean guarded) throws Exception {
            MtlsContext tls = builder.validated();
            this.ssl = builder.applyClientOptions(ClientOptions.builder(), tls).build().getSslOptions();
            this.context = ssl.createSslContextBuilder().build();
            this.guard = guarded
                    ? Optional.of(new TlsHandshakeGuard(builder.allowedProtocols(), tls, audit))
                    : Optional.empty();
        }

        /** Connects, sends PING (its reply comes after the server's session tickets) and disconnects. */
        String ping(LocalRedis redis) throws Exception {
            CompletableFuture<String> reply = new CompletableFuture<>();
            Channel channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            SSLParameters parameters = ssl.createSSLParameters();
                            parameters.setEndpointIdentificationAlgorithm("HTTPS");
                            SSLEngine engine = context.newEngine(channel.alloc(), redis.host(), redis.tlsPort());
                            engine.setSSLParameters(parameters);
                            channel.pipeline().addLast(new SslHandler(engine), new Replies(reply));
                            guard.ifPresent(g -> g.afterChannelInitialized(channel));
                        }
                    })
                    .connect(redis.host(), redis.tlsPort()).sync().channel();
            try {
                return reply.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw new IllegalStateException("no reply", e.getCause());
            } finally {
                channel.close().sync();
            }
        }

        @Override
        public void close() {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Sends PING once the handshake completes; completes {@code reply} with the first answer or the failure. */
    private static final class Replies extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<String> reply;

        Replies(CompletableFuture<String> reply) {
            this.reply = reply;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event instanceof SslHandshakeCompletionEvent completion) {
                if (completion.isSuccess()) {
                    ctx.writeAndFlush(Unpooled.copiedBuffer("PING\r\n", StandardCharsets.US_ASCII));
                } else {
                    reply.completeExceptionally(completion.cause());
                }
            }
            super.userEventTriggered(ctx, event);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            ByteBuf bytes = (ByteBuf) message;
            try {
                reply.complete(bytes.toString(StandardCharsets.US_ASCII));
            } finally {
                bytes.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            reply.completeExceptionally(cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            reply.completeExceptionally(new ClosedChannelException());
        }
    }
}
