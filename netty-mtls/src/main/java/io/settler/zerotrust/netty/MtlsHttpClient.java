package io.settler.zerotrust.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.Future;
import io.settler.zerotrust.time.Durations;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.trust.VerifiedPeer;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;

/**
 * An HTTP/1.1 client that presents this service's certificate and verifies the server with a
 * client {@link NettyMtls} context, with a hook that adds headers to every request (a fresh
 * service token, a trace id).
 *
 * <pre>{@code
 * try (MtlsHttpClient http = MtlsHttpClient.builder(NettyMtls.builder(clientContext).build())
 *         .requestHeaders((request, headers) -> headers.set("X-Request-Id", UUID.randomUUID().toString()))
 *         .build()) {
 *     MtlsHttpClient.Response response = http.get("api.internal", 8443, "/jobs").join();
 * }
 * }</pre>
 *
 * <p>Hooks get the {@link Connection}: its TLS session and the server as verified on it, so
 * {@link BearerTokens} attaches a token only when the server proves the token's audience.
 *
 * <p>Each request gets its own connection (and handshake), so a credential rotation or a revoked
 * server reaches the next request; there is no pooling yet. Thread-safe; {@link #close()} stops its
 * event loop.
 */
public final class MtlsHttpClient implements AutoCloseable {

    /**
     * Adds headers to each request just before it is sent, after the handshake; runs on the
     * connection's event loop.
     */
    @FunctionalInterface
    public interface RequestHeaders {
        /**
         * Adds this request's headers.
         *
         * @param request the request about to be sent (method, URI)
         * @param headers its headers, to add to
         * @throws Exception fails this request, not the client
         */
        void addTo(HttpRequest request, HttpHeaders headers) throws Exception;

        /**
         * What the client calls: {@link #addTo(HttpRequest, HttpHeaders)} unless overridden by a
         * hook that needs the connection, e.g. to attach a token only when the verified server is
         * the token's audience, or to bind it to the certificate this connection presented.
         *
         * @param connection the established connection the request goes out on
         * @throws Exception fails this request (it is not sent), not the client
         */
        default void addTo(HttpRequest request, HttpHeaders headers, Connection connection) throws Exception {
            addTo(request, headers);
        }
    }

    /**
     * The connection a request goes out on, after its handshake.
     *
     * @param host the host the client connected to, as given to {@link #send}
     * @param port the port
     * @param session the connection's TLS session
     * @param server the server as verified on this connection by the client context (PKIX against
     *     its trust bundle, the expected name); {@link VerifiedPeer#identity()} is the SPIFFE ID of
     *     the server's certificate, read by core's {@code PeerCertificateVerifier}
     */
    public record Connection(String host, int port, SSLSession session, VerifiedPeer server) {
        /** Requires every component. */
        public Connection {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(session, "session");
            Objects.requireNonNull(server, "server");
        }
    }

    /**
     * A complete response.
     *
     * @param status the HTTP status code
     * @param headers the response headers
     * @param body the response body
     */
    @SuppressWarnings("ArrayRecordComponent") // the body is copied in and out; responses are not compared
    public record Response(int status, HttpHeaders headers, byte[] body) {
        /** Copies the body. */
        public Response {
            body = body.clone();
        }

        /** A copy of the body. */
        @Override
        public byte[] body() {
            return body.clone();
        }

