package io.settler.zerotrust.netty;

import java.util.function.LongSupplier;

/**
 * A token bucket: holds up to {@code capacity} tokens, refilled continuously at {@code perSecond};
 * each request takes one. Thread-safe.
 */
final class TokenBucket {

    private static final double NANOS_PER_SECOND = 1_000_000_000d;

    private final double capacity;
    private final double perNano;
    private final LongSupplier nanoTime;
    private double tokens;
    private long updatedAt;

    TokenBucket(int capacity, double perSecond, LongSupplier nanoTime) {
        this.capacity = capacity;
        this.perNano = perSecond / NANOS_PER_SECOND;
        this.nanoTime = nanoTime;
        this.tokens = capacity;
        this.updatedAt = nanoTime.getAsLong();
    }

    /** Takes a token if one is there. */
    synchronized boolean tryTake() {
        refill();
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }

    /** Whole seconds until the next token, at least 1: for {@code Retry-After}. */
    synchronized long secondsUntilNext() {
        refill();
        double missing = Math.max(0, 1 - tokens);
        return Math.max(1, (long) Math.ceil(missing / perNano / NANOS_PER_SECOND));
    }

    /** Whether the bucket is full again: its peer has been quiet, so it can be forgotten. */
    synchronized boolean isFull() {
        refill();
        return tokens >= capacity;
    }

    private void refill() {
        long now = nanoTime.getAsLong();
        long elapsed = now - updatedAt;
        if (elapsed > 0) {
            tokens = Math.min(capacity, tokens + elapsed * perNano);
            updatedAt = now;
        }
    }
}
