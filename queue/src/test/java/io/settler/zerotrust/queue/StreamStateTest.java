package io.settler.zerotrust.queue;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Stream IDs order by time, then sequence, both unsigned numbers, never as text. */
class StreamStateTest {

    @Test
    void ordersStreamIdsNumericallyByTimeThenSequence() {
        assertThat(StreamState.compare("2-0", "10-0")).isNegative();
        assertThat(StreamState.compare("5-10", "5-9")).isPositive();
        assertThat(StreamState.compare("5-1", "5-1")).isZero();
        assertThat(StreamState.compare("0-0", "1-0")).isNegative();
    }

    @Test
    void readsIdsAboveLongMaxAsUnsigned() {
        assertThat(StreamState.compare("18446744073709551615-0", "1-0")).isPositive();
        assertThat(StreamState.compare("1-18446744073709551615", "1-1")).isPositive();
        assertThat(Long.toUnsignedString(StreamState.millis("18446744073709551615-3")))
                .isEqualTo("18446744073709551615");
        assertThat(StreamState.millis("1700000000000-5")).isEqualTo(1_700_000_000_000L);
    }
}
