package io.settler.zerotrust.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void roundsSubUnitDurationsUpNotDownToZero() {
        assertThat(Durations.toSecondsRoundedUp(Duration.ofMillis(500))).isEqualTo(1);
        assertThat(Durations.toSecondsRoundedUp(Duration.ofMillis(1_001))).isEqualTo(2);
        assertThat(Durations.toSecondsRoundedUp(Duration.ofSeconds(3))).isEqualTo(3);
        assertThat(Durations.toMillisRoundedUp(Duration.ofNanos(1))).isEqualTo(1);
        assertThat(Durations.toMillisRoundedUp(Duration.ofMillis(250))).isEqualTo(250);
        assertThat(Durations.toIntMillisRoundedUp(Duration.ofNanos(1_500_000))).isEqualTo(2);
    }

    @Test
    void saturatesHugeDurations() {
        assertThat(Durations.toMillisRoundedUp(Duration.ofSeconds(Long.MAX_VALUE))).isEqualTo(Long.MAX_VALUE);
        assertThat(Durations.toIntMillisRoundedUp(Duration.ofDays(365))).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void refusesZeroNegativeAndMissingDurationsNamingTheOption() {
        assertThatThrownBy(() -> Durations.requirePositive("statementTimeout", Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("statementTimeout");
        assertThatThrownBy(() -> Durations.requirePositive("idleTimeout", Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("idleTimeout");
        assertThatThrownBy(() -> Durations.requirePositive("readTimeout", null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("readTimeout");
        assertThatThrownBy(() -> Durations.requireBetween("skew", Duration.ofMinutes(10), Duration.ofMinutes(5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most PT5M");
        assertThat(Durations.requireBetween("skew", Duration.ofMinutes(1), Duration.ofMinutes(5)))
                .isEqualTo(Duration.ofMinutes(1));
    }
}
