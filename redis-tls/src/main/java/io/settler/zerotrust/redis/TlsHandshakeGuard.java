package io.settler.zerotrust.redis;

import io.lettuce.core.resource.NettyCustomizer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.CertificateFingerprint;
import io.settler.zerotrust.tls.MtlsContext;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSession;

/**
 * Watches every TLS handshake Lettuce makes, first connections and reconnects alike: a channel
 * that negotiated a protocol we do not allow is closed before Redis sees a command, and each
 * completed handshake is audited with the protocol and both certificates' fingerprints. The last
 * handshake of each open channel is kept by local port, so a connection can be matched to its
 * channel through {@code CLIENT INFO}.
 *
 * <p>It also keeps every engine Lettuce makes from resuming a TLS session, through core's
 * {@link MtlsContext#refuseResumption(SSLEngine)}: Lettuce sets {@code HTTPS} as the engine's
 * endpoint identification algorithm, which replaces the value of its own that core gives each of
 * its engines, and a Redis server sends TLS 1.3 session tickets that a JDK client keeps. A resumed
 * handshake would skip core's trust manager, so a reconnect would not verify the server against
 * the trust bundle current then. Lettuce 7.7 builds a new JDK context, with an empty session
 * cache, for every channel, so today it resumes nothing; this keeps it that way if a Lettuce
 * version reuses a context. Lettuce calls {@link #afterChannelInitialized(Channel)} after the
 * engine's parameters are set and before the channel connects, so before the handshake starts.
 */
final class TlsHandshakeGuard implements NettyCustomizer {

    /** What one completed handshake negotiated and presented. */
    record Handshake(String protocol, String cipherSuite, String clientFingerprint, String serverFingerprint) {
    }

    private final Set<String> allowedProtocols;
    private final AuditLog audit;
    private final Clock clock;
    private final MtlsContext tls;
    private final ConcurrentMap<Integer, Handshake> byLocalPort = new ConcurrentHashMap<>();

    TlsHandshakeGuard(Set<String> allowedProtocols, MtlsContext tls, AuditLog audit, Clock clock) {
        this.allowedProtocols = Set.copyOf(allowedProtocols);
        this.tls = tls;
        this.audit = audit;
        this.clock = clock;
    }

    @Override
    public void afterChannelInitialized(Channel channel) {
        ChannelHandlerContext ssl = channel.pipeline().context(SslHandler.class);
        if (ssl == null) {
            // Never happens with a rediss:// URI; fail closed if it ever does.
            audit.record(refusal("CONNECTION_FAILED", "a Redis channel without TLS", channel.remoteAddress()));
            channel.close();
            return;
        }
        tls.refuseResumption(((SslHandler) ssl.handler()).engine());
        channel.pipeline().addAfter(ssl.name(), "settler-tls-guard", new Guard());
    }

    /** The handshake of the open channel on this local port, if one completed. */
    Optional<Handshake> handshakeOn(int localPort) {
        return Optional.ofNullable(byLocalPort.get(localPort));
    }

    private AuditEvent refusal(String reason, String detail, SocketAddress remote) {
        return AuditEvent.builder(clock.instant(), "redis.tls.refused", AuditEvent.Outcome.REFUSED)
                .field("reason", reason)
                .field("detail", detail)
                .field("remote", String.valueOf(remote))
                .build();
    }

    private static String fingerprint(Certificate[] certificates) {
        if (certificates == null || certificates.length == 0 || !(certificates[0] instanceof X509Certificate leaf)) {
            return "none";
        }
        return CertificateFingerprint.sha256(leaf);
    }

    private static int localPort(Channel channel) {
        return channel.localAddress() instanceof InetSocketAddress local ? local.getPort() : -1;
    }

    private final class Guard extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event instanceof SslHandshakeCompletionEvent completion) {
                if (completion.isSuccess()) {
                    SSLSession session = ctx.pipeline().get(SslHandler.class).engine().getSession();
                    if (!allowedProtocols.contains(session.getProtocol())) {
                        String detail =
                                "the server negotiated " + session.getProtocol() + "; allowed: " + allowedProtocols;
                        audit.record(refusal("PROTOCOL_NOT_ALLOWED", detail, ctx.channel().remoteAddress()));
                        // Fails Lettuce's pending connect with the reason, then drops the channel.
                        SSLHandshakeException refused = new SSLHandshakeException(detail);
                        refused.initCause(new RedisTlsException(RedisTlsException.Reason.PROTOCOL_NOT_ALLOWED, detail));
                        ctx.fireExceptionCaught(refused);
                        ctx.close();
                        return;
                    }
                    Handshake handshake = new Handshake(session.getProtocol(), session.getCipherSuite(),
                            fingerprint(session.getLocalCertificates()), fingerprint(peerCertificates(session)));
                    byLocalPort.put(localPort(ctx.channel()), handshake);
                    audit.record(AuditEvent.builder(clock.instant(), "redis.tls.handshake", AuditEvent.Outcome.ALLOWED)
                            .field("protocol", handshake.protocol())
                            .field("cipher_suite", handshake.cipherSuite())
                            .field("client_fingerprint", handshake.clientFingerprint())
                            .field("server_fingerprint", handshake.serverFingerprint())
                            .field("remote", String.valueOf(ctx.channel().remoteAddress()))
                            .build());
                } else {
                    audit.record(refusal("HANDSHAKE_FAILED", String.valueOf(completion.cause()),
                            ctx.channel().remoteAddress()));
                }
            }
            super.userEventTriggered(ctx, event);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            byLocalPort.remove(localPort(ctx.channel()));
            super.channelInactive(ctx);
        }

        private Certificate[] peerCertificates(SSLSession session) {
            try {
                return session.getPeerCertificates();
            } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                return new Certificate[0];
            }
        }
    }
}
