package io.settler.zerotrust.netty;

import static io.settler.zerotrust.netty.TestPki.field;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.tls.MtlsContext;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ConnectionLimits} as {@link NettyMtls#addTo} applies them, on a real server pipeline over
 * loopback mTLS with both providers: the connections of an admitted caller cannot be held open by
 * trickling bytes, by idling, or by opening many of them; each close is audited. Timeouts are short
 * here so each test takes about a second.
 */
@ParameterizedClass
@EnumSource(value = NettyMtls.Provider.class, names = {"JDK", "OPENSSL"})
class ConnectionLimitsTest {

    static final String INTRUDER_ID = "spiffe://example.org/intruder";

    @Parameter
    NettyMtls.Provider provider;

    private final TestPki pki = new TestPki();
    private final TestClient clients = new TestClient();

    @AfterEach
    void stopClients() {
        clients.close();
    }

    private ConnectionLimits.Builder limits() {
        return ConnectionLimits.builder().handshakeTimeout(Duration.ofSeconds(5))
                .requestHeadTimeout(Duration.ofSeconds(5)).idleTimeout(Duration.ofSeconds(5)).auditLog(pki.audit);
    }

    /** The server pipeline of the README: our TLS (with the limits), then HTTP, then the application. */
    private TestServer server(ConnectionLimits limits) {
        return server(limits, c -> { });
    }

    private TestServer server(ConnectionLimits limits, Consumer<Channel> beforeApp) {
        PeerAuthorizer workerAndIntruder = PeerAuthorizer.builder().allowIdentities(TestPki.WORKER_ID, INTRUDER_ID)
                .build();
        NettyMtls tls = NettyMtls.builder(MtlsContext.server(TestPki.credentials(TestPki.API), workerAndIntruder)
                        .auditLog(pki.audit).build())
                .provider(provider).auditLog(pki.audit).connectionLimits(limits).build();
        return TestServer.start(tls, c -> { }, c -> { }, beforeApp);
    }

    /** A connection with our client context, completed handshake, whose received bytes are kept in {@code received}. */
    private Channel connect(TestServer server, StringBuffer received) {
        Channel channel = clients.connect(pki.client(provider, TestPki.WORKER), server.port());
        // After the SslHandler and PeerIdentityHandler: the plain text the server sends.
        channel.pipeline().addAfter(HandlerNames.PEER_IDENTITY, "test-reader", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof ByteBuf bytes) {
                    received.append(bytes.toString(StandardCharsets.US_ASCII));
                }
                ReferenceCountUtil.release(msg);
            }
        });
        assertThat(TestClient.handshake(channel)).isTrue();
        return channel;
    }

    private static void send(Channel channel, String text) {
        channel.writeAndFlush(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
    }

    @Test
    void closesSlowlorisTricklingRequestHeaderBytesAfterTheHeadTimeout() throws Exception {
        try (TestServer server = server(limits().requestHeadTimeout(Duration.ofMillis(500)).build())) {
            Channel channel = connect(server, new StringBuffer());
            long start = System.nanoTime();
            send(channel, "GET /jobs HTTP/1.1\r\n");
            // One header byte every 50 ms: the connection is never idle, but the head never completes.
            for (int i = 0; i < 60 && channel.isActive(); i++) {
                send(channel, "X");
                Thread.sleep(50);
            }
            assertThat(channel.closeFuture().await(1, TimeUnit.SECONDS)).as("closed while still trickling").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2500));
            AuditEvent closed = pki.awaitEvent("connection.closed", field("reason", "REQUEST_HEAD_TIMEOUT"));
            assertThat(closed.fields()).containsEntry("identity", TestPki.WORKER_ID)
                    .containsEntry("remote", "127.0.0.1");
        }
    }

    /**
     * A head the HTTP codec cannot decode (a header line beyond its 8 KiB) is no request in
     * progress: the trickle that follows is still timed, even by an application that never answers
     * such a request.
     */
    @Test
    void closesSlowlorisWhoseRequestHeadTheCodecRefusedAfterTheHeadTimeout() throws Exception {
        try (TestServer server = server(limits().requestHeadTimeout(Duration.ofMillis(500)).build(),
                c -> c.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof HttpObject http && http.decoderResult().isFailure()) {
                            ReferenceCountUtil.release(msg); // not answered
                            return;
                        }
                        ctx.fireChannelRead(msg);
                    }
                }))) {
            Channel channel = connect(server, new StringBuffer());
            long start = System.nanoTime();
            send(channel, "GET /jobs HTTP/1.1\r\nX-Long: " + "a".repeat(10_000) + "\r\n");
            for (int i = 0; i < 60 && channel.isActive(); i++) {
                send(channel, "X");
                Thread.sleep(50);
            }
            assertThat(channel.closeFuture().await(1, TimeUnit.SECONDS)).as("closed while still trickling").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2500));
            pki.awaitEvent("connection.closed", field("reason", "REQUEST_HEAD_TIMEOUT")
                    .and(field("identity", TestPki.WORKER_ID)));
        }
    }

    @Test
    void closesAnIdleAdmittedConnectionBetweenRequests() throws Exception {
        try (TestServer server = server(limits().idleTimeout(Duration.ofMillis(400)).build())) {
            StringBuffer received = new StringBuffer();
            Channel channel = connect(server, received);
            send(channel, "GET /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            awaitContains(received, TestPki.WORKER_ID);
            assertThat(received.toString()).startsWith("HTTP/1.1 200 OK");
            long answered = System.nanoTime();
            send(channel, "GET /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); // a second request, kept alive too
            assertThat(channel.closeFuture().await(3, TimeUnit.SECONDS)).as("closed once idle").isTrue();
            assertThat(received.toString().split("HTTP/1.1 200 OK", -1)).as("both requests answered").hasSize(3);
            assertThat(Duration.ofNanos(System.nanoTime() - answered)).isGreaterThanOrEqualTo(Duration.ofMillis(350));
            AuditEvent closed = pki.awaitEvent("connection.closed", field("reason", "IDLE_TIMEOUT"));
            assertThat(closed.fields()).containsEntry("identity", TestPki.WORKER_ID);
        }
    }

    /** Idleness counts only between requests: a request the application takes long to answer is not cut off. */
    @Test
    void keepsAConnectionWhoseRequestTheApplicationIsStillAnswering() throws Exception {
        try (TestServer server = server(limits().idleTimeout(Duration.ofMillis(200)).build(),
                c -> c.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ctx.executor().schedule(() -> ctx.fireChannelRead(msg), 1, TimeUnit.SECONDS); // slow work
                    }
                }))) {
            StringBuffer received = new StringBuffer();
            Channel channel = connect(server, received);
            send(channel, "GET /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            awaitContains(received, TestPki.WORKER_ID);
            assertThat(received.toString()).startsWith("HTTP/1.1 200 OK");
            assertThat(pki.audit.events()).noneMatch(e -> "IDLE_TIMEOUT".equals(e.fields().get("reason")));
            assertThat(channel.closeFuture().await(3, TimeUnit.SECONDS)).as("then closed once idle").isTrue();
            pki.awaitEvent("connection.closed", field("reason", "IDLE_TIMEOUT"));
        }
    }

    @Test
    void refusesTheConnectionBeyondTheIdentitysCapWhileAnotherIdentityConnects() throws Exception {
        try (TestServer server = server(limits().maxConnectionsPerIdentity(2).build());
             MtlsHttpClient intruder = MtlsHttpClient.builder(pki.client(provider, TestPki.INTRUDER)).build();
             MtlsHttpClient worker = MtlsHttpClient.builder(pki.client(provider, TestPki.WORKER)).build()) {
            Channel first = connect(server, new StringBuffer());
            Channel second = connect(server, new StringBuffer());
            awaitAdmitted(server, 2);

            Channel third = clients.connect(pki.client(provider, TestPki.WORKER), server.port());
            assertThat(TestClient.closes(third)).as("the third connection of the worker is closed").isTrue();
            AuditEvent refused = pki.awaitEvent("connection.refused", field("reason", "IDENTITY_CONNECTION_LIMIT"));
            assertThat(refused.fields()).containsEntry("identity", TestPki.WORKER_ID);
            assertThat(refused.fields().get("detail")).contains("maxConnectionsPerIdentity");
            assertThatThrownBy(() -> worker.get("127.0.0.1", server.port(), "/").join())
                    .isInstanceOf(CompletionException.class);

            assertThat(intruder.get("127.0.0.1", server.port(), "/").join().bodyText())
                    .as("another identity still connects").isEqualTo(INTRUDER_ID);
            assertThat(first.isActive() && second.isActive()).isTrue();

            first.close().sync();
            awaitAdmitted(server, 1);
            assertThat(worker.get("127.0.0.1", server.port(), "/").join().bodyText())
                    .as("a closed connection frees its place").isEqualTo(TestPki.WORKER_ID);
        }
    }

    @Test
    void refusesTheConnectionBeyondTheServersCapBeforeItsHandshake() throws Exception {
        try (TestServer server = server(limits().maxConnections(2).build())) {
            connect(server, new StringBuffer());
            connect(server, new StringBuffer());
            Channel third = clients.connect(pki.client(provider, TestPki.WORKER), server.port());
            assertThat(TestClient.handshake(third)).isFalse();
            AuditEvent refused = pki.awaitEvent("connection.refused", field("reason", "CONNECTION_LIMIT"));
            assertThat(refused.fields()).containsEntry("identity", "none").containsEntry("remote", "127.0.0.1");
            assertThat(pki.awaitEvent("tls.netty", field("role", "SERVER")).fields().get("connection_limits"))
                    .as("the limits in force are on record").contains("total=2");
        }
    }

    @Test
    void closesAConnectionWhoseHandshakeNeverCompletes() throws Exception {
        try (TestServer server = server(limits().handshakeTimeout(Duration.ofMillis(300)).build());
             Socket silent = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            silent.setSoTimeout(5_000);
            long start = System.nanoTime();
            assertThat(silent.getInputStream().read()).as("closed by the server").isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
            pki.awaitEvent("connection.closed", field("reason", "HANDSHAKE_TIMEOUT").and(field("identity", "none")));
        }
    }

    /** Issue 16 item 6: half a millisecond is one millisecond, not zero, which Netty's idle timer reads as "never". */
    @Test
    void aSubMillisecondIdleTimeoutIsRoundedUpNotTurnedIntoNoLimit() throws Exception {
        ConnectionLimits limits = limits().idleTimeout(Duration.ofNanos(500_000)).build();
        assertThat(limits.idleTimeout()).isEqualTo(Duration.ofMillis(1));
        try (TestServer server = server(limits)) {
            Channel channel = clients.connect(pki.client(provider, TestPki.WORKER), server.port());
            assertThat(channel.closeFuture().await(3, TimeUnit.SECONDS)).isTrue();
            pki.awaitEvent("connection.closed", field("reason", "IDLE_TIMEOUT"));
        }
        assertThatThrownBy(() -> ConnectionLimits.builder().requestHeadTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("requestHeadTimeout");
        assertThatThrownBy(() -> ConnectionLimits.builder().maxConnectionsPerIdentity(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxConnectionsPerIdentity");
    }

    /** Issue 16 item 6, client side: a sub-millisecond timeout is one millisecond, not "wait forever". */
    @Test
    void aSubMillisecondClientTimeoutIsRoundedUpNotTurnedIntoNoLimit() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             MtlsHttpClient http = MtlsHttpClient.builder(pki.client(provider, TestPki.WORKER))
                     .timeout(Duration.ofNanos(100)).build()) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> http.get("127.0.0.1", silent.getLocalPort(), "/").get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(Exception.class)
                    .isNotInstanceOf(java.util.concurrent.TimeoutException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
    }

    private static void awaitContains(StringBuffer received, String text) throws InterruptedException {
        for (int i = 0; i < 500 && !received.toString().contains(text); i++) {
            Thread.sleep(10);
        }
        assertThat(received.toString()).contains(text);
    }

    /** Waits until exactly {@code count} server connections were admitted (their request tracker is in place). */
    private static void awaitAdmitted(TestServer server, int count) throws InterruptedException {
        for (int i = 0; i < 500 && admitted(server) != count; i++) {
            Thread.sleep(10);
        }
        assertThat(admitted(server)).isEqualTo(count);
    }

    private static long admitted(TestServer server) {
        return server.connections.stream()
                .filter(c -> c.isActive() && c.pipeline().get(HandlerNames.REQUEST_TRACKER) != null).count();
    }
}
