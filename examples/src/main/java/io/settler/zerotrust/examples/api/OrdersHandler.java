package io.settler.zerotrust.examples.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.examples.ExampleAudit;
import io.settler.zerotrust.jdbc.TenantScopeException;
import io.settler.zerotrust.netty.ServiceTokenAuthHandler;
import io.settler.zerotrust.token.VerifiedToken;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's routes, behind {@link ServiceTokenAuthHandler}: {@code POST /orders} with
 * {@code {"item": "..."}} answers {@code 201 {"id": N}}; {@code GET /orders/<id>} answers
 * {@code 200 {"id", "item", "status"}} or {@code 404} (also for another tenant's order: row-level
 * security hides it). The tenant is the verified token's {@value ApiServer#TENANT_CLAIM} claim; a
 * token without one is refused ({@code 403}, audited). Bad JSON or a bad id is a {@code 400}; a
 * failure is a {@code 500} whose body says nothing about it (the log does).
 *
 * <p>{@code POST /orders} takes an optional {@value OrderRequests#IDEMPOTENCY_KEY} header (1 to
 * {@value OrderRequests#MAX_KEY_LENGTH} visible ASCII characters, e.g. a UUID the client makes once per order
 * and sends again with every retry of it). Its scope is the tenant and the calling service: the
 * same key again with the same item answers {@code 201} with the first order's id and
 * {@code Idempotent-Replayed: true}, creating nothing; with another item it is a {@code 422}.
 * Without a key every request creates an order: a client that may retry must send one.
 *
 * <p>The token and the body are read on the event loop (the next request on the connection
 * replaces {@link ServiceTokenAuthHandler#VERIFIED_TOKEN}); the database calls block, so they run
 * on {@code work}, one request of a connection after the other. Sharable.
 */
@ChannelHandler.Sharable
final class OrdersHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger LOG = LoggerFactory.getLogger(OrdersHandler.class);

    /** The collection; an order is {@code /orders/<id>}. */
    static final String ORDERS = "/orders";
    /** The connection's latest request, which the next one waits for. */
    private static final AttributeKey<CompletableFuture<Void>> PREVIOUS =
            AttributeKey.valueOf(OrdersHandler.class, "previous");

    /** A request as read on the event loop; {@code idempotencyKeys} as sent (any number). */
    @SuppressWarnings("ArrayRecordComponent") // one request's data, never compared
    private record Call(HttpMethod method, String path, byte[] body, VerifiedToken token,
                        List<String> idempotencyKeys) {
    }

    /** An answer: a status, a JSON object (empty for none) and extra headers. */
    private record Reply(HttpResponseStatus status, Map<String, Object> body, Map<String, String> headers) {
        Reply(HttpResponseStatus status, Map<String, Object> body) {
            this(status, body, Map.of());
        }

        static Reply error(HttpResponseStatus status, String message) {
            return new Reply(status, Map.of("error", message));
        }
    }

    private final Orders orders;
    private final ObjectMapper json;
    private final Executor work;
    private final AuditLog audit;

    OrdersHandler(Orders orders, ObjectMapper json, Executor work, AuditLog audit) {
        this.orders = Objects.requireNonNull(orders, "orders");
        this.json = Objects.requireNonNull(json, "json");
        this.work = Objects.requireNonNull(work, "work");
        this.audit = Objects.requireNonNull(audit, "audit");
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (request.decoderResult().isFailure()) {
            respond(ctx, keepAlive, Reply.error(HttpResponseStatus.BAD_REQUEST, "not a valid HTTP request"));
            return;
        }
        VerifiedToken token = ServiceTokenAuthHandler.verifiedToken(ctx.channel()).orElse(null);
        if (token == null) { // only if the pipeline lost its ServiceTokenAuthHandler: fail closed
            respond(ctx, keepAlive, Reply.error(HttpResponseStatus.UNAUTHORIZED, "no verified service token"));
            return;
        }
        Call call = new Call(request.method(), new QueryStringDecoder(request.uri()).rawPath(),
                ByteBufUtil.getBytes(request.content()), token,
                request.headers().getAll(OrderRequests.IDEMPOTENCY_KEY));
        // After the connection's previous request: HTTP/1.1 answers pipelined requests in order.
        CompletableFuture<Void> previous = ctx.channel().attr(PREVIOUS).get();
        CompletableFuture<Void> next = (previous == null ? CompletableFuture.<Void>completedFuture(null) : previous)
                .handleAsync((ignored, failure) -> {
                    respond(ctx, keepAlive, handle(call));
                    return null;
                }, work);
        next.exceptionally(stopping -> { // the work pool refused it: the server is stopping
            respond(ctx, false, Reply.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "the server is stopping"));
            return null;
        });
        ctx.channel().attr(PREVIOUS).set(next);
    }

    private Reply handle(Call call) {
        String tenant = call.token().claims().get(ApiServer.TENANT_CLAIM);
        if (tenant == null || tenant.isBlank()) {
            return refuse(call, "MISSING_TENANT", "the token carries no '" + ApiServer.TENANT_CLAIM + "' claim; the"
                    + " gateway mints it with the end user's tenant");
        }
        try {
            if (call.method().equals(HttpMethod.POST) && call.path().equals(ORDERS)) {
                return create(call, tenant);
            }
            if (call.method().equals(HttpMethod.GET) && call.path().startsWith(ORDERS + "/")) {
                long id = OrderRequests.id(call.path().substring(ORDERS.length() + 1));
                return orders.find(tenant, id)
                        .map(order -> new Reply(HttpResponseStatus.OK, Map.of("id", order.id(), "item", order.item(),
                                "status", order.done() ? "done" : "queued")))
                        .orElseGet(() -> Reply.error(HttpResponseStatus.NOT_FOUND, "no order " + id));
            }
            return Reply.error(HttpResponseStatus.NOT_FOUND, "no such resource; use POST " + ORDERS + " or GET "
                    + ORDERS + "/<id>");
        } catch (OrderRequests.BadRequest e) {
            return Reply.error(HttpResponseStatus.BAD_REQUEST,
                    Objects.requireNonNullElse(e.getMessage(), "bad request"));
        } catch (TenantScopeException e) {
            if (e.reason() == TenantScopeException.Reason.INVALID_TENANT) {
                return refuse(call, "INVALID_TENANT", e.getMessage());
            }
            return failed(call, e);
        } catch (Exception e) {
            return failed(call, e);
        }
    }

    private Reply create(Call call, String tenant) throws SQLException {
        Optional<String> key = OrderRequests.idempotencyKey(call.idempotencyKeys());
        Orders.Created created = orders.create(tenant, call.token().service().toString(), key,
                OrderRequests.item(json, call.body()));
        return switch (created.outcome()) {
            case CREATED -> new Reply(HttpResponseStatus.CREATED, Map.of("id", created.id()));
            case REPLAYED -> new Reply(HttpResponseStatus.CREATED, Map.of("id", created.id()),
                    Map.of(OrderRequests.REPLAYED, "true"));
            case KEY_REUSED -> Reply.error(HttpResponseStatus.UNPROCESSABLE_ENTITY, OrderRequests.KEY_REUSED);
        };
    }

    private Reply refuse(Call call, String reason, @Nullable String detail) {
        audit.event(ExampleAudit.TENANT_REFUSED)
                .field("peer", call.token().service().toString())
                .field("method", call.method().name())
                .field("path", LogSafe.text(call.path()))
                .field("status", HttpResponseStatus.FORBIDDEN.code())
                .field("reason", reason)
                .field("detail", detail)
                .record();
        return Reply.error(HttpResponseStatus.FORBIDDEN, "this token may not act for a tenant");
    }

    private static Reply failed(Call call, Exception e) {
        LOG.error("{} {} failed", call.method(), LogSafe.text(call.path()), e);
        return Reply.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error");
    }

    private void respond(ChannelHandlerContext ctx, boolean keepAlive, Reply reply) {
        byte[] body;
        try {
            body = json.writeValueAsBytes(new TreeMap<>(reply.body()));
        } catch (JsonProcessingException e) {
            LOG.error("cannot write a {} reply", reply.status(), e);
            body = new byte[0];
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, reply.status(),
                Unpooled.wrappedBuffer(body));
        reply.headers().forEach(response.headers()::set);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        HttpUtil.setContentLength(response, body.length);
        HttpUtil.setKeepAlive(response, keepAlive);
        var written = ctx.writeAndFlush(response);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A reset or a refused handshake; the TLS handlers audited what matters. Never a stack trace to the peer.
        LOG.debug("closing a connection: {}", cause.toString());
        ctx.close();
    }
}
