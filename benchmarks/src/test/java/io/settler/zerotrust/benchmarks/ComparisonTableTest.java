package io.settler.zerotrust.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.settler.zerotrust.benchmarks.BenchmarkException.Reason;
import io.settler.zerotrust.benchmarks.Comparison.Verdict;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Mode;

class ComparisonTableTest {

    private static final String ISSUE = "a.b.IssueBenchmark.";
    private static final String PARSE = "a.b.ParseBenchmark.";

    @Test
    void pairsEveryMethodWithItsClassBaseline() {
        List<Comparison> pairs = ComparisonTable.pair(List.of(
                time(ISSUE + "viaBuilder", 90, 1),
                time(PARSE + "baseline", 10, 1),
                time(ISSUE + "baseline", 100, 1),
                time(ISSUE + "viaCache", 50, 1),
                time(PARSE + "ours", 20, 1)));

        assertThat(pairs).extracting(c -> c.baseline().benchmark(), c -> c.ours().benchmark())
                .containsExactly(
                        tuple(ISSUE + "baseline", ISSUE + "viaBuilder"),
                        tuple(ISSUE + "baseline", ISSUE + "viaCache"),
                        tuple(PARSE + "baseline", PARSE + "ours"));
    }

    @Test
    void pairsPerParameterCombinationAndMode() {
        List<Comparison> pairs = ComparisonTable.pair(List.of(
                measured(ISSUE + "baseline", Mode.AverageTime, Map.of("key", "EC"), 100, 1, "us/op"),
                measured(ISSUE + "baseline", Mode.AverageTime, Map.of("key", "RSA"), 900, 1, "us/op"),
                measured(ISSUE + "baseline", Mode.Throughput, Map.of("key", "EC"), 10, 1, "ops/ms"),
                measured(ISSUE + "ours", Mode.AverageTime, Map.of("key", "RSA"), 300, 1, "us/op"),
                measured(ISSUE + "ours", Mode.AverageTime, Map.of("key", "EC"), 200, 1, "us/op"),
                measured(ISSUE + "ours", Mode.Throughput, Map.of("key", "EC"), 5, 1, "ops/ms")));

        assertThat(pairs).hasSize(3).allSatisfy(c -> {
            assertThat(c.ours().params()).isEqualTo(c.baseline().params());
            assertThat(c.ours().mode()).isEqualTo(c.baseline().mode());
        });
        assertThat(pairs).extracting(Comparison::ratio).containsExactly(0.5, 3.0, 0.5);
    }

    @Test
    void timePerOperationRatioIsBaselineOverOursSoAboveOneIsFaster() {
        Comparison c = ComparisonTable.pair(List.of(time(ISSUE + "baseline", 200, 5), time(ISSUE + "ours", 100, 5)))
                .get(0);

        assertThat(c.higherIsBetter()).isFalse();
        assertThat(c.ratio()).isEqualTo(2.0);
        assertThat(c.verdict()).isEqualTo(Verdict.FASTER);
    }

    @Test
    void throughputRatioIsOursOverBaselineSoAboveOneIsFaster() {
        Comparison c = ComparisonTable.pair(List.of(
                measured(ISSUE + "baseline", Mode.Throughput, Map.of(), 1000, 10, "ops/s"),
                measured(ISSUE + "ours", Mode.Throughput, Map.of(), 250, 10, "ops/s"))).get(0);

        assertThat(c.higherIsBetter()).isTrue();
        assertThat(c.ratio()).isEqualTo(0.25);
        assertThat(c.verdict()).isEqualTo(Verdict.SLOWER);
    }

    @Test
    void overlappingConfidenceIntervalsShowNoDifference() {
        Comparison c = ComparisonTable.pair(List.of(time(ISSUE + "baseline", 100, 6), time(ISSUE + "ours", 110, 4)))
                .get(0);

        assertThat(c.verdict()).isEqualTo(Verdict.WITHIN_ERROR);
    }

    @Test
    void missingErrorBarIsReportedAsUnknown() {
        Comparison c = ComparisonTable.pair(
                List.of(time(ISSUE + "baseline", 100, Double.NaN), time(ISSUE + "ours", 10, 1))).get(0);

        assertThat(c.verdict()).isEqualTo(Verdict.ERROR_UNKNOWN);
    }

    @Test
    void refusesClassWithoutBaselineMethod() {
        assertThatThrownBy(() -> ComparisonTable.pair(List.of(
                time(ISSUE + "baseline", 100, 1), time(ISSUE + "ours", 90, 1), time(PARSE + "ours", 10, 1))))
                .isInstanceOfSatisfying(BenchmarkException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.NO_BASELINE))
                .hasMessageContaining("a.b.ParseBenchmark has no @Benchmark method named 'baseline'");

