package io.settler.zerotrust.netty;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.settler.zerotrust.audit.LogSafe;
import java.util.function.Consumer;

/**
 * Writes the HTTP refusals of our handlers (401, 403, 429, ...): an empty body, so nothing about
 * why leaks to the caller (the reason goes to the audit log), {@code Cache-Control: no-store}, and
 * the connection kept open only if the request asked for it.
 */
final class HttpRefusals {

    private HttpRefusals() {
    }

    /** Refuses {@code request} with {@code status}; {@code headers} adds e.g. {@code Retry-After} or {@code WWW-Authenticate}. */
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
