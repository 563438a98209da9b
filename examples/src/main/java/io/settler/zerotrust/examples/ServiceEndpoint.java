package io.settler.zerotrust.examples;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.netty.ConnectionExpiryHandler;
import io.settler.zerotrust.netty.ConnectionLimits;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.netty.RateLimitHandler;
import io.settler.zerotrust.netty.RouteScopes;
import io.settler.zerotrust.netty.ServiceTokenAuthHandler;
import io.settler.zerotrust.netty.SourceNetworkFilter;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.ServiceTokens;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * How an example service listens. Every request passes, in this order:
 * <ol>
 *   <li>a source-network allow-list: loopback only, refused before any TLS byte;</li>
 *   <li>mutual TLS 1.3 admitting only the identities the policy lets call the service, with the
 *       {@link ConnectionLimits} defaults: a handshake within 10 s, each request head within 10 s
 *       of its first byte, no connection idle for 30 s between requests, at most 64 connections
 *       per caller identity and 10,000 in all (each close audited);</li>
 *   <li>a check that closes connections whose certificate expired;</li>
 *   <li>a rate limit per caller;</li>
 *   <li>a service token for this service (the audience), signed with the keys its one caller
 *       published, its {@code sub} the connection's identity, with the scope its route needs
 *       (and bound to the connection's certificate, if required).</li>
 * </ol>
 * The application handler sees only requests that passed all of it, with
 * {@link ServiceTokenAuthHandler#VERIFIED_TOKEN} set.
 *
 * <pre>{@code
 * ServiceEndpoint endpoint = ServiceEndpoint.builder(deployment, "webhook", "worker", credentials)
 *         .routes(RouteScopes.builder().route(HttpMethod.POST, "/send", "webhook:send").build())
 *         .requireCertificateBinding()
 *         .application(new Deliver())        // @Sharable
 *         .start();                          // 127.0.0.1, port webhook.port (0 or missing: free)
 * }</pre>
 */
public final class ServiceEndpoint implements AutoCloseable {

    private static final String HOST = "127.0.0.1";

    private final String service;
    private final EventLoopGroup group;
    private final Channel listener;

    private ServiceEndpoint(Builder builder, RouteScopes routes, ChannelHandler application) {
        Deployment deployment = builder.deployment;
        AuditLog audit = deployment.auditLog();
        this.service = builder.service;
        PeerAuthorizer callers = deployment.policy().authorizerFor(service);
        NettyMtls tls = NettyMtls.builder(MtlsContext.server(builder.credentials, callers).auditLog(audit).build())
                .connectionLimits(ConnectionLimits.builder().auditLog(audit).build())   // timeouts, caps: defaults
                .auditLog(audit).build();
        SourceNetworkFilter network = SourceNetworkFilter.builder().allow("127.0.0.0/8").allow("::1/128")
                .auditLog(audit).build();
        // The policy is read once: a new policy needs a restart.
        ConnectionExpiryHandler expiry = ConnectionExpiryHandler.builder(() -> callers).auditLog(audit).build();
        RateLimitHandler rateLimit = RateLimitHandler.builder().auditLog(audit).build();
        ServiceTokens.Builder verifier = ServiceTokens.builder()
                .identity(deployment.identity(service))                // the one audience it accepts
                .verificationKeys(deployment.publishedKeysOf(builder.caller))
                .trustIssuers(deployment.identity(builder.caller))
                .auditLog(audit);
        if (builder.requireCertificateBinding) {
            verifier.requireCertificateBinding();
        }
        ServiceTokenAuthHandler tokens = ServiceTokenAuthHandler.builder(verifier.build(), routes)
                .auditLog(audit).build();
        int maxRequestBytes = builder.maxRequestBytes;

        int port = deployment.listenPort(service);
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(service + "-netty"),
                NioIoHandler.newFactory());
        ChannelFuture bound = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        channel.pipeline().addLast(network);       // before the handshake
                        tls.addTo(channel);                        // TLS 1.3, the caller's identity, limits
                        channel.pipeline().addLast(expiry, new HttpServerCodec(),
                                new HttpObjectAggregator(maxRequestBytes), rateLimit, tokens, application);
                    }
                })
                .bind(HOST, port).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot listen on " + HOST + ":" + port + " (" + bound.cause()
                    + "); free the port or set " + service + ".port=0 for a free one", bound.cause());
        }
        this.listener = bound.channel();
    }

    /**
     * Starts configuring the endpoint of {@code service}, which accepts tokens from {@code caller}.
     *
     * @param credentials the service's certificate and trust (e.g. {@link Deployment#credentials}); the
     *     caller closes it
     */
    public static Builder builder(Deployment deployment, String service, String caller, CredentialSource credentials) {
        return new Builder(deployment, service, caller, credentials);
    }

    /** The port it listens on, on 127.0.0.1. */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** Resolves when the listener closes. */
    public ChannelFuture closeFuture() {
        return listener.closeFuture();
    }

    /** Stops listening and the event loop; idempotent. */
    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Override
    public String toString() {
        return "ServiceEndpoint[" + service + " on https://" + HOST + ":" + port() + "]";
    }

    /** Configures a {@link ServiceEndpoint}. Not thread-safe. */
    public static final class Builder {
        private final Deployment deployment;
        private final String service;
        private final String caller;
        private final CredentialSource credentials;
        private @Nullable RouteScopes routes;
        private @Nullable ChannelHandler application;
        private boolean requireCertificateBinding;
        private int maxRequestBytes = 64 * 1024;

        private Builder(Deployment deployment, String service, String caller, CredentialSource credentials) {
            this.deployment = Objects.requireNonNull(deployment, "deployment");
            this.service = Objects.requireNonNull(service, "service");
            this.caller = Objects.requireNonNull(caller, "caller");
            this.credentials = Objects.requireNonNull(credentials, "credentials");
        }

        /** Which scope each route needs; a request no route covers is a 403. Required. */
        public Builder routes(RouteScopes routes) {
            this.routes = Objects.requireNonNull(routes, "routes");
            return this;
        }

        /**
         * The handler of requests that passed every check: a {@code @Sharable} handler of
         * {@code FullHttpRequest}s. Required.
         */
        public Builder application(ChannelHandler application) {
            this.application = Objects.requireNonNull(application, "application");
            return this;
        }

        /** Accepts only tokens bound to the certificate of the connection they arrive on. */
        public Builder requireCertificateBinding() {
            this.requireCertificateBinding = true;
            return this;
        }

        /** The largest request body (default 64 KiB); larger requests get a 413. */
        public Builder maxRequestBytes(int maxRequestBytes) {
            if (maxRequestBytes < 1) {
                throw new IllegalArgumentException("maxRequestBytes must be positive; got " + maxRequestBytes);
            }
            this.maxRequestBytes = maxRequestBytes;
            return this;
        }

        /**
         * Listens on 127.0.0.1 at {@code <service>.port} of the deployment (0 or missing: a free port).
         *
         * @throws IllegalStateException if the port is taken, naming it
         */
        public ServiceEndpoint start() {
            if (routes == null || application == null) {
                throw new IllegalStateException("routes(...) and application(...) are required");
            }
            return new ServiceEndpoint(this, routes, application);
        }
    }
}
