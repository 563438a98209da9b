package io.settler.zerotrust.benchmarks;

import java.util.Objects;
import org.openjdk.jmh.annotations.Mode;

/**
 * One benchmark method beside its class's {@code baseline}, for the same mode and {@code @Param}
 * values, from the same run.
 *
 * @param baseline the reference implementation's measurement
 * @param ours the measurement compared with it
 */
record Comparison(Measurement baseline, Measurement ours) {

    /** How the two confidence intervals relate. */
    enum Verdict {
        FASTER("faster"),
        SLOWER("slower"),
        WITHIN_ERROR("within error"),
        ERROR_UNKNOWN("error unknown");

        private final String label;

        Verdict(String label) {
            this.label = label;
        }

        String label() {
            return label;
        }
    }

    Comparison {
        Objects.requireNonNull(baseline, "baseline");
        Objects.requireNonNull(ours, "ours");
    }

    /** Whether a larger score is better: true for throughput (ops per time), false for time per op. */
    boolean higherIsBetter() {
        return ours.mode() == Mode.Throughput;
    }

    /**
     * How many times faster ours is than the baseline: above 1 ours is faster, below 1 slower,
     * whatever the mode ({@code ours / baseline} for throughput, {@code baseline / ours} for time per op).
     */
    double ratio() {
        return higherIsBetter() ? ours.score() / baseline.score() : baseline.score() / ours.score();
    }

    /** Faster or slower only when the 99.9% confidence intervals do not overlap. */
    Verdict verdict() {
        if (Double.isNaN(ours.error()) || Double.isNaN(baseline.error())) {
            return Verdict.ERROR_UNKNOWN;
        }
        if (Math.abs(ours.score() - baseline.score()) <= ours.error() + baseline.error()) {
            return Verdict.WITHIN_ERROR;
        }
        return ratio() > 1 ? Verdict.FASTER : Verdict.SLOWER;
    }
}
