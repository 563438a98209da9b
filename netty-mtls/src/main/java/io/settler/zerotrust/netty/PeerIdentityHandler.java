package io.settler.zerotrust.netty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.settler.zerotrust.identity.CertificateIdentityException;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.tls.MtlsContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;

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
 * what it sent behind its handshake (read in the same batch, before the close) goes no further.
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

    private final MtlsContext mtls;

    /** @param mtls the context whose handshakes this handler follows (for auditing refusals) */
    public PeerIdentityHandler(MtlsContext mtls) {
        this.mtls = Objects.requireNonNull(mtls, "mtls");
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof SslHandshakeCompletionEvent completion) {
            if (completion.isSuccess()) {
                try {
                    publish(ctx);
                } catch (CertificateIdentityException e) {
                    // Fail closed: never hand on a peer whose identity the one rule refuses.
                    ctx.channel().attr(REFUSED).set(Boolean.TRUE);
                    mtls.recordHandshakeFailure(e, remoteAddress(ctx));
                    ctx.close();
                    return;
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

    private static void publish(ChannelHandlerContext ctx) throws SSLPeerUnverifiedException {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
        X509Certificate leaf = (X509Certificate) chain[0];
        Optional<ServiceIdentity> identity = spiffeIdentity(leaf);
        ctx.channel().attr(PEER_CERTIFICATE).set(leaf);
        identity.ifPresent(id -> ctx.channel().attr(PEER_IDENTITY).set(id));
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
