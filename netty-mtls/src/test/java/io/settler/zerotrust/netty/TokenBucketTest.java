package io.settler.zerotrust.netty;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The bucket against a hand-moved clock: no timing. */
class TokenBucketTest {

    private final AtomicLong nanos = new AtomicLong();
    private final TokenBucket bucket = new TokenBucket(3, 2, nanos::get);

    @Test
    void allowsBurstThenRefusesFlood() {
        assertThat(bucket.tryTake()).isTrue();
        assertThat(bucket.tryTake()).isTrue();
        assertThat(bucket.tryTake()).isTrue();
        assertThat(bucket.tryTake()).isFalse();
        assertThat(bucket.secondsUntilNext()).isEqualTo(1);
    }

    @Test
    void refillsAtTheSustainedRateButNeverBeyondTheBurst() {
        for (int i = 0; i < 3; i++) {
            bucket.tryTake();
        }
        nanos.addAndGet(500_000_000L); // half a second at 2/s: one token
        assertThat(bucket.tryTake()).isTrue();
        assertThat(bucket.tryTake()).isFalse();
        nanos.addAndGet(3_600_000_000_000L); // an hour later: full, not 7200 tokens
        assertThat(bucket.isFull()).isTrue();
        assertThat(bucket.tryTake()).isTrue();
        assertThat(bucket.tryTake()).isTrue();
        assertThat(bucket.tryTake()).isTrue();
        assertThat(bucket.tryTake()).isFalse();
    }

    @Test
    void retryAfterCoversSlowRates() {
        TokenBucket slow = new TokenBucket(1, 0.1, nanos::get);
        assertThat(slow.tryTake()).isTrue();
        assertThat(slow.tryTake()).isFalse();
        assertThat(slow.secondsUntilNext()).isEqualTo(10);
    }
}
