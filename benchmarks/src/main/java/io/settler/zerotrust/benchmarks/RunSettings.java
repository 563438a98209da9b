package io.settler.zerotrust.benchmarks;

import io.settler.zerotrust.benchmarks.BenchmarkException.Reason;
import java.util.Map;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * How long and how often to measure, sized for a 2-core machine: 1 fork, 5 warmup iterations of
 * 2 s, 5 measured iterations of 2 s (certificate issuance still gets faster until about the fourth
 * 2 s warmup iteration). Each can be changed by an environment variable or by the matching JMH flag,
 * and the flag wins.
 *
 * @param forks JVMs forked per benchmark ({@code BENCH_FORKS}, flag {@code -f}); 0 runs in this JVM
 * @param warmupIterations ({@code BENCH_WARMUP_ITERATIONS}, flag {@code -wi})
 * @param warmupSeconds per warmup iteration ({@code BENCH_WARMUP_SECONDS}, flag {@code -w})
 * @param iterations measured iterations ({@code BENCH_ITERATIONS}, flag {@code -i})
 * @param iterationSeconds per measured iteration ({@code BENCH_ITERATION_SECONDS}, flag {@code -r})
 */
record RunSettings(int forks, int warmupIterations, int warmupSeconds, int iterations, int iterationSeconds) {

    static final String FORKS = "BENCH_FORKS";
    static final String WARMUP_ITERATIONS = "BENCH_WARMUP_ITERATIONS";
    static final String WARMUP_SECONDS = "BENCH_WARMUP_SECONDS";
    static final String ITERATIONS = "BENCH_ITERATIONS";
    static final String ITERATION_SECONDS = "BENCH_ITERATION_SECONDS";

    /** The defaults when no variable is set. */
    static final RunSettings DEFAULTS = new RunSettings(1, 5, 2, 5, 2);

    RunSettings {
        atLeast(FORKS, forks, 0);
        atLeast(WARMUP_ITERATIONS, warmupIterations, 0);
        atLeast(WARMUP_SECONDS, warmupSeconds, 1);
        atLeast(ITERATIONS, iterations, 1);
        atLeast(ITERATION_SECONDS, iterationSeconds, 1);
    }

    /**
     * The defaults, changed by whichever {@code BENCH_*} variables are set.
     *
     * @throws BenchmarkException if a variable is not a whole number in range
     */
    static RunSettings fromEnvironment(Map<String, String> environment) {
        return new RunSettings(
                read(environment, FORKS, DEFAULTS.forks),
                read(environment, WARMUP_ITERATIONS, DEFAULTS.warmupIterations),
                read(environment, WARMUP_SECONDS, DEFAULTS.warmupSeconds),
                read(environment, ITERATIONS, DEFAULTS.iterations),
                read(environment, ITERATION_SECONDS, DEFAULTS.iterationSeconds));
    }

    /** Sets each setting on {@code builder} unless {@code commandLine} already gives it. */
    void applyTo(ChainedOptionsBuilder builder, Options commandLine) {
        if (!commandLine.getForkCount().hasValue()) {
            builder.forks(forks);
        }
        if (!commandLine.getWarmupIterations().hasValue()) {
            builder.warmupIterations(warmupIterations);
        }
        if (!commandLine.getWarmupTime().hasValue()) {
            builder.warmupTime(TimeValue.seconds(warmupSeconds));
        }
        if (!commandLine.getMeasurementIterations().hasValue()) {
            builder.measurementIterations(iterations);
        }
        if (!commandLine.getMeasurementTime().hasValue()) {
            builder.measurementTime(TimeValue.seconds(iterationSeconds));
        }
    }

    /** E.g. {@code 1 fork, warmup 5 x 2 s, measurement 5 x 2 s}. */
    String describe() {
        return forks + (forks == 1 ? " fork" : " forks") + ", warmup " + warmupIterations + " x " + warmupSeconds
                + " s, measurement " + iterations + " x " + iterationSeconds + " s";
    }

    private static int read(Map<String, String> environment, String name, int fallback) {
        String value = environment.get(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new BenchmarkException(Reason.BAD_SETTING, name + " must be a whole number, got '" + value + "'", e);
        }
    }

    private static void atLeast(String name, int value, int minimum) {
        if (value < minimum) {
            throw new BenchmarkException(Reason.BAD_SETTING, name + " must be at least " + minimum + ", got " + value);
        }
    }
}
