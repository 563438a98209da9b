package io.settler.zerotrust.netty;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.settler.zerotrust.audit.LogSafe;
import java.util.function.Consumer;

/**
 * Writes the HTTP refusals of our handlers (401, 403, 429, ...): an empty body, so nothing about
 * why leaks to the caller (the reason goes to the audit log), {@code Cache-Control: no-store}, and
 * the connection kept open only if the request asked for it.
 */
final class HttpRefusals {

    /** Set while the body of a refused request is being dropped. */
    private static final AttributeKey<Boolean> DISCARDING = AttributeKey.valueOf(HttpRefusals.class, "discarding");

    private HttpRefusals() {
    }

    /**
     * Refuses the request {@code msg} like {@link #refuse}, releases it, and drops the rest of its
     * body if it was not a full request (see {@link #dropsBody}).
     */
    static void refuseAndDrop(ChannelHandlerContext ctx, HttpRequest msg, HttpResponseStatus status,
                              Consumer<HttpHeaders> headers) {
        if (!(msg instanceof LastHttpContent)) {
            ctx.channel().attr(DISCARDING).set(Boolean.TRUE);
        }
        refuse(ctx, msg, status, headers);
        ReferenceCountUtil.release(msg);
    }

    /** Whether {@code msg} is body content of a refused request; if so it has been released. */
    static boolean dropsBody(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpContent && !(msg instanceof HttpRequest)
                && Boolean.TRUE.equals(ctx.channel().attr(DISCARDING).get())) {
            if (msg instanceof LastHttpContent) {
                ctx.channel().attr(DISCARDING).set(null);
            }
            ReferenceCountUtil.release(msg);
            return true;
        }
        return false;
    }

    /**
     * Refuses {@code request} with {@code status}; {@code headers} adds e.g. {@code Retry-After} or
     * {@code WWW-Authenticate}.
     */
    static void refuse(ChannelHandlerContext ctx, HttpRequest request, HttpResponseStatus status,
                       Consumer<HttpHeaders> headers) {
        FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(), status);
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        HttpUtil.setContentLength(response, 0);
        headers.accept(response.headers());
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpUtil.setKeepAlive(response, keepAlive);
        var written = ctx.writeAndFlush(response);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** The request's path for an audit event: no query string (it may carry secrets), log-safe. */
    static String auditPath(HttpRequest request) {
        return LogSafe.text(new QueryStringDecoder(request.uri()).path());
    }
}