        assertThatThrownBy(
                () -> ComparisonTable.requireBaselines(List.of(ISSUE + "baseline", ISSUE + "ours", PARSE + "ours")))
                .isInstanceOfSatisfying(BenchmarkException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.NO_BASELINE))
                .hasMessageContaining("a.b.ParseBenchmark");
    }

    @Test
    void refusesParameterCombinationWhoseBaselineDidNotRun() {
        assertThatThrownBy(() -> ComparisonTable.pair(List.of(
                measured(ISSUE + "baseline", Mode.AverageTime, Map.of("key", "EC"), 100, 1, "us/op"),
                measured(ISSUE + "ours", Mode.AverageTime, Map.of("key", "EC"), 100, 1, "us/op"),
                measured(ISSUE + "ours", Mode.AverageTime, Map.of("key", "RSA"), 100, 1, "us/op"))))
                .isInstanceOfSatisfying(BenchmarkException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.NO_BASELINE))
                .hasMessageContaining("{key=RSA}");
    }

    @Test
    void refusesClassWithNothingToCompare() {
        assertThatThrownBy(() -> ComparisonTable.pair(List.of(time(ISSUE + "baseline", 100, 1))))
                .isInstanceOfSatisfying(BenchmarkException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.NOTHING_TO_COMPARE));
        assertThatThrownBy(() -> ComparisonTable.requireBaselines(List.of(ISSUE + "baseline")))
                .isInstanceOfSatisfying(BenchmarkException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.NOTHING_TO_COMPARE));
    }

    @Test
    void refusesToCompareScoresInDifferentUnits() {
        assertThatThrownBy(() -> ComparisonTable.pair(List.of(
                measured(ISSUE + "baseline", Mode.AverageTime, Map.of(), 100, 1, "us/op"),
                measured(ISSUE + "ours", Mode.AverageTime, Map.of(), 100_000, 1, "ns/op"))))
                .isInstanceOfSatisfying(BenchmarkException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.UNIT_MISMATCH))
                .hasMessageContaining("IssueBenchmark.ours reports ns/op but its baseline reports us/op");
    }

    @Test
    void acceptsClassesThatFollowTheConvention() {
        ComparisonTable.requireBaselines(List.of(ISSUE + "baseline", ISSUE + "ours", PARSE + "baseline", PARSE + "a",
                PARSE + "b"));
    }

    @Test
    void rendersAlignedTableWithReadingInstructions() {
        String table = ComparisonTable.render(ComparisonTable.pair(List.of(
                time(ISSUE + "baseline", 2162.226, 35.5),
                time(ISSUE + "devCertificateAuthority", 1057.9, 20.04),
                measured(PARSE + "baseline", Mode.Throughput, Map.of(), 12.3456, 0.5, "ops/us"),
                measured(PARSE + "ours", Mode.Throughput, Map.of(), 12.5, Double.NaN, "ops/us"))));

        assertThat(table).isEqualTo("""
                Each method beside its class's baseline from this run; scores are mean ± 99.9% confidence half-width.
                ratio > 1.00: ours is faster; < 1.00: ours is slower \
                (ours/baseline for ops per time, baseline/ours for time per op).
                "within error": the two intervals overlap, so no difference is shown.

                benchmark                                   baseline       ours  unit    ratio  verdict
                IssueBenchmark.devCertificateAuthority     2162 ± 36  1058 ± 20  us/op   2.04x  faster
                ParseBenchmark.ours                     12.35 ± 0.50  12.50 ± ?  ops/us  1.01x  error unknown
                """);
    }

    @Test
    void rendersParamsColumnWhenAnyBenchmarkHasParams() {
        String table = ComparisonTable.render(ComparisonTable.pair(List.of(
                measured(ISSUE + "baseline", Mode.AverageTime, Map.of("size", "10", "key", "EC"), 4, 0.1, "us/op"),
                measured(ISSUE + "ours", Mode.AverageTime, Map.of("size", "10", "key", "EC"), 8, 0.1, "us/op"))));

        assertThat(table.lines().filter(line -> line.startsWith("IssueBenchmark")))
                .containsExactly(
                        "IssueBenchmark.ours  key=EC,size=10  4.000 ± 0.100  8.000 ± 0.100  us/op  0.50x  slower");
        assertThat(table).contains("benchmark            params ");
    }

    @Test
    void formatsScoresToFourSignificantDigits() {
        assertThat(ComparisonTable.scoreWithError(time(ISSUE + "x", 123_456.7, 1_234.5))).isEqualTo("123457 ± 1235");
        assertThat(ComparisonTable.scoreWithError(time(ISSUE + "x", 0.012345, 0.0001))).isEqualTo("0.01235 ± 0.00010");
        assertThat(ComparisonTable.scoreWithError(time(ISSUE + "x", 0, 0))).isEqualTo("0.000 ± 0.000");
    }

    private static Measurement time(String benchmark, double score, double error) {
        return measured(benchmark, Mode.AverageTime, Map.of(), score, error, "us/op");
    }

    private static Measurement measured(String benchmark, Mode mode, Map<String, String> params, double score,
                                        double error, String unit) {
        return new Measurement(benchmark, mode, params, score, error, unit);
    }
}
