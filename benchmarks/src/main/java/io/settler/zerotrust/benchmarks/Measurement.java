package io.settler.zerotrust.benchmarks;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

/**
 * The primary score of one benchmark method for one mode and one combination of {@code @Param}
 * values: the part of a JMH {@link RunResult} that the comparison needs.
 *
 * @param benchmark the fully qualified method, e.g.
 *     {@code io.settler.zerotrust.benchmarks.pki.LeafIssuanceBenchmark.baseline}
 * @param mode the JMH mode it was measured in
 * @param params the {@code @Param} values, by name; empty when the class has none
 * @param score the mean score
 * @param error the half-width of JMH's 99.9% confidence interval; {@code NaN} when too few samples
 * @param unit the score's unit, e.g. {@code us/op} or {@code ops/s}
 */
record Measurement(String benchmark, Mode mode, Map<String, String> params, double score, double error, String unit) {

    Measurement {
        Objects.requireNonNull(benchmark, "benchmark");
        Objects.requireNonNull(mode, "mode");
        params = Map.copyOf(params);
        Objects.requireNonNull(unit, "unit");
        if (benchmark.lastIndexOf('.') <= 0) {
            throw new IllegalArgumentException("benchmark must be <class>.<method>, got " + benchmark);
        }
    }

    /** Extracts the primary result of a JMH run. */
    static Measurement from(RunResult run) {
        BenchmarkParams params = run.getParams();
        Map<String, String> values = new TreeMap<>();
        for (String key : params.getParamsKeys()) {
            values.put(key, params.getParam(key));
        }
        Result<?> primary = run.getPrimaryResult();
        return new Measurement(params.getBenchmark(), params.getMode(), values,
                primary.getScore(), primary.getScoreError(), primary.getScoreUnit());
    }

    /** The fully qualified benchmark class. */
    String className() {
        return benchmark.substring(0, benchmark.lastIndexOf('.'));
    }

    /** The benchmark method's name. */
    String method() {
        return benchmark.substring(benchmark.lastIndexOf('.') + 1);
    }
}
