package io.settler.zerotrust.netty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.CoreAudit;
import io.settler.zerotrust.credentials.CertificateFingerprint;
import io.settler.zerotrust.identity.CertificateIdentityException;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.tls.MtlsContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLException;

/**
 * After the TLS handshake, publishes the verified peer as channel attributes:
 * {@link #PEER_CERTIFICATE} and, when the certificate names one, {@link #PEER_IDENTITY}. Placed
 * right after the {@code SslHandler} ({@link NettyMtls#addTo} does that), so every handler behind
 * it sees them before the first message. They are set when the {@code SslHandshakeCompletionEvent}
 * passes this handler, on the event loop, just after the {@code SslHandler}'s handshake future
 * completes: read them from handlers or event-loop tasks, not from a listener on that future.
 * A failed handshake is audited (once: a refusal by our own
 * verification was audited where it happened) and the channel closed; the exception the
 * {@code SslHandler} raises for it ends here, so a refused peer leaves its audit event and nothing
 * else: no warning with a stack trace at the end of the pipeline, which a peer could otherwise
 * repeat at will past any limit on the audit log. Every other exception passes on. A peer whose
 * certificate's identity {@link ServiceIdentity#fromCertificate} refuses after a completed handshake
 * (verified by a trust manager other than ours) is audited, its channel closed, no attribute set, and
 * what it sent behind its handshake (read in the same batch, before the close) goes no further;
 * its {@code peer.refused} event carries the reason of the rule it breaks.
 *
 * <p>A completed handshake is recorded as {@code tls.handshake} (DEBUG), timed from the channel's
 * activation, when the audit log {@linkplain AuditLog#records records} it.
 */
@ChannelHandler.Sharable
public final class PeerIdentityHandler extends ChannelInboundHandlerAdapter {

    /** The peer's SPIFFE identity; unset when its certificate has none or the handshake has not completed. */
    public static final AttributeKey<ServiceIdentity> PEER_IDENTITY =
            AttributeKey.valueOf(PeerIdentityHandler.class, "peerIdentity");
    /** The peer's leaf certificate, verified in the handshake. */
    public static final AttributeKey<X509Certificate> PEER_CERTIFICATE =
            AttributeKey.valueOf(PeerIdentityHandler.class, "peerCertificate");

    /** Set on a channel whose peer this handler refused: what it sent goes no further. */
    private static final AttributeKey<Boolean> REFUSED = AttributeKey.valueOf(PeerIdentityHandler.class, "refused");

    /** When the channel became active ({@link System#nanoTime()}), set only when handshakes are recorded. */
    private static final AttributeKey<Long> HANDSHAKE_START =
            AttributeKey.valueOf(PeerIdentityHandler.class, "handshakeStart");

    private final MtlsContext mtls;
    private final AuditLog audit;

    /**
     * A handler whose own events (timed handshakes, fail-closed refusals) go to the context's audit
     * log ({@link MtlsContext#auditLog()}), as its handshake failures do.
     *
     * @param mtls the context whose handshakes this handler follows (for auditing refusals)
     */
    public PeerIdentityHandler(MtlsContext mtls) {
        this(mtls, mtls.auditLog());
    }

    /**
     * @param mtls the context whose handshakes this handler follows (for auditing refusals)
     * @param audit where this handler's own events go: timed handshakes, fail-closed refusals
     */
    public PeerIdentityHandler(MtlsContext mtls, AuditLog audit) {
        this.mtls = Objects.requireNonNull(mtls, "mtls");
        this.audit = Objects.requireNonNull(audit, "audit");
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) { // added to a live channel: its activation is now
            startTiming(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        startTiming(ctx);
        ctx.fireChannelActive();
    }

    private void startTiming(ChannelHandlerContext ctx) {
        if (audit.records(NettyAudit.TLS_HANDSHAKE)) {
            ctx.channel().attr(HANDSHAKE_START).setIfAbsent(System.nanoTime());
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof SslHandshakeCompletionEvent completion) {
            if (completion.isSuccess()) {
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                X509Certificate leaf = (X509Certificate) ssl.engine().getSession().getPeerCertificates()[0];
                Optional<ServiceIdentity> identity;
                try {
                    identity = spiffeIdentity(leaf);
                } catch (CertificateIdentityException e) {
                    // Fail closed: never hand on a peer whose identity the one rule refuses.
                    ctx.channel().attr(REFUSED).set(Boolean.TRUE);
                    audit.event(CoreAudit.PEER_REFUSED)
                            .field("role", mtls.role() == MtlsContext.Role.SERVER ? "client" : "server")
                            .field("fingerprint", CertificateFingerprint.sha256(leaf))
                            .field("remote", remoteAddress(ctx).map(InetAddress::getHostAddress).orElse("unknown"))
                            .because(e)
                            .record();
                    ctx.close();
                    return;
                }
                ctx.channel().attr(PEER_CERTIFICATE).set(leaf);
                identity.ifPresent(id -> ctx.channel().attr(PEER_IDENTITY).set(id));
                Long start = ctx.channel().attr(HANDSHAKE_START).getAndSet(null);
                if (start != null && audit.records(NettyAudit.TLS_HANDSHAKE)) {
                    audit.event(NettyAudit.TLS_HANDSHAKE)
                            .field("role", mtls.role())
                            .field("provider", ssl.engine() instanceof ReferenceCountedOpenSslEngine
                                    ? NettyMtls.Provider.OPENSSL : NettyMtls.Provider.JDK)
                            .field("protocol", ssl.engine().getSession().getProtocol())
                            .field("identity", identity.map(Object::toString).orElse("none"))
                            .field("remote", remoteAddress(ctx).map(InetAddress::getHostAddress).orElse("unknown"))
                            .elapsedSince(start)
                            .record();
                }
            } else {
                mtls.recordHandshakeFailure(completion.cause(), remoteAddress(ctx));
                ctx.close();
            }
        }
        ctx.fireUserEventTriggered(event);
    }

    /**
     * Drops what a refused peer sent: data right behind its Finished is decoded in the same read as
     * the handshake, after the close was asked for, and would otherwise reach the application.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (Boolean.TRUE.equals(ctx.channel().attr(REFUSED).get())) {
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * Ends the exception of a failed handshake here (it was audited and the channel is closing);
     * passes every other exception on.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (handshakeFailed(ctx) && isTlsFailure(cause)) {
            ctx.close();
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    private static boolean handshakeFailed(ChannelHandlerContext ctx) {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        return ssl != null && ssl.handshakeFuture().isDone() && !ssl.handshakeFuture().isSuccess();
    }

    private static boolean isTlsFailure(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SSLException) {
                return true;
            }
        }
        return false;
    }

    /**
     * The certificate's identity by {@link ServiceIdentity#fromCertificate}, the rule our trust
     * manager already applied in the handshake; so a refusal here means the handshake was verified
     * by something else, and the caller fails closed.
     */
    static Optional<ServiceIdentity> spiffeIdentity(X509Certificate certificate) {
        return ServiceIdentity.fromCertificate(certificate);
    }

    static Optional<InetAddress> remoteAddress(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress address
                ? Optional.ofNullable(address.getAddress()) : Optional.empty();
    }

    /** The verified identity of the peer on this channel, once the handshake completed. */
    public static Optional<ServiceIdentity> peerIdentity(Channel channel) {
        return Optional.ofNullable(channel.attr(PEER_IDENTITY).get());
    }

    /** The verified leaf certificate of the peer on this channel, once the handshake completed. */
    public static Optional<X509Certificate> peerCertificate(Channel channel) {
        return Optional.ofNullable(channel.attr(PEER_CERTIFICATE).get());
    }
}
