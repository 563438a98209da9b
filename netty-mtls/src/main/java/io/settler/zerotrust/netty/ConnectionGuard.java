package io.settler.zerotrust.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.settler.zerotrust.identity.ServiceIdentity;
import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Enforces {@link ConnectionLimits} on one server connection; {@link NettyMtls#addTo} adds it
 * after the {@link PeerIdentityHandler}, and sets the {@code SslHandler}'s handshake timeout.
 * Counts the connection against the server's cap when it becomes active and against its peer's
 * cap when the handshake completes (a refused peer's handshake event goes no further); once the
 * handshake completed, puts Netty's {@code IdleStateHandler} before itself (so idleness counts from
 * then: the handshake's bytes never pass it) and a {@link RequestTracker} right after the HTTP
 * codec, which tells it when a request head is complete and when its response was written. The
 * first byte read while no request is in progress starts the request-head timer; an idle event
 * while no request is in progress and no head is under way closes the connection. All on the
 * channel's event loop.
 */
final class ConnectionGuard extends ChannelInboundHandlerAdapter {

    private final ConnectionLimits limits;
    private boolean counted;
    private @Nullable String admitted;
    /** Whether a {@link RequestTracker} follows the HTTP codec: only then are request heads timed. */
    private boolean tracked;
    /** Requests whose head arrived and whose response was not written yet. */
    private int inProgress;
    private @Nullable ScheduledFuture<?> headTimer;

    ConnectionGuard(ConnectionLimits limits) {
        this.limits = limits;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!limits.tryOpen()) {
            limits.record(NettyAudit.CONNECTION_REFUSED, "none", remote(ctx), "CONNECTION_LIMIT",
                    "the server holds " + limits.maxConnections() + " connections already, its maximum;"
                            + " raise ConnectionLimits.maxConnections if this is legitimate load");
            ctx.close();
            return;
        }
        counted = true;
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof SslHandshakeCompletionEvent completion) {
            if (completion.isSuccess()) {
                String peer = peerKey(ctx);
                if (!limits.tryAdmit(peer)) {
                    limits.record(NettyAudit.CONNECTION_REFUSED, peer, remote(ctx), "IDENTITY_CONNECTION_LIMIT",
                            "this peer holds " + limits.maxConnectionsPerIdentity() + " connections already, the most"
                                    + " one peer may hold; it should reuse or close them, or raise"
                                    + " ConnectionLimits.maxConnectionsPerIdentity");
                    ctx.close();
                    return; // the handlers behind never see the connection admitted
                }
                admitted = peer;
                ctx.pipeline().addBefore(ctx.name(), HandlerNames.CONNECTION_IDLE,
                        new IdleStateHandler(0, 0, limits.idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
                tracked = addTracker(ctx.pipeline());
            } else if (completion.cause() instanceof SslHandshakeTimeoutException) {
                limits.record(NettyAudit.CONNECTION_CLOSED, "none", remote(ctx), "HANDSHAKE_TIMEOUT",
                        "the TLS handshake did not complete within " + limits.handshakeTimeout());
                ctx.close();
            }
        } else if (event instanceof IdleStateEvent && admitted != null && inProgress == 0 && headTimer == null) {
            close(ctx, "IDLE_TIMEOUT", "no request for " + limits.idleTimeout());
            return;
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (tracked && inProgress == 0 && headTimer == null && msg instanceof ByteBuf bytes && bytes.isReadable()) {
            headTimer = ctx.executor().schedule(() -> close(ctx, "REQUEST_HEAD_TIMEOUT",
                    "a request head (request line and headers) did not arrive within " + limits.requestHeadTimeout()
                            + " of its first byte"), limits.requestHeadTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelHeadTimer();
        if (admitted != null) {
            limits.left(admitted);
            admitted = null;
        }
        if (counted) {
            limits.closed();
            counted = false;
        }
        ctx.fireChannelInactive();
    }

    private void close(ChannelHandlerContext ctx, String reason, String detail) {
        cancelHeadTimer();
        if (ctx.channel().isActive()) {
            limits.record(NettyAudit.CONNECTION_CLOSED, admitted == null ? "none" : admitted, remote(ctx), reason,
                    detail);
            ctx.close();
        }
    }

    private void cancelHeadTimer() {
        if (headTimer != null) {
            headTimer.cancel(false);
            headTimer = null;
        }
    }

    /**
     * Puts a tracker after the last of the HTTP server codec handlers, where requests arrive decoded
     * and responses leave not yet encoded; false when the pipeline has no HTTP request decoder.
     */
    private boolean addTracker(ChannelPipeline pipeline) {
        String last = null;
        boolean decodes = false;
        for (Map.Entry<String, ChannelHandler> entry : pipeline) {
            ChannelHandler handler = entry.getValue();
            if (handler instanceof HttpServerCodec || handler instanceof HttpRequestDecoder) {
                decodes = true;
                last = entry.getKey();
            } else if (handler instanceof HttpResponseEncoder) {
                last = entry.getKey();
            }
        }
        if (!decodes) {
            return false;
        }
        pipeline.addAfter(last, HandlerNames.REQUEST_TRACKER, new RequestTracker());
        return true;
    }

    /**
     * The key a peer's connections and requests are counted under: its verified SPIFFE ID, else its
     * source address (also used by {@link RateLimitHandler}).
     */
    static String peerKey(ChannelHandlerContext ctx) {
        ServiceIdentity identity = ctx.channel().attr(PeerIdentityHandler.PEER_IDENTITY).get();
        return identity != null ? identity.toString() : remote(ctx);
    }

    private static String remote(ChannelHandlerContext ctx) {
        return PeerIdentityHandler.remoteAddress(ctx).map(InetAddress::getHostAddress).orElse("unknown");
    }

    /** Sees decoded request heads and the responses written, for the guard's timers. */
    private final class RequestTracker extends ChannelDuplexHandler {
        /**
         * A decoded head starts a request; one the codec failed to decode does not (the codec drops
         * what follows, and the application may never answer it), so its head timer runs on.
         */
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest request && request.decoderResult().isSuccess()) {
                inProgress++;
                cancelHeadTimer();
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof LastHttpContent && !(msg instanceof HttpResponse response
                    && response.status().codeClass() == HttpStatusClass.INFORMATIONAL)) {
                ChannelPromise written = promise.unvoid();
                written.addListener(f -> inProgress = Math.max(0, inProgress - 1));
                ctx.write(msg, written);
                return;
            }
            ctx.write(msg, promise);
        }
    }
}
