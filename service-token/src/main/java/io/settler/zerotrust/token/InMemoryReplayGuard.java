package io.settler.zerotrust.token;

import java.time.Clock;
import java.time.Instant;
import java.util.Objects;

/**
 * A bounded in-process {@link ReplayGuard}. When it holds {@code capacity} unexpired entries it
 * fails closed: further new tokens are treated as replays until entries expire, so a flood cannot
 * make it forget. Size it above (tokens accepted per second) x (token lifetime in seconds).
 */
public final class InMemoryReplayGuard implements ReplayGuard {

    private record Use(String issuer, String jti) {
    }

    private final ExpiringMap<Use, Boolean> uses;
    private final Clock clock;

    private InMemoryReplayGuard(int capacity, Clock clock) {
        this.uses = new ExpiringMap<>(capacity);
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** A guard for at most {@code capacity} live tokens, on the system clock. */
    public static InMemoryReplayGuard create(int capacity) {
        return create(capacity, Clock.systemUTC());
    }

    /** A guard for at most {@code capacity} live tokens, on the given clock. */
    public static InMemoryReplayGuard create(int capacity, Clock clock) {
        if (capacity < 1) {
            throw new ServiceTokenException(ServiceTokenException.Reason.INVALID_SETTING,
                    "a replay guard needs a capacity of at least 1; got " + capacity);
        }
        return new InMemoryReplayGuard(capacity, clock);
    }

    @Override
    public boolean firstUse(String issuer, String jti, Instant expiresAt) {
        return uses.putIfAbsent(new Use(issuer, jti), Boolean.TRUE, expiresAt.getEpochSecond(),
                clock.instant().getEpochSecond()) == ExpiringMap.Insert.ADDED;
    }

    /** {@code false}: an in-process map, no I/O, so it is checked even on an event loop. */
    @Override
    public boolean mayBlock() {
        return false;
    }
}
