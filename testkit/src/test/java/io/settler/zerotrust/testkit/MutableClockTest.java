package io.settler.zerotrust.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The clock stands still until the test moves it, and every reader sees the move. */
class MutableClockTest {

    private static final Instant START = Instant.parse("2030-01-01T00:00:00Z");

    @Test
    void standsStillUntilMoved() {
        MutableClock clock = new MutableClock(START);

        assertThat(clock.instant()).isEqualTo(START);
        assertThat(clock.millis()).isEqualTo(START.toEpochMilli());
        assertThat(clock.getZone()).isEqualTo(ZoneOffset.UTC);
    }

    @Test
    void advancesAndIsSet() {
        MutableClock clock = new MutableClock(START);

        assertThat(clock.advance(Duration.ofMinutes(5))).isEqualTo(START.plusSeconds(300));
        assertThat(clock.instant()).isEqualTo(START.plusSeconds(300));
        clock.advance(Duration.ofSeconds(-30));
        assertThat(clock.instant()).isEqualTo(START.plusSeconds(270));
        clock.set(START.minusSeconds(1));
        assertThat(clock.instant()).isEqualTo(START.minusSeconds(1));
    }

    @Test
    void startsNowOnAWholeSecond() {
        Instant before = Instant.now();
        MutableClock clock = new MutableClock();
        Instant after = Instant.now();

        assertThat(clock.instant().getNano()).isZero();
        assertThat(clock.instant()).isBetween(before.minusSeconds(1), after);
    }

    @Test
    void anotherZoneSeesTheSameMovingInstant() {
        MutableClock clock = new MutableClock(START);
        ZoneId paris = ZoneId.of("Europe/Paris");

        Clock inParis = clock.withZone(paris);
        clock.advance(Duration.ofHours(1));

        assertThat(inParis.getZone()).isEqualTo(paris);
        assertThat(inParis.instant()).isEqualTo(START.plusSeconds(3600));
        assertThat(clock.withZone(ZoneOffset.UTC)).isSameAs(clock);
    }

    @Test
    void concurrentAdvancesAllCount() throws Exception {
        MutableClock clock = new MutableClock(START);
        int threads = 4;
        int perThread = 1_000;
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(executor.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        clock.advance(Duration.ofMillis(1));
                    }
                }));
            }
            for (Future<?> future : done) {
                future.get(30, TimeUnit.SECONDS);
            }
        } finally {
            executor.shutdownNow();
        }

        assertThat(clock.instant()).isEqualTo(START.plusMillis((long) threads * perThread));
    }
}
