package io.settler.zerotrust.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.settler.zerotrust.audit.AuditAction;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.LogSafe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The audit log of {@link ZeroTrustMetrics#auditLog()}: counts each event in the counter its
 * catalogue entry names, and times the timed ones. Thread-safe; never throws.
 *
 * <p>The hot path is two map lookups per event plus one per tag, and an increment: the meters of an
 * entry and tag values are created once and cached. Tag values are bounded per meter and tag key
 * ({@link ZeroTrustMetrics.Builder#maxTagValues}), so the cache and the registry stay bounded too.
 */
final class AuditMeters implements AuditLog {

    private final MeterRegistry registry;
    private final int maxTagValues;
    private final Map<AuditAction, EntryMeters> entries = new ConcurrentHashMap<>();
    /** Per meter name and tag key, the values seen so far: at most {@code maxTagValues} each. */
    private final Map<String, Map<String, Set<String>>> values = new ConcurrentHashMap<>();
    private final AtomicLong failures = new AtomicLong();

    AuditMeters(MeterRegistry registry, int maxTagValues) {
        this.registry = registry;
        this.maxTagValues = maxTagValues;
    }

    /** True for every entry: a routine DEBUG-level event is worth building when it is counted. */
    @Override
    public boolean records(AuditAction action) {
        return true;
    }

    @Override
    public void record(AuditEvent event) {
        try {
            EntryMeters meters = entries.get(event.kind());
            if (meters == null) {
                meters = entries.computeIfAbsent(event.kind(), EntryMeters::new);
            }
            meters.record(event);
        } catch (RuntimeException e) { // a broken registry or meter filter: an AuditLog must not throw
            failures.incrementAndGet();
        }
    }

    /**
     * The counter of this entry and these fields, resolved once: each {@code add()} is one increment,
     * with no event built (a cached token verification costs a few nanoseconds more, not an event).
     */
    @Override
    public Tally tally(AuditAction action, Map<String, String> fields) {
        try {
            Map<String, String> cleaned = new HashMap<>();
            fields.forEach((name, value) -> cleaned.put(name, LogSafe.text(value)));
            Counter counter = entries.computeIfAbsent(action, EntryMeters::new).metersFor(cleaned).counter;
            return () -> {
                try {
                    counter.increment();
                } catch (RuntimeException e) { // as record: an AuditLog must not throw
                    failures.incrementAndGet();
                }
            };
        } catch (RuntimeException e) {
            failures.incrementAndGet();
            return Tally.NONE;
        }
    }

    /** How many events could not be counted because the registry or a meter filter threw. */
    long failures() {
        return failures.get();
    }

    /** The counter name of an entry: its catalogue meter. */
    static String counterName(AuditAction entry) {
        return entry.definition().meter();
    }

    /** The timer name of an entry: its catalogue meter with {@code .duration} appended. */
    static String timerName(AuditAction entry) {
        return entry.definition().meter() + ".duration";
    }

    /** The value a tag takes: the event's, or {@code none}; {@code other} once the key has too many. */
    private String bounded(String meter, String key, @Nullable String value) {
        String actual = value == null ? ZeroTrustMetrics.NONE : value;
        Set<String> seen = values.computeIfAbsent(meter, m -> new ConcurrentHashMap<>())
                .computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet());
        if (seen.contains(actual)) {
            return actual;
        }
        synchronized (seen) {
            if (seen.contains(actual)) {
                return actual;
            }
            if (seen.size() >= maxTagValues) {
                return ZeroTrustMetrics.OTHER;
            }
            seen.add(actual);
            return actual;
        }
    }

    /** The meters of one catalogue entry, per combination of (bounded) tag values. */
    private final class EntryMeters {
        private final AuditAction entry;
        private final String counterName;
        private final String timerName;
        private final List<String> tagKeys;
        private final Tags fixed;
        private final Map<List<String>, Meters> byValues = new ConcurrentHashMap<>();

        EntryMeters(AuditAction entry) {
            this.entry = entry;
            this.counterName = counterName(entry);
            this.timerName = timerName(entry);
            List<String> keys = new ArrayList<>();
            for (String tag : entry.definition().tags()) {
                if (!tag.equals(ZeroTrustMetrics.ACTION_TAG) && !tag.equals(ZeroTrustMetrics.OUTCOME_TAG)) {
                    keys.add(tag);
                }
            }
            this.tagKeys = List.copyOf(keys);
            this.fixed = Tags.of(ZeroTrustMetrics.ACTION_TAG, entry.action(),
                    ZeroTrustMetrics.OUTCOME_TAG, entry.outcome().name());
        }

        void record(AuditEvent event) {
            Meters meters = metersFor(event.fields());
            meters.counter.increment();
            Duration elapsed = event.elapsed();
            if (elapsed != null) {
                meters.timer().record(elapsed);
            }
        }

        /**
         * The meters of these fields' (bounded) tag values. The values must be log-safe already, as an
         * {@link AuditEvent}'s are ({@link LogSafe#text}).
         */
        Meters metersFor(Map<String, String> fields) {
            String[] tagValues = new String[tagKeys.size()];
            for (int i = 0; i < tagValues.length; i++) {
                tagValues[i] = bounded(counterName, tagKeys.get(i), fields.get(tagKeys.get(i)));
            }
            List<String> key = Arrays.asList(tagValues);
            Meters meters = byValues.get(key);
            if (meters == null) {
                meters = byValues.computeIfAbsent(List.copyOf(key), this::meters);
            }
            return meters;
        }

        private Meters meters(List<String> tagValues) {
            Tags tags = tags(tagValues);
            Counter counter = Counter.builder(counterName).tags(tags)
                    .description("Decisions of the Settler Zero Trust library, by audit action, outcome and tags")
                    .register(registry);
            return new Meters(counter, tags);
        }

        private Tags tags(List<String> tagValues) {
            Tags tags = fixed;
            for (int i = 0; i < tagKeys.size(); i++) {
                tags = tags.and(Tag.of(tagKeys.get(i), tagValues.get(i)));
            }
            return tags;
        }

        /** The counter of one combination of tag values, and its timer once a timed event came. */
        private final class Meters {
            private final Counter counter;
            private final Tags tags;
            private volatile @Nullable Timer timer;

            Meters(Counter counter, Tags tags) {
                this.counter = counter;
                this.tags = tags;
            }

            Timer timer() {
                Timer known = timer;
                if (known == null) {
                    known = Timer.builder(timerName).tags(tags)
                            .description("How long decisions of the Settler Zero Trust library take, by audit"
                                    + " action, outcome and tags")
                            .register(registry);
                    timer = known;
                }
                return known;
            }
        }

        @Override
        public String toString() {
            return "meters of " + entry.action() + " " + entry.outcome();
        }
    }

    @Override
    public String toString() {
        return "ZeroTrustMetrics.auditLog[" + registry.getClass().getSimpleName() + "]";
    }
}
