package io.settler.zerotrust.netty;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Limits HTTP requests per verified peer identity (per source address for peers without one) with a
 * token bucket, and answers {@code 429 Too Many Requests} with {@code Retry-After} when a peer's
 * bucket is empty; each refusal is audited ({@code request.refused}, reason {@code RATE_LIMITED}).
 * Placed after the HTTP codec (before or after an aggregator); one instance serves all channels of
 * a server, so a peer's budget spans its connections. {@link ChannelHandler.Sharable}.
 *
 * <pre>{@code
 * RateLimitHandler limit = RateLimitHandler.builder().burst(100).perSecond(50).build();
 * pipeline.addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 16), limit, application);
 * }</pre>
 */
@ChannelHandler.Sharable
public final class RateLimitHandler extends ChannelInboundHandlerAdapter {

    private final int burst;
    private final double perSecond;
    private final int maxPeers;
    private final LongSupplier nanoTime;
    private final AuditLog audit;
    private final Clock clock;
    private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();

    private RateLimitHandler(Builder builder) {
        this.burst = builder.burst;
        this.perSecond = builder.perSecond;
        this.maxPeers = builder.maxPeers;
        this.nanoTime = builder.nanoTime;
        this.audit = builder.audit;
        this.clock = builder.clock;
    }

    /** Starts a builder (default: bursts of 100, 50 requests per second, 10,000 peers tracked). */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            String peer = ConnectionGuard.peerKey(ctx);
            TokenBucket bucket = bucketFor(peer);
            if (!bucket.tryTake()) {
                long retryAfter = bucket.secondsUntilNext();
                audit.record(AuditEvent.builder(clock.instant(), "request.refused", AuditEvent.Outcome.REFUSED)
                        .field("peer", peer)
                        .field("method", request.method().name())
                        .field("path", HttpRefusals.auditPath(request))
                        .field("reason", "RATE_LIMITED")
                        .field("detail", "more than " + burst + " requests at once or " + perSecond + " per second")
                        .build());
                HttpRefusals.refuseAndDrop(ctx, request, HttpResponseStatus.TOO_MANY_REQUESTS,
                        headers -> headers.set(HttpHeaderNames.RETRY_AFTER, retryAfter));
                return;
            }
        } else if (HttpRefusals.dropsBody(ctx, msg)) {
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private TokenBucket bucketFor(String peer) {
        TokenBucket bucket = buckets.get(peer);
        if (bucket != null) {
            return bucket;
        }
        if (buckets.size() >= maxPeers) {
            // Peers whose bucket refilled completely have been quiet: forgetting them changes nothing.
            buckets.values().removeIf(TokenBucket::isFull);
            if (buckets.size() >= maxPeers) {
                buckets.clear();
            }
        }
        return buckets.computeIfAbsent(peer, key -> new TokenBucket(burst, perSecond, nanoTime));
    }

    /** Builds a {@link RateLimitHandler}. */
    public static final class Builder {
        private int burst = 100;
        private double perSecond = 50;
        private int maxPeers = 10_000;
        private LongSupplier nanoTime = System::nanoTime;
        private AuditLog audit = AuditLog.slf4j();
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /** How many requests a peer may make at once, after being quiet (default 100). */
        public Builder burst(int burst) {
            if (burst < 1) {
                throw new IllegalArgumentException("burst must be at least 1; got " + burst);
            }
            this.burst = burst;
            return this;
        }

        /** The sustained rate per peer, in requests per second (default 50). */
        public Builder perSecond(double perSecond) {
            if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
                throw new IllegalArgumentException("perSecond must be positive and finite; got " + perSecond);
            }
            this.perSecond = perSecond;
            return this;
        }

        /**
         * How many peers are tracked (default 10,000). Beyond it, quiet peers are forgotten first; if
         * all are busy, every budget starts afresh (with mTLS, peers are few; this bounds memory).
         */
        public Builder maxPeers(int maxPeers) {
            if (maxPeers < 1) {
                throw new IllegalArgumentException("maxPeers must be at least 1; got " + maxPeers);
            }
            this.maxPeers = maxPeers;
            return this;
        }

        /** Where refusals are recorded (default {@link AuditLog#slf4j()}). */
        public Builder auditLog(AuditLog audit) {
            this.audit = Objects.requireNonNull(audit, "audit");
            return this;
        }

        /** The clock that stamps refusals. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The monotonic time source of the buckets (tests only). */
        Builder nanoTime(LongSupplier nanoTime) {
            this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
            return this;
        }

        /** Builds the handler. */
        public RateLimitHandler build() {
            return new RateLimitHandler(this);
        }
    }
}
