package io.settler.zerotrust.benchmarks;

import java.util.Objects;

/** Why a benchmark run cannot produce a trustworthy comparison; the message says what to fix. */
final class BenchmarkException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    enum Reason {
        /** A benchmark class, or one of its parameter combinations, has no {@code baseline} result. */
        NO_BASELINE,
        /** A benchmark class has a {@code baseline} and nothing to compare with it. */
        NOTHING_TO_COMPARE,
        /** A method and its baseline report in different units, so their scores cannot be compared. */
        UNIT_MISMATCH,
        /** The include pattern matches no benchmark. */
        NO_MATCH,
        /** A benchmark threw, or JMH could not run it. */
        BENCHMARK_FAILED,
        /** An environment variable or argument has a value the runner cannot use. */
        BAD_SETTING
    }

    private final Reason reason;

    BenchmarkException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    BenchmarkException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    Reason reason() {
        return reason;
    }
}
