package io.settler.zerotrust.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock a test moves by hand: give it to the code under test ({@code .clock(clock)}), then
 * {@link #advance} or {@link #set} it to reach an expiry, a cache lifetime or a renewal point
 * without waiting. It stands still otherwise. Zone UTC.
 *
 * <p>Thread-safe: the test may move it while other threads read it; every reader sees the latest
 * instant set.
 */
public final class MutableClock extends Clock {

    private final AtomicReference<Instant> now;
    private final ZoneId zone;

    /**
     * A clock at the current time, truncated to whole seconds: token and certificate times are
     * whole seconds, so the instants a test computes from this clock match them exactly.
     */
    public MutableClock() {
        this(Instant.ofEpochSecond(Instant.now().getEpochSecond()));
    }

    /** A clock at {@code start}. */
    public MutableClock(Instant start) {
        this(new AtomicReference<>(Objects.requireNonNull(start, "start")), ZoneOffset.UTC);
    }

    private MutableClock(AtomicReference<Instant> now, ZoneId zone) {
        this.now = now;
        this.zone = zone;
    }

    /** Moves the clock to {@code instant}, forwards or back. */
    public void set(Instant instant) {
        now.set(Objects.requireNonNull(instant, "instant"));
    }

    /** Moves the clock by {@code duration} (back, if negative), and returns the new instant. */
    public Instant advance(Duration duration) {
        Objects.requireNonNull(duration, "duration");
        return now.updateAndGet(instant -> instant.plus(duration));
    }

    @Override
    public Instant instant() {
        return Objects.requireNonNull(now.get(), "never set to null");
    }

    @Override
    public ZoneId getZone() {
        return zone;
    }

    /** This clock seen in another zone: the same instant, which moves when this one does. */
    @Override
    public Clock withZone(ZoneId zone) {
        Objects.requireNonNull(zone, "zone");
        return zone.equals(this.zone) ? this : new MutableClock(now, zone);
    }

    @Override
    public String toString() {
        return "MutableClock[" + instant() + "," + zone + "]";
    }
}
