package io.settler.zerotrust.netty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.KeyManagerFactoryWrapper;
import io.netty.internal.tcnative.SSL;
import io.netty.util.AttributeKey;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import org.jspecify.annotations.Nullable;

/**
 * A Netty {@link SslContext} built from a core {@link MtlsContext}, with the same security
 * behaviour on the JDK and the OpenSSL (BoringSSL, {@code netty-tcnative-boringssl-static})
 * provider.
 *
 * <pre>{@code
 * NettyMtls tls = NettyMtls.builder(MtlsContext.server(credentials, authorizer).build()).build();
 * // in a ChannelInitializer:
 * tls.addTo(channel);   // SslHandler (engine knows the peer address) + PeerIdentityHandler + ConnectionLimits
 * }</pre>
 *
 * <p>Takes from the {@code MtlsContext}: its key manager (each credential rotation under a new
 * alias, so new connections present the new certificate without a restart, also where OpenSSL
 * caches key material per alias), its trust manager (PKIX, identity, authorizer and audit events),
 * its protocols (TLS 1.3 unless it allows TLS 1.2) and explicit cipher suites. Servers require a
 * client certificate. Netty 4.2's default HTTPS host name check on clients is turned off because
 * our trust manager matches the expected name itself, URI SANs (SPIFFE IDs) included.
 *
 * <p>No TLS session is resumed, with either provider, on servers or clients: a resumed handshake
 * would skip our trust manager, so verification against the current trust bundle, authorization
 * and audit. Every engine {@link #sslContext()} makes is prepared for that: OpenSSL engines issue
 * no session tickets ({@code SSL_OP_NO_TICKET}, which Netty clears for TLS 1.3 by default) and the
 * context keeps no session cache; JDK engines refuse to resume as the core {@code MtlsContext}'s
 * own engines do ({@link MtlsContext#refuseResumption(SSLEngine)}). Immutable and thread-safe.
 */
public final class NettyMtls {

    /** Which TLS implementation Netty uses. */
    public enum Provider {
        /** The JDK's {@code SSLEngine}. */
        JDK,
        /** BoringSSL through {@code netty-tcnative-boringssl-static}; refused when it cannot load. */
        OPENSSL,
        /**
         * OpenSSL when it loads on this machine, otherwise the JDK; the {@code tls.netty} audit event
         * then says so ({@code provider_fallback=openssl_unavailable} and the cause's class).
         */
        AUTO
    }

    /**
     * OpenSSL key material cached per alias. Our key manager answers for its last 16 aliases, so with
     * room for twice that many, aliases it no longer knows are evicted before the cache is full.
     */
    private static final int CACHED_KEY_MATERIAL = 32;

    /**
     * The core context a channel's TLS was added from by {@link #addTo}: what
     * {@link ConnectionExpiryHandler} verifies the peer again with after a rotation.
     */
    static final AttributeKey<MtlsContext> CONTEXT = AttributeKey.valueOf(NettyMtls.class, "mtlsContext");

    private final MtlsContext mtls;
    private final Provider provider;
    private final SslContext sslContext;
    private final ConnectionLimits limits;

    private NettyMtls(Builder builder) {
        this.mtls = builder.mtls;
        this.provider = resolve(builder.provider);
        this.sslContext = build(mtls, provider);
        this.limits = builder.limits != null ? builder.limits
                : ConnectionLimits.builder().auditLog(builder.audit).clock(builder.clock).build();
        AuditEvent.Builder event = AuditEvent.builder(builder.clock.instant(), "tls.netty", AuditEvent.Outcome.INFO)
                .field("role", mtls.role())
                .field("provider", provider)
                .field("provider_requested", builder.provider);
        if (builder.provider == Provider.AUTO && provider == Provider.JDK) {
            // Said once, where the context is made: why a deployment that meant OpenSSL runs the JDK's TLS.
            Throwable cause = OpenSsl.unavailabilityCause();
            event.field("provider_fallback", "openssl_unavailable")
                    .field("openssl_unavailable_cause", cause == null ? "unknown" : cause.getClass().getName());
        }
        event.field("protocols", String.join(",", mtls.sslParameters().getProtocols()));
        if (mtls.role() == MtlsContext.Role.SERVER) {
            event.field("connection_limits", limits);
        }
        builder.audit.record(event.build());
    }

