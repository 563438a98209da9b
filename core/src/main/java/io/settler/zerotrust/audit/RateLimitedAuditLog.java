package io.settler.zerotrust.audit;

import io.settler.zerotrust.network.Cidr;
import io.settler.zerotrust.network.IpAddressLiteral;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * An {@link AuditLog} that passes at most {@code limit} events per bucket in each window, and
 * counts the rest instead of recording them: a flood of forged tokens or refused handshakes then
 * costs a few log lines, not one per attempt, and nothing is lost silently.
 *
 * <p>A bucket is an event's action, outcome, {@code reason} field and source: the network its
 * {@code remote} field lies in (IPv4 /24, IPv6 /64; {@code unknown} without an address). Junk
 * connections from one place use up their own bucket only, never the allowance of another reason
 * or another source. An event marked {@link AuditEvent#authenticatedPeer()} (the refusal of a peer
 * whose certificate chains to the trust bundle) is always recorded and uses up no bucket.
 *
 * <p>Memory is bounded: a bucket is dropped when its window ends, and at most
 * {@value #MAX_BUCKETS} are tracked. When all are in use, an event of a new source shares the
 * bucket of its action, outcome and reason with source {@value #OTHER} (at most
 * {@value #FOLDED_BUCKETS} more of those) and, beyond that, the bucket of its action and outcome
 * (reason {@value #OTHER}): a flood from many addresses cannot grow the table, and still cannot use
 * up the buckets already tracked.
 *
 * <p>When a bucket's window with suppressed events is over, the next event of any kind first
 * records one {@code audit.suppressed} event (WARNING) for it, with {@code suppressed_action},
 * {@code suppressed_outcome}, {@code suppressed_reason}, {@code suppressed_source}, {@code count}
 * and {@code window_seconds}. Thread-safe.
 *
 * <p>Built by {@link AuditLog#limitedTo(int, Duration)}.
 */
final class RateLimitedAuditLog implements AuditLog {

    /** At most this many buckets of one source are tracked at once. */
    static final int MAX_BUCKETS = 512;
    /**
     * Room beyond {@link #MAX_BUCKETS} for the buckets of sources folded together (one per action,
     * outcome and reason); beyond it, one per action and outcome.
     */
    static final int FOLDED_BUCKETS = 64;
    /** The reason or source of events folded together once {@value #MAX_BUCKETS} buckets are in use. */
    static final String OTHER = "other";

    private final AuditLog delegate;
    private final int limit;
    private final long windowMillis;
    private final LongSupplier clockMillis;
    private final Map<Bucket, Window> windows = new ConcurrentHashMap<>();
    /** The earliest end of a tracked window; no window needs closing before it. */
    private final AtomicLong nextEnd = new AtomicLong(Long.MAX_VALUE);

    RateLimitedAuditLog(AuditLog delegate, int limit, Duration window) {
        this(delegate, limit, window, delegate.clock()::millis);
    }

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
    public Clock clock() {
        return delegate.clock();
    }

    @Override
    public boolean records(AuditAction action) {
        return delegate.records(action);
    }

    @Override
    public void record(AuditEvent event) {
        long now = clockMillis.getAsLong();
        closeEnded(now);
        if (event.authenticatedPeer()) {
            delegate.record(event);
            return;
        }
        Bucket bucket = Bucket.of(event);
        while (true) {
            Window window = windowFor(bucket, now);
            switch (window.admit(now, limit, windowMillis)) {
                case PASSED -> {
                    delegate.record(event);
                    return;
                }
                case HELD -> {
                    return;
                }
                case ENDED -> close(window);
            }
        }
    }

    /** How many buckets are tracked now (for tests of the bound). */
    int trackedBuckets() {
        return windows.size();
    }

    /** The tracked window of the bucket or, when the table is full, of a coarser one. */
    private Window windowFor(Bucket bucket, long now) {
        List<Bucket> candidates = bucket.coarser();
        for (int i = 0; i < candidates.size(); i++) {
            Bucket candidate = candidates.get(i);
            Window window = windows.get(candidate);
            if (window != null) {
                return window;
            }
            if (i == candidates.size() - 1 || windows.size() < MAX_BUCKETS + i * FOLDED_BUCKETS) {
                return windows.computeIfAbsent(candidate, b -> open(b, now));
            }
        }
        throw new AssertionError("the coarsest bucket is always tracked");
    }

    private Window open(Bucket bucket, long now) {
        nextEnd.accumulateAndGet(now + windowMillis, Math::min);
        return new Window(bucket, now);
    }

    private void closeEnded(long now) {
        if (now < nextEnd.get()) {
            return;
        }
        nextEnd.set(Long.MAX_VALUE);
        for (Window window : windows.values()) {
            if (now - window.start >= windowMillis) {
                close(window);
            } else {
                nextEnd.accumulateAndGet(window.start + windowMillis, Math::min);
            }
        }
    }

    private void close(Window window) {
        long suppressed = window.close();
        windows.remove(window.bucket, window);
        if (suppressed > 0) {
            delegate.event(CoreAudit.AUDIT_SUPPRESSED)
                    .field("suppressed_action", window.bucket.action())
                    .field("suppressed_outcome", window.bucket.outcome())
                    .field("suppressed_reason", window.bucket.reason())
                    .field("suppressed_source", window.bucket.source())
                    .field("count", suppressed)
                    .field("window_seconds", windowMillis / 1000.0)
                    .record();
        }
    }

    @Override
    public String toString() {
        return "RateLimitedAuditLog[" + limit + " per " + windowMillis + " ms per action, reason and source, to "
                + delegate + "]";
    }

    /** What one allowance covers. */
    private record Bucket(String action, AuditEvent.Outcome outcome, String reason, String source) {

        static Bucket of(AuditEvent event) {
            return new Bucket(event.action(), event.outcome(), event.fields().getOrDefault("reason", "none"),
                    sourceOf(event.fields().get("remote")));
        }

        /** This bucket, then the same without its source, then without its reason either. */
        List<Bucket> coarser() {
            return List.of(this, new Bucket(action, outcome, reason, OTHER), new Bucket(action, outcome, OTHER, OTHER));
        }

        /** The /24 (IPv4) or /64 (IPv6) network of an address literal, or {@code unknown}. */
        private static String sourceOf(@Nullable String remote) {
            if (remote == null) {
                return "unknown";
            }
            byte[] address;
            try {
                address = IpAddressLiteral.parse(remote).getAddress();
            } catch (IllegalArgumentException notAnAddress) {
                return "unknown";
            }
            int prefix = address.length == 4 ? 24 : 64;
            for (int i = prefix / 8; i < address.length; i++) {
                address[i] = 0;
            }
            try {
                return new Cidr(InetAddress.getByAddress(address), prefix).toString();
            } catch (UnknownHostException impossible) { // 4 or 16 bytes: never looked up
                return "unknown";
            }
        }
    }

    /** How an event fared in its bucket's window. */
    private enum Admission { PASSED, HELD, ENDED }

    /** One bucket's window, from its first event until {@code windowMillis} later. */
    private static final class Window {
        private final Bucket bucket;
        private final long start;
        private int passed;
        private long suppressed;
        private boolean closed;

        Window(Bucket bucket, long start) {
            this.bucket = bucket;
            this.start = start;
        }

        synchronized Admission admit(long now, int limit, long windowMillis) {
            if (closed || now - start >= windowMillis) {
                return Admission.ENDED;
            }
            if (passed < limit) {
                passed++;
                return Admission.PASSED;
            }
            suppressed++;
            return Admission.HELD;
        }

        /** Ends the window; returns how many of its events were suppressed (0 if it was closed already). */
        synchronized long close() {
            if (closed) {
                return 0;
            }
            closed = true;
            return suppressed;
        }
    }
}
