package io.settler.zerotrust.token;

import io.settler.zerotrust.time.Durations;
import io.settler.zerotrust.token.ServiceTokenException.Reason;
import java.time.Duration;
import java.util.Objects;

/**
 * The duration checks of this module's builders: {@link Durations}' rules, refused as a
 * {@link ServiceTokenException}, and durations kept in whole seconds (the unit of token times) or
 * milliseconds rounded up, so a small value never truncates to zero.
 */
final class TokenDurations {

    private TokenDurations() {
    }

    /**
     * {@code value} if positive; otherwise a {@link ServiceTokenException} for {@code reason}.
     *
     * @throws NullPointerException if {@code value} is null
     */
    static Duration positive(Reason reason, String option, Duration value) {
        try {
            return Durations.requirePositive(option, value);
        } catch (IllegalArgumentException e) {
            throw new ServiceTokenException(reason, Objects.requireNonNullElse(e.getMessage(), option + " is invalid"));
        }
    }

    /** {@code value} if positive and at most {@code max}; otherwise a {@link ServiceTokenException}. */
    static Duration between(Reason reason, String option, Duration value, Duration max) {
        try {
            return Durations.requireBetween(option, value, max);
        } catch (IllegalArgumentException e) {
            throw new ServiceTokenException(reason, Objects.requireNonNullElse(e.getMessage(), option + " is invalid"));
        }
    }

    /** {@code value} in whole seconds, rounded up: a token lifetime or skew of 500 ms is one second. */
    static Duration wholeSecondsRoundedUp(Duration value) {
        return Duration.ofSeconds(Durations.toSecondsRoundedUp(value));
    }
}