    /**
     * Starts a builder for Netty contexts of {@code mtls}: a server context when it is a server
     * context, a client one otherwise.
     */
    public static Builder builder(MtlsContext mtls) {
        return new Builder(mtls);
    }

    /** Whether the OpenSSL provider loads on this machine (tcnative on the class path, native library loads). */
    public static boolean openSslAvailable() {
        return OpenSsl.isAvailable();
    }

    /** The provider in use: {@link Provider#JDK} or {@link Provider#OPENSSL}, never {@code AUTO}. */
    public Provider provider() {
        return provider;
    }

    /** The core context this was built from. */
    public MtlsContext mtlsContext() {
        return mtls;
    }

    /** The timeouts and connection caps {@link #addTo(Channel)} applies to server connections. */
    public ConnectionLimits connectionLimits() {
        return limits;
    }

    /**
     * The Netty context, for pipelines built by hand; prefer {@link #addTo(Channel)}, which also
     * applies the {@link ConnectionLimits} (a hand-built pipeline has none).
     */
    public SslContext sslContext() {
        return sslContext;
    }

    /**
     * Servers: adds to the end of the channel's pipeline an {@link SslHandler} whose engine knows
     * the peer's address (so authorizer rules on source networks apply) and whose handshake must
     * complete within {@link ConnectionLimits#handshakeTimeout()}, a {@link PeerIdentityHandler}
     * that publishes the verified peer and audits refusals the TLS stack made before our checks,
     * and the {@link ConnectionLimits}: a handler that caps connections per server and per peer
     * identity, and once the handshake completed adds Netty's {@code IdleStateHandler} and times
     * request heads behind the HTTP codec (see {@link ConnectionLimits}).
     */
    public void addTo(Channel channel) {
        requireRole(MtlsContext.Role.SERVER, "addTo(channel)", "addTo(channel, host, port)");
        SocketAddress remote = channel.remoteAddress();
        SslHandler ssl = remote instanceof InetSocketAddress peer
                ? sslContext.newHandler(channel.alloc(), peer.getAddress().getHostAddress(), peer.getPort())
                : sslContext.newHandler(channel.alloc());
        ssl.setHandshakeTimeoutMillis(limits.handshakeTimeout().toMillis());
        add(channel.pipeline(), ssl);
        channel.pipeline().addLast(HandlerNames.CONNECTION_LIMITS, new ConnectionGuard(limits));
    }

    /**
     * Clients: adds an {@link SslHandler} for a connection to {@code host} (the name the server
     * must prove unless the context expects a fixed server identity; also sent as SNI when it is a
     * host name) and a {@link PeerIdentityHandler} for the server's identity.
     */
    public void addTo(Channel channel, String host, int port) {
        requireRole(MtlsContext.Role.CLIENT, "addTo(channel, host, port)", "addTo(channel)");
        add(channel.pipeline(), sslContext.newHandler(channel.alloc(), host, port));
    }

    private void add(ChannelPipeline pipeline, SslHandler ssl) {
        pipeline.channel().attr(CONTEXT).set(mtls);
        pipeline.addLast(HandlerNames.TLS, ssl);
        pipeline.addLast(HandlerNames.PEER_IDENTITY, new PeerIdentityHandler(mtls));
    }

    private void requireRole(MtlsContext.Role role, String method, String other) {
        if (mtls.role() != role) {
            throw new IllegalStateException(method + " is for " + role.name().toLowerCase(Locale.ROOT)
                    + " contexts; this is a " + mtls.role().name().toLowerCase(Locale.ROOT)
                    + " context, use " + other);
        }
    }

    @Override
    public String toString() {
        return "NettyMtls[" + mtls.role() + ", " + provider + "]";
    }

    private static Provider resolve(Provider requested) {
        return switch (requested) {
            case JDK -> Provider.JDK;
            case AUTO -> openSslAvailable() ? Provider.OPENSSL : Provider.JDK;
            case OPENSSL -> {
                if (!openSslAvailable()) {
                    throw new NettyMtlsException(NettyMtlsException.Reason.OPENSSL_UNAVAILABLE,
                            "the OpenSSL provider does not load here (" + OpenSsl.unavailabilityCause()
                                    + "); add io.netty:netty-tcnative-boringssl-static for this platform,"
                                    + " or ask for Provider.JDK or AUTO");
                }
                yield Provider.OPENSSL;
            }
        };
    }

