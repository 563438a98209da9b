package io.settler.zerotrust.netty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.token.BearerToken;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRejectedException;
import io.settler.zerotrust.token.VerifiedToken;
import java.security.cert.X509Certificate;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Authenticates each HTTP request with a service token: exactly one {@code Authorization: Bearer
 * <token>} header, verified with {@link ServiceTokens} against this channel's verified peer
 * certificate (so a certificate-bound token only works on the connection of the certificate it is
 * bound to), with the scopes {@link RouteScopes} requires for the request, and a calling service
 * ({@link VerifiedToken#service()}: the token's issuer, whose pinned key signed it, and which its
 * {@code sub} must equal) that is the peer's mTLS identity (so a token stolen from one service is
 * useless on another service's connection, and no key can vouch for another service). A request
 * that passes reaches the next handler with {@link #VERIFIED_TOKEN} set on the channel.
 *
 * <p>The event loop never blocks on a token: tokens are verified with
 * {@link ServiceTokens#verifyWithoutWaiting}, against the keys held now, and without asking a
 * {@link io.settler.zerotrust.token.ReplayGuard} that {@linkplain
 * io.settler.zerotrust.token.ReplayGuard#mayBlock may block} (any but the in-memory one, e.g. the
 * Redis one). A token that call cannot settle, because its key is being fetched (a peer's first
 * token, a rotated key) or because only such a replay check is left, is verified on the
 * {@link Builder#verificationExecutor verification executor}, where the key source may wait for
 * its fetch (bounded) and the replay guard for its store; meanwhile the channel stops reading and
 * holds what it already read, so requests stay in order, and other channels of the event loop go
 * on. A full executor is a {@code 503}. A token rejected for another reason is refused on the
 * event loop, without asking the replay guard.
 *
 * <p>Refusals have an empty body and are audited ({@code request.refused} with a reason; the token
 * is never recorded): {@code 401} with {@code WWW-Authenticate: Bearer} for a missing, malformed,
 * expired, forged, unknown-key, wrong-audience or untrusted-issuer token; {@code 403} for
 * insufficient scope, a certificate or identity mismatch, or a request no route covers. Place it
 * after {@link PeerIdentityHandler} and the HTTP codec (an aggregator before it is fine). {@link
 * ChannelHandler.Sharable}.
 *
 * <pre>{@code
 * ServiceTokenAuthHandler tokens = ServiceTokenAuthHandler.builder(verifier, routes).build();
 * pipeline.addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 16), tokens, application);
 * // application: VerifiedToken token = ServiceTokenAuthHandler.verifiedToken(ctx.channel()).orElseThrow();
 * }</pre>
 */
@ChannelHandler.Sharable
public final class ServiceTokenAuthHandler extends ChannelInboundHandlerAdapter {

    /** The token of the request being handled on this channel, set just before it is passed on. */
    public static final AttributeKey<VerifiedToken> VERIFIED_TOKEN =
            AttributeKey.valueOf(ServiceTokenAuthHandler.class, "verifiedToken");

    /** Why a request was refused, as recorded in the audit event (besides the token's own reasons). */
    enum Refusal {
        /** No {@code Authorization} header. */
        MISSING_TOKEN(HttpResponseStatus.UNAUTHORIZED),
        /** Several headers, another scheme, or not a single bearer token. */
        MALFORMED_AUTHORIZATION(HttpResponseStatus.UNAUTHORIZED),
        /** The token's service (its issuer and subject) is not the peer's mTLS identity. */
        IDENTITY_MISMATCH(HttpResponseStatus.FORBIDDEN),
        /** No route covers the request (or its path is ambiguous). */
        NO_ROUTE(HttpResponseStatus.FORBIDDEN),
        /** The verifier failed for another reason than the token (e.g. keys unavailable): fails closed. */
        VERIFIER_FAILED(HttpResponseStatus.SERVICE_UNAVAILABLE);

        @SuppressWarnings("ImmutableEnumChecker") // Netty's status constants are immutable, just not annotated
        private final HttpResponseStatus status;

        Refusal(HttpResponseStatus status) {
            this.status = status;
        }
    }

    private static final String[] NO_SCOPES = new String[0];
    /** Set while a request of the channel is verified off the event loop: what the channel read meanwhile. */
    private static final AttributeKey<ArrayDeque<Object>> HELD = AttributeKey.valueOf(ServiceTokenAuthHandler.class,
            "held");

    private final ServiceTokens verifier;
    private final RouteScopes routes;
    private final AuditLog audit;
    private final Executor verificationExecutor;

    private ServiceTokenAuthHandler(Builder builder) {
        this.verifier = builder.verifier;
        this.routes = builder.routes;
        this.audit = builder.audit;
        this.verificationExecutor = builder.verificationExecutor != null ? builder.verificationExecutor
                : defaultVerificationExecutor();
    }

    /** Four daemon threads at most, gone when idle; a queue of 1024, beyond which requests get a 503. */
    private static Executor defaultVerificationExecutor() {
        ThreadPoolExecutor executor = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(1024),
                new DefaultThreadFactory("zerotrust-token-verify", true));
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    /**
     * Starts a builder.
     *
     * @param verifier verifies the tokens; its identity is the audience they must be minted for
     * @param routes the scopes each request needs; requests it does not cover are refused
     */
    public static Builder builder(ServiceTokens verifier, RouteScopes routes) {
        return new Builder(verifier, routes);
    }

    /** The verified token of the request being handled on {@code channel}. */
    public static Optional<VerifiedToken> verifiedToken(Channel channel) {
        return Optional.ofNullable(channel.attr(VERIFIED_TOKEN).get());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ArrayDeque<Object> held = ctx.channel().attr(HELD).get();
        if (held != null) {
            held.add(msg); // a request before it is still being verified
            return;
        }
        handle(ctx, msg);
    }

    private void handle(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            ctx.channel().attr(VERIFIED_TOKEN).set(null);
            authenticate(ctx, request);
            return;
        }
        if (!HttpRefusals.dropsBody(ctx, msg)) {
            ctx.fireChannelRead(msg);
        }
    }

    /** Passes the request on with its verified token, refuses it, or has its token verified off the loop. */
    private void authenticate(ChannelHandlerContext ctx, HttpRequest request) {
        List<String> authorization = request.headers().getAll(HttpHeaderNames.AUTHORIZATION);
        if (authorization.isEmpty()) {
            refuse(ctx, request, Refusal.MISSING_TOKEN.name(), Refusal.MISSING_TOKEN.status,
                    "no Authorization header; send 'Authorization: Bearer <service token>'");
            return;
        }
        String token = authorization.size() == 1
                ? BearerToken.fromAuthorization(authorization.get(0)).orElse(null) : null;
        if (token == null) {
            refuse(ctx, request, Refusal.MALFORMED_AUTHORIZATION.name(), Refusal.MALFORMED_AUTHORIZATION.status,
                    authorization.size() + " Authorization header(s); expected exactly one 'Bearer <token>'");
            return;
        }
        Optional<Set<String>> required = routes.requiredScopes(request);
        X509Certificate certificate = ctx.channel().attr(PeerIdentityHandler.PEER_CERTIFICATE).get();
        // Verified even when no route matches, so a bad token is a 401 whatever the path.
        String[] scopes = required.map(set -> set.toArray(String[]::new)).orElse(NO_SCOPES);
        Object outcome;
        try {
            Optional<VerifiedToken> now = certificate == null ? verifier.verifyWithoutWaiting(token, scopes)
                    : verifier.verifyWithoutWaiting(token, certificate, scopes);
            if (now.isEmpty()) {
                verifyOffTheEventLoop(ctx, request, token, certificate, scopes, required);
                return;
            }
            outcome = now.get();
        } catch (RuntimeException e) {
            outcome = e;
        }
        finish(ctx, request, outcome, required);
    }

    /**
     * Verifies on the verification executor a token whose key is being fetched or whose replay guard
     * may block; the channel stops reading and holds what it read meanwhile, then resumes on its event
     * loop.
     */
    private void verifyOffTheEventLoop(ChannelHandlerContext ctx, HttpRequest request, String token,
                                       X509Certificate certificate, String[] scopes, Optional<Set<String>> required) {
        ArrayDeque<Object> held = new ArrayDeque<>();
        ctx.channel().attr(HELD).set(held);
        ctx.channel().config().setAutoRead(false);
        try {
            verificationExecutor.execute(() -> {
                Object outcome;
                try {
                    outcome = certificate == null ? verifier.verify(token, scopes)
                            : verifier.verify(token, certificate, scopes);
                } catch (RuntimeException e) {
                    outcome = e;
                }
                Object result = outcome;
                try {
                    ctx.executor().execute(() -> resume(ctx, request, result, required, held));
                } catch (RejectedExecutionException e) { // the event loop shut down: nobody will read these
                    ReferenceCountUtil.release(request);
                    held.forEach(ReferenceCountUtil::release);
                }
            });
        } catch (RejectedExecutionException e) {
            resume(ctx, request, e, required, held);
        }
    }

    /** On the event loop: settles the request verified off it, then what the channel read meanwhile. */
    private void resume(ChannelHandlerContext ctx, HttpRequest request, Object outcome, Optional<Set<String>> required,
                        ArrayDeque<Object> held) {
        ctx.channel().attr(HELD).set(null);
        if (!ctx.channel().isActive()) {
            ReferenceCountUtil.release(request);
            held.forEach(ReferenceCountUtil::release);
            return;
        }
        finish(ctx, request, outcome, required);
        Object next;
        while ((next = held.poll()) != null) {
            ArrayDeque<Object> again = ctx.channel().attr(HELD).get();
            if (again != null) {
                again.add(next); // the next request went off the loop too: it resumes the rest
            } else {
                handle(ctx, next);
            }
        }
        if (ctx.channel().attr(HELD).get() == null) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    /** Refuses the request or passes it on with its token; {@code outcome} is a VerifiedToken or what verify threw. */
    private void finish(ChannelHandlerContext ctx, HttpRequest request, Object outcome,
                        Optional<Set<String>> required) {
        VerifiedToken token = check(ctx, request, outcome, required);
        if (token != null) {
            ctx.channel().attr(VERIFIED_TOKEN).set(token);
            ctx.fireChannelRead(request);
        }
    }

    /** The request's verified token, or null after refusing it. */
    private @Nullable VerifiedToken check(ChannelHandlerContext ctx, HttpRequest request, Object outcome,
                                Optional<Set<String>> required) {
        if (outcome instanceof TokenRejectedException e) {
            HttpResponseStatus status = switch (e.reason()) {
                case INSUFFICIENT_SCOPE, CERTIFICATE_MISMATCH -> HttpResponseStatus.FORBIDDEN;
                default -> HttpResponseStatus.UNAUTHORIZED;
            };
            return refuse(ctx, request, e.reason().name(), status, e.getMessage());
        }
        if (outcome instanceof RejectedExecutionException) {
            return refuse(ctx, request, Refusal.VERIFIER_FAILED.name(), Refusal.VERIFIER_FAILED.status,
                    "too many tokens wait for their keys or replay checks; the verification executor is full");
        }
        if (!(outcome instanceof VerifiedToken verified)) {
            return refuse(ctx, request, Refusal.VERIFIER_FAILED.name(), Refusal.VERIFIER_FAILED.status,
                    "the token verifier failed: " + outcome.getClass().getSimpleName());
        }
        ServiceIdentity peer = ctx.channel().attr(PeerIdentityHandler.PEER_IDENTITY).get();
        if (peer == null || !peer.equals(verified.service())) {
            return refuse(ctx, request, Refusal.IDENTITY_MISMATCH.name(), Refusal.IDENTITY_MISMATCH.status,
                    "the token was minted by " + verified.service() + " but the connection's certificate"
                            + " proves " + (peer == null ? "no SPIFFE identity" : peer));
        }
        if (required.isEmpty()) {
            return refuse(ctx, request, Refusal.NO_ROUTE.name(), Refusal.NO_ROUTE.status,
                    "no route covers this method and path; add one to RouteScopes");
        }
        return verified;
    }

    private @Nullable VerifiedToken refuse(ChannelHandlerContext ctx, HttpRequest request, String reason,
                                 HttpResponseStatus status, @Nullable String detail) {
        audit.event(NettyAudit.REQUEST_REFUSED)
                .field("peer", peerName(ctx))
                .field("method", request.method().name())
                .field("path", HttpRefusals.auditPath(request))
                .field("status", status.code())
                .field("reason", reason)
                .field("detail", detail)
                .record();
        HttpRefusals.refuseAndDrop(ctx, request, status, headers -> {
            if (status.equals(HttpResponseStatus.UNAUTHORIZED)) {
                headers.set(HttpHeaderNames.WWW_AUTHENTICATE, BearerToken.SCHEME);
            }
        });
        return null;
    }

    private static String peerName(ChannelHandlerContext ctx) {
        ServiceIdentity identity = ctx.channel().attr(PeerIdentityHandler.PEER_IDENTITY).get();
        if (identity != null) {
            return identity.toString();
        }
        return PeerIdentityHandler.remoteAddress(ctx).map(address -> address.getHostAddress()).orElse("unknown");
    }

    /** Builds a {@link ServiceTokenAuthHandler}. */
    public static final class Builder {
        private final ServiceTokens verifier;
        private final RouteScopes routes;
        private AuditLog audit = AuditLog.slf4j();
        private @Nullable Executor verificationExecutor;

        private Builder(ServiceTokens verifier, RouteScopes routes) {
            this.verifier = Objects.requireNonNull(verifier, "verifier");
            this.routes = Objects.requireNonNull(routes, "routes");
        }

        /** Where refusals are recorded (default {@link AuditLog#slf4j()}); the verifier records its own rejections. */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /**
         * Where a token whose key is being fetched, or whose verifier's replay guard may block, is
         * verified, off the event loop (default: four daemon threads and a queue of 1024; when it
         * refuses work the request gets a {@code 503}). Size it for the replay store's latency when
         * the verifier has such a guard: every token is checked here then.
         */
        public Builder verificationExecutor(Executor executor) {
            this.verificationExecutor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** Builds the handler. */
        public ServiceTokenAuthHandler build() {
            return new ServiceTokenAuthHandler(this);
        }
    }
}
