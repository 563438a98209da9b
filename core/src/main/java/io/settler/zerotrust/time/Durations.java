package io.settler.zerotrust.time;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Checks for the durations builders take, and conversions that never turn a small duration into
 * zero. Many APIs read zero as "no limit" ({@code SSLSessionContext}, socket timeouts, Redis
 * timeouts), so a 500 ms timeout truncated to whole seconds would silently mean "forever":
 * {@link #toSecondsRoundedUp(Duration)} and friends round up instead.
 */
public final class Durations {

    private Durations() {
    }

    /**
     * Returns {@code value} if it is positive.
     *
     * @param option the builder option, named in the message (e.g. {@code "statementTimeout"})
     * @throws NullPointerException if {@code value} is null
     * @throws IllegalArgumentException if {@code value} is zero or negative
     */
    public static Duration requirePositive(String option, Duration value) {
        Objects.requireNonNull(value, option);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(option + " must be positive; got " + value);
        }
        return value;
    }

    /**
     * Returns {@code value} if it is positive and at most {@code max}.
     *
     * @throws IllegalArgumentException if {@code value} is zero, negative or above {@code max}
     */
    public static Duration requireBetween(String option, Duration value, Duration max) {
        requirePositive(option, value);
        if (value.compareTo(max) > 0) {
            throw new IllegalArgumentException(option + " must be at most " + max + "; got " + value);
        }
        return value;
    }

    /** Whole milliseconds, rounded up: positive durations give at least 1, huge ones saturate. */
    public static long toMillisRoundedUp(Duration value) {
        return roundedUp(value, TimeUnit.MILLISECONDS);
    }

    /** Whole seconds, rounded up: positive durations give at least 1, huge ones saturate. */
    public static long toSecondsRoundedUp(Duration value) {
        return roundedUp(value, TimeUnit.SECONDS);
    }

    /** Whole milliseconds as an {@code int} (for socket and driver options), rounded up and saturated. */
    public static int toIntMillisRoundedUp(Duration value) {
        return (int) Math.min(Integer.MAX_VALUE, toMillisRoundedUp(value));
    }

    private static long roundedUp(Duration value, TimeUnit unit) {
        Objects.requireNonNull(value, "value");
        long nanosPerUnit = unit.toNanos(1);
        long seconds = value.getSeconds();
        long unitsPerSecond = TimeUnit.SECONDS.toNanos(1) / nanosPerUnit;
        if (seconds >= Long.MAX_VALUE / unitsPerSecond) {
            return Long.MAX_VALUE;
        }
        long whole = seconds * unitsPerSecond + value.getNano() / nanosPerUnit;
        return value.getNano() % nanosPerUnit == 0 ? whole : whole + 1;
    }
}