    private static SslContext build(MtlsContext mtls, Provider provider) {
        SSLParameters parameters = mtls.sslParameters();
        boolean server = mtls.role() == MtlsContext.Role.SERVER;
        SslContextBuilder builder;
        if (provider == Provider.OPENSSL) {
            // Cache OpenSSL's native key material per alias: safe because every rotation gets a new alias.
            OpenSslCachingX509KeyManagerFactory keys = new OpenSslCachingX509KeyManagerFactory(
                    new KeyManagerFactoryWrapper(mtls.keyManager()), CACHED_KEY_MATERIAL);
            builder = server ? SslContextBuilder.forServer(keys) : SslContextBuilder.forClient().keyManager(keys);
            builder.sslProvider(SslProvider.OPENSSL);
        } else {
            builder = server ? SslContextBuilder.forServer(mtls.keyManager())
                    : SslContextBuilder.forClient().keyManager(mtls.keyManager());
            builder.sslProvider(SslProvider.JDK);
        }
        builder.trustManager(mtls.trustManager())
                .protocols(parameters.getProtocols())
                .ciphers(List.of(parameters.getCipherSuites()))
                // Our trust manager matches the expected name (URI, DNS and IP SANs); Netty 4.2's
                // default HTTPS check would refuse SPIFFE-only certificates and check twice.
                .endpointIdentificationAlgorithm(null);
        if (server) {
            builder.clientAuth(ClientAuth.REQUIRE);
        }
        try {
            SslContext built = builder.build();
            if (built.sessionContext() instanceof OpenSslSessionContext sessions) {
                sessions.setSessionCacheEnabled(false);
            }
            return new NoResumption(built, mtls);
        } catch (SSLException e) {
            throw new NettyMtlsException(NettyMtlsException.Reason.CONTEXT_FAILED,
                    "Netty could not build a " + provider + " context from " + mtls + ": " + e.getMessage(), e);
        }
    }

    /**
     * Prepares every engine of the Netty context, however it is made ({@code newHandler},
     * {@code newEngine}), so that no session is ever resumed: OpenSSL engines send no session
     * tickets, JDK engines get the core context's refusal.
     */
    private static final class NoResumption extends DelegatingSslContext {
        private final MtlsContext mtls;

        NoResumption(SslContext context, MtlsContext mtls) {
            super(context);
            this.mtls = mtls;
        }

        @Override
        protected void initEngine(SSLEngine engine) {
            if (engine instanceof ReferenceCountedOpenSslEngine openSsl) {
                SSL.setOptions(openSsl.sslPointer(), SSL.SSL_OP_NO_TICKET);
            } else {
                mtls.refuseResumption(engine);
            }
        }
    }

    /** Builds a {@link NettyMtls}. */
    public static final class Builder {
        private final MtlsContext mtls;
        private Provider provider = Provider.AUTO;
        private AuditLog audit = AuditLog.slf4j();
        private Clock clock = Clock.systemUTC();
        private @Nullable ConnectionLimits limits;

        private Builder(MtlsContext mtls) {
            this.mtls = Objects.requireNonNull(mtls, "mtls");
        }

        /** Which TLS implementation to use (default {@link Provider#AUTO}). */
        public Builder provider(Provider provider) {
            this.provider = Objects.requireNonNull(provider, "provider");
            return this;
        }

        /**
         * The timeouts and connection caps of server connections (default
         * {@code ConnectionLimits.builder().build()}, recording to this builder's audit log).
         */
        public Builder connectionLimits(ConnectionLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        /**
         * Where the event naming the provider in use goes, and the default connection limits'
         * events (default {@link AuditLog#slf4j()}).
         */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The clock that stamps that event. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Builds the Netty context.
         *
         * @throws NettyMtlsException {@code OPENSSL_UNAVAILABLE} when OpenSSL was asked for and does
         *     not load, {@code CONTEXT_FAILED} when Netty refuses the settings
         */
        public NettyMtls build() {
            return new NettyMtls(this);
        }
    }
}