        /** The body as UTF-8 text. */
        public String bodyText() {
            return new String(body, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private final NettyMtls tls;
    private final RequestHeaders requestHeaders;
    private final Duration timeout;
    private final int maxResponseBytes;
    private final EventLoopGroup group;

    private MtlsHttpClient(Builder builder) {
        this.tls = builder.tls;
        this.requestHeaders = builder.requestHeaders;
        this.timeout = builder.timeout;
        this.maxResponseBytes = builder.maxResponseBytes;
        this.group = new MultiThreadIoEventLoopGroup(builder.threads, NioIoHandler.newFactory());
    }

    /** Starts a builder; {@code tls} must be a client context. */
    public static Builder builder(NettyMtls tls) {
        return new Builder(tls);
    }

    /** A GET of {@code path} on {@code host:port}. */
    public CompletableFuture<Response> get(String host, int port, String path) {
        return send(host, port, new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path));
    }

    /**
     * Sends {@code request} on a new connection to {@code host:port}, which the server must prove
     * (unless the client context expects a fixed server identity). Sets {@code Host},
     * {@code Connection: close} and the hook's headers. Takes ownership of the request.
     *
     * @return the response; fails with the handshake's {@code SSLException} when either side
     *     refused, with the hook's exception when it refused to add its headers (e.g. a
     *     {@link TokenWithheldException}: then nothing is sent), or an {@code IOException} when the
     *     connection closed or timed out first
     */
    public CompletableFuture<Response> send(String host, int port, FullHttpRequest request) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(request, "request");
        CompletableFuture<Response> result = new CompletableFuture<>();
        Bootstrap bootstrap = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, Durations.toIntMillisRoundedUp(timeout))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        tls.addTo(channel, host, port);
                        channel.pipeline().get(SslHandler.class).setHandshakeTimeoutMillis(timeout.toMillis());
                        channel.pipeline().addLast(new ReadTimeoutHandler(timeout.toMillis(), TimeUnit.MILLISECONDS),
                                new HttpClientCodec(), new HttpObjectAggregator(maxResponseBytes),
                                new ResponseHandler(result));
                    }
                });
        ChannelFuture connect = bootstrap.connect(host, port);
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                request.release();
                result.completeExceptionally(f.cause());
                return;
            }
            SslHandler ssl = f.channel().pipeline().get(SslHandler.class);
            ssl.handshakeFuture().addListener((Future<Channel> handshake) -> {
                if (!handshake.isSuccess()) {
                    request.release();
                    result.completeExceptionally(handshake.cause());
                    f.channel().close();
                    return;
                }
                write(f.channel(), ssl.engine().getSession(), host, port, request, result);
            });
        });
        return result;
    }

    private void write(Channel channel, SSLSession session, String host, int port, FullHttpRequest request,
                       CompletableFuture<Response> result) {
        try {
            HttpHeaders headers = request.headers();
            headers.set(HttpHeaderNames.HOST, port == 443 ? host : host + ":" + port);
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            HttpUtil.setContentLength(request, request.content().readableBytes());
            // The server as verified on this connection (the handshake's checks, run again on its
            // chain), so that hooks such as BearerTokens can tell which service they talk to.
            VerifiedPeer server = tls.mtlsContext().verifyAgain(session);
            requestHeaders.addTo(request, headers, new Connection(host, port, session, server));
        } catch (Exception e) {
            request.release();
            result.completeExceptionally(e);
            channel.close();
            return;
        }
        channel.writeAndFlush(request).addListener((ChannelFuture w) -> {
            if (!w.isSuccess()) {
                result.completeExceptionally(w.cause());
                w.channel().close();
            }
        });
    }

    /** Stops the event loop; requests in flight fail. */
    @Override
    public void close() {
        group.shutdownGracefully(0, timeout.toMillis(), TimeUnit.MILLISECONDS).syncUninterruptibly();
    }

    private static final class ResponseHandler extends SimpleChannelInboundHandler<FullHttpResponse> {
        private final CompletableFuture<Response> result;

        ResponseHandler(CompletableFuture<Response> result) {
            this.result = result;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
            result.complete(new Response(response.status().code(), response.headers().copy(),
                    ByteBufUtil.getBytes(response.content())));
            ctx.close();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof SslHandshakeCompletionEvent completion && !completion.isSuccess()) {
                result.completeExceptionally(completion.cause());
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new IOException("the server closed the connection before responding"));
        }
    }

    /** Builds an {@link MtlsHttpClient}. */
    public static final class Builder {
        private final NettyMtls tls;
        private RequestHeaders requestHeaders = (request, headers) -> { };
        private Duration timeout = Duration.ofSeconds(10);
        private int maxResponseBytes = 1 << 20;
        private int threads = 1;

        private Builder(NettyMtls tls) {
            this.tls = Objects.requireNonNull(tls, "tls");
            if (tls.mtlsContext().role() != MtlsContext.Role.CLIENT) {
                throw new IllegalArgumentException(
                        "MtlsHttpClient needs a client context; build it from MtlsContext.client(...)");
            }
        }

        /** Adds headers to every request (default none). */
        public Builder requestHeaders(RequestHeaders requestHeaders) {
            this.requestHeaders = Objects.requireNonNull(requestHeaders, "requestHeaders");
            return this;
        }

        /**
         * How long to wait for a connection, its handshake, and then for each read (default 10
         * seconds); rounded up to whole milliseconds, so a small value never means "no limit".
         */
        public Builder timeout(Duration timeout) {
            this.timeout =
                    Duration.ofMillis(Durations.toMillisRoundedUp(Durations.requirePositive("timeout", timeout)));
            return this;
        }

        /** The largest response accepted, in bytes (default 1 MiB). */
        public Builder maxResponseBytes(int maxResponseBytes) {
            if (maxResponseBytes < 1) {
                throw new IllegalArgumentException("maxResponseBytes must be positive; got " + maxResponseBytes);
            }
            this.maxResponseBytes = maxResponseBytes;
            return this;
        }

        /** Event-loop threads (default 1). */
        public Builder threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be positive; got " + threads);
            }
            this.threads = threads;
            return this;
        }

        /** Builds the client and starts its event loop. */
        public MtlsHttpClient build() {
            return new MtlsHttpClient(this);
        }
    }
}
