package io.settler.zerotrust.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ResultRole;
import org.openjdk.jmh.results.ThroughputResult;

class MeasurementTest {

    private static final String CLASS = "a.b.SideBySideBenchmark";
    private static final long ONE_SECOND = TimeUnit.SECONDS.toNanos(1);

    @Test
    void aMethodMeasuredAloneIsItsPrimaryResult() {
        List<Measurement> measurements = Measurement.of(CLASS + ".ours", List.of("ours"), Mode.Throughput,
                Map.of("key", "EC"), throughput(ResultRole.PRIMARY, "ours", 500), Map.of());

        assertThat(measurements).extracting(Measurement::benchmark, Measurement::score, Measurement::params)
                .containsExactly(tuple(CLASS + ".ours", 500.0, Map.of("key", "EC")));
    }

    @Test
    void eachMethodOfAGroupIsMeasuredAsIfAloneSoItPairsWithTheGroupsBaseline() {
        Map<String, Result<?>> secondary = Map.of(
                "baseline", throughput(ResultRole.SECONDARY, "baseline", 1000),
                "ours", throughput(ResultRole.SECONDARY, "ours", 900),
                "gc.count", throughput(ResultRole.SECONDARY, "gc.count", 3));
        List<Measurement> measurements = Measurement.of(CLASS + ".requests", List.of("baseline", "ours"),
                Mode.Throughput, Map.of(), throughput(ResultRole.PRIMARY, "requests", 1900), secondary);

        assertThat(measurements).extracting(Measurement::benchmark, Measurement::score)
                .containsExactly(tuple(CLASS + ".baseline", 1000.0), tuple(CLASS + ".ours", 900.0));
        assertThat(ComparisonTable.pair(measurements)).singleElement()
                .satisfies(c -> assertThat(c.ratio()).isEqualTo(0.9));
    }

    @Test
    void aGroupMethodWithoutAResultIsAnErrorNotASilentGap() {
        assertThatThrownBy(() -> Measurement.of(CLASS + ".requests", List.of("baseline", "ours"), Mode.Throughput,
                Map.of(), throughput(ResultRole.PRIMARY, "requests", 1900),
                Map.of("baseline", throughput(ResultRole.SECONDARY, "baseline", 1000))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no result for its method ours");
    }

    private static ThroughputResult throughput(ResultRole role, String label, double operationsPerSecond) {
        return new ThroughputResult(role, label, operationsPerSecond, ONE_SECOND, TimeUnit.SECONDS);
    }
}
