package io.settler.zerotrust.audit;

import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * An {@link AuditLog} that passes at most {@code limit} events per action and outcome in each
 * window, and counts the rest instead of recording them: a flood of forged tokens or refused
 * handshakes then costs a few log lines, not one per attempt, and nothing is lost silently.
 * When a window with suppressed events is over, the next event of any action first records one
 * {@code audit.suppressed} event per such action, with {@code suppressed_action},
 * {@code suppressed_outcome}, {@code count} and {@code window_seconds}. Thread-safe.
 *
 * <p>Built by {@link AuditLog#limitedTo(int, Duration)}.
 */
final class RateLimitedAuditLog implements AuditLog {

    /** At most this many actions are tracked; beyond it, windows are reset early (fail open, never drop silently). */
    private static final int MAX_TRACKED = 1_024;

    private final AuditLog delegate;
    private final int limit;
    private final long windowMillis;
    private final LongSupplier clockMillis;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    RateLimitedAuditLog(AuditLog delegate, int limit, Duration window, LongSupplier clockMillis) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1; got " + limit);
        }
        Objects.requireNonNull(window, "window");
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("window must be positive; got " + window);
        }
        this.limit = limit;
        this.windowMillis = window.toMillis();
        this.clockMillis = Objects.requireNonNull(clockMillis, "clockMillis");
    }

    @Override
    public void record(AuditEvent event) {
        long now = clockMillis.getAsLong();
        flushEnded(now);
        String key = event.action() + '\u0000' + event.outcome();
        if (windows.size() >= MAX_TRACKED && !windows.containsKey(key)) {
            flushAll();
        }
        Window window = windows.computeIfAbsent(key, k -> new Window(event.action(), event.outcome(), now));
        if (window.admit(now, limit, windowMillis)) {
            delegate.record(event);
        }
    }

    private void flushEnded(long now) {
        for (Iterator<Window> it = windows.values().iterator(); it.hasNext(); ) {
            Window window = it.next();
            long suppressed = window.takeSuppressedIfEnded(now, windowMillis);
            if (suppressed > 0) {
                delegate.record(summary(window, suppressed));
            }
        }
    }

    private void flushAll() {
        for (Iterator<Window> it = windows.values().iterator(); it.hasNext(); ) {
            Window window = it.next();
            long suppressed = window.takeSuppressedIfEnded(Long.MAX_VALUE, windowMillis);
            if (suppressed > 0) {
                delegate.record(summary(window, suppressed));
            }
            it.remove();
        }
    }

    private AuditEvent summary(Window window, long suppressed) {
        return AuditEvent.builder(Instant.ofEpochMilli(clockMillis.getAsLong()), "audit.suppressed", AuditEvent.Outcome.WARNING)
                .field("suppressed_action", window.action)
                .field("suppressed_outcome", window.outcome)
                .field("count", suppressed)
                .field("window_seconds", windowMillis / 1000.0)
                .build();
    }

    @Override
    public String toString() {
        return "RateLimitedAuditLog[" + limit + " per " + windowMillis + " ms per action, to " + delegate + "]";
    }

    /** One action's current window. */
    private static final class Window {
        private final String action;
        private final AuditEvent.Outcome outcome;
        private long start;
        private int passed;
        private long suppressed;

        Window(String action, AuditEvent.Outcome outcome, long start) {
            this.action = action;
            this.outcome = outcome;
            this.start = start;
        }

        synchronized boolean admit(long now, int limit, long windowMillis) {
            if (now - start >= windowMillis) {
                start = now;
                passed = 0;
            }
            if (passed < limit) {
                passed++;
                return true;
            }
            suppressed++;
            return false;
        }

        /** The suppressed count of a window that has ended, which it resets; else 0. */
        synchronized long takeSuppressedIfEnded(long now, long windowMillis) {
            if (suppressed == 0 || now - start < windowMillis) {
                return 0;
            }
            long count = suppressed;
            suppressed = 0;
            return count;
        }
    }
}
