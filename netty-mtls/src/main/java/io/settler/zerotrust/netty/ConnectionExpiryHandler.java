package io.settler.zerotrust.netty;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.authz.AuthorizationDecision;
import io.settler.zerotrust.authz.Peer;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CertificateFingerprint;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.time.Durations;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.trust.PeerVerificationException;
import java.net.InetAddress;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Closes a connection when its peer's certificate expires, when the peer no longer verifies
 * against the current trust bundle (a rotation removed its CA), or when the current authorizer no
 * longer admits the peer (its identity was revoked in the policy), instead of keeping it alive for
 * hours: a rotation or a policy change otherwise only reaches new handshakes. Checks on the
 * channel's event loop every {@link Builder#checkEvery(Duration)} after the handshake; each close
 * is audited ({@code connection.closed}, reason {@code CERTIFICATE_EXPIRED}, {@code NO_LONGER_TRUSTED}
 * with a detail that starts with the verifier's reason, or {@code REVOKED}; failing closed with
 * {@code VERIFIER_FAILED} or {@code AUTHORIZER_FAILED} when a check cannot be made). The peer is
 * verified again with the {@code MtlsContext} the channel's TLS was added from by
 * {@link NettyMtls#addTo}, at that context's clock; a channel whose TLS was set up otherwise
 * cannot be verified again and is closed ({@code VERIFIER_FAILED}). Placed after the
 * {@link PeerIdentityHandler}. {@link ChannelHandler.Sharable}.
 *
 * <pre>{@code
 * AtomicReference<Policy> policy = ...;   // swapped when the policy file changes
 * ConnectionExpiryHandler expiry = ConnectionExpiryHandler.builder(() -> policy.get().authorizerFor("api")).build();
 * }</pre>
 */
@ChannelHandler.Sharable
public final class ConnectionExpiryHandler extends ChannelInboundHandlerAdapter {

    private static final AttributeKey<ScheduledFuture<?>> CHECK =
            AttributeKey.valueOf(ConnectionExpiryHandler.class, "check");

    private final Supplier<PeerAuthorizer> authorizer;
    private final Duration interval;
    private final Clock clock;
    private final AuditLog audit;

    private ConnectionExpiryHandler(Builder builder) {
        this.authorizer = builder.authorizer;
        this.interval = builder.interval;
        this.clock = builder.clock;
        this.audit = builder.audit;
    }

    /**
     * Starts a handler that reads the authorizer in force at every check.
     *
     * @param authorizer the authorizer in force now (read at every check), e.g. from the current policy
     * @return a builder
     */
    public static Builder builder(Supplier<PeerAuthorizer> authorizer) {
        return new Builder(authorizer);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof SslHandshakeCompletionEvent completion && completion.isSuccess()) {
            long millis = interval.toMillis();
            ctx.channel().attr(CHECK).set(ctx.executor().scheduleAtFixedRate(
                    () -> check(ctx), millis, millis, TimeUnit.MILLISECONDS));
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        ScheduledFuture<?> check = ctx.channel().attr(CHECK).getAndSet(null);
        if (check != null) {
            check.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    private void check(ChannelHandlerContext ctx) {
        X509Certificate certificate = ctx.channel().attr(PeerIdentityHandler.PEER_CERTIFICATE).get();
        if (certificate == null || !ctx.channel().isActive()) {
            return;
        }
        Optional<ServiceIdentity> identity =
                Optional.ofNullable(ctx.channel().attr(PeerIdentityHandler.PEER_IDENTITY).get());
        Optional<InetAddress> remote = PeerIdentityHandler.remoteAddress(ctx);
        Instant now = clock.instant();
        Instant notAfter = certificate.getNotAfter().toInstant();
        if (!now.isBefore(notAfter)) {
            close(ctx, certificate, identity, remote, "CERTIFICATE_EXPIRED",
                    "the peer's certificate expired at " + notAfter);
            return;
        }
        Optional<String> untrusted;
        try {
            untrusted = stillTrusted(ctx);
        } catch (RuntimeException e) {
            // Fail closed: a connection we cannot verify again is not kept.
            close(ctx, certificate, identity, remote, "VERIFIER_FAILED", "verifying the peer again failed: " + e);
            return;
        }
        if (untrusted.isPresent()) {
            close(ctx, certificate, identity, remote, "NO_LONGER_TRUSTED", untrusted.get());
            return;
        }
        AuthorizationDecision decision;
        try {
            decision = authorizer.get().authorize(new Peer(identity, remote));
        } catch (RuntimeException e) {
            // Fail closed: a connection we cannot re-authorize is not kept.
            close(ctx, certificate, identity, remote, "AUTHORIZER_FAILED", "the current authorizer failed: " + e);
            return;
        }
        if (!decision.allowed()) {
            close(ctx, certificate, identity, remote, "REVOKED", decision.reason());
        }
    }

    /**
     * Verifies the peer's chain, as its handshake presented it, against the trust bundle current
     * now; empty when it still passes, else why not.
     *
     * @throws IllegalStateException when the channel has no context or TLS handler to verify with
     */
    private static Optional<String> stillTrusted(ChannelHandlerContext ctx) {
        MtlsContext mtls = ctx.channel().attr(NettyMtls.CONTEXT).get();
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (mtls == null || ssl == null) {
            throw new IllegalStateException("this channel's TLS was not added by NettyMtls.addTo, so its peer cannot"
                    + " be verified against the current trust bundle; build the pipeline with NettyMtls.addTo");
        }
        try {
            mtls.verifyAgain(ssl.engine().getSession());
            return Optional.empty();
        } catch (PeerVerificationException e) {
            return Optional.of(e.reason() + ": " + e.getMessage());
        }
    }

    private void close(ChannelHandlerContext ctx, X509Certificate certificate, Optional<ServiceIdentity> identity,
                       Optional<InetAddress> remote, String reason, String detail) {
        audit.record(AuditEvent.builder(clock.instant(), "connection.closed", AuditEvent.Outcome.REFUSED)
                .field("identity", identity.map(Object::toString).orElse("none"))
                .field("fingerprint", CertificateFingerprint.sha256(certificate))
                .field("remote", remote.map(InetAddress::getHostAddress).orElse("unknown"))
                .field("reason", reason)
                .field("detail", detail)
                .authenticatedPeer()
                .build());
        ScheduledFuture<?> check = ctx.channel().attr(CHECK).getAndSet(null);
        if (check != null) {
            check.cancel(false);
        }
        ctx.close();
    }

    /** Builds a {@link ConnectionExpiryHandler}. */
    public static final class Builder {
        private final Supplier<PeerAuthorizer> authorizer;
        private Duration interval = Duration.ofSeconds(30);
        private Clock clock = Clock.systemUTC();
        private AuditLog audit = AuditLog.slf4j();

        private Builder(Supplier<PeerAuthorizer> authorizer) {
            this.authorizer = Objects.requireNonNull(authorizer, "authorizer");
        }

        /**
         * How often each connection is checked (default 30 seconds): the longest a connection
         * outlives its certificate, the removal of its CA from the trust bundle, or its identity's
         * revocation. Rounded up to whole milliseconds.
         */
        public Builder checkEvery(Duration interval) {
            this.interval = Duration.ofMillis(Durations.toMillisRoundedUp(Durations.requirePositive("checkEvery",
                    interval)));
            return this;
        }

        /** The clock that decides expiry (default the system clock). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Where closes are recorded (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** Builds the handler. */
        public ConnectionExpiryHandler build() {
            return new ConnectionExpiryHandler(this);
        }
    }
}
