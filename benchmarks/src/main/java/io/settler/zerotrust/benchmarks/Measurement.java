package io.settler.zerotrust.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

/**
 * The score of one benchmark method for one mode and one combination of {@code @Param}
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

    /**
     * Extracts the scores of a JMH run: its primary result, or for a group of methods measured side by
     * side ({@code @Group}) each method's own result, named {@code <class>.<method>} like a method
     * measured alone.
     */
    static List<Measurement> from(RunResult run) {
        BenchmarkParams params = run.getParams();
        Map<String, String> values = new TreeMap<>();
        for (String key : params.getParamsKeys()) {
            values.put(key, params.getParam(key));
        }
        Map<String, Result<?>> secondary = new TreeMap<>();
        run.getSecondaryResults().forEach(secondary::put);
        return of(params.getBenchmark(), List.copyOf(params.getThreadGroupLabels()), params.getMode(), values,
                run.getPrimaryResult(), secondary);
    }

    /**
     * {@link #from}, on the parts of a run: {@code benchmark} is the method or group JMH ran,
     * {@code methods} the methods it measured, {@code secondary} the results by label (a group's
     * methods report theirs there).
     */
    static List<Measurement> of(String benchmark, List<String> methods, Mode mode, Map<String, String> params,
                                Result<?> primary, Map<String, Result<?>> secondary) {
        if (methods.size() <= 1) {
            return List.of(new Measurement(benchmark, mode, params,
                    primary.getScore(), primary.getScoreError(), primary.getScoreUnit()));
        }
        String className = benchmark.substring(0, Math.max(0, benchmark.lastIndexOf('.')));
        List<Measurement> measurements = new ArrayList<>();
        for (String method : methods) {
            Result<?> result = secondary.get(method);
            if (result == null) {
                throw new IllegalStateException(benchmark + " has no result for its method " + method);
            }
            measurements.add(new Measurement(className + "." + method, mode, params,
                    result.getScore(), result.getScoreError(), result.getScoreUnit()));
        }
        return List.copyOf(measurements);
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
