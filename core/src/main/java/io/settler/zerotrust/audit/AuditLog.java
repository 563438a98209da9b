package io.settler.zerotrust.audit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where audit events go, and the clock that stamps them. The default, {@link #slf4j()}, writes
 * structured SLF4J events to the dedicated logger {@value Slf4jAuditLog#LOGGER_NAME}, so operators
 * can route them apart from application logs. Implementations must be thread-safe and must not
 * throw.
 *
 * <p>Code records a decision with one statement, naming its catalogue entry:
 * {@code audit.event(CoreAudit.PEER_ACCEPTED).field("identity", id).record()}, or, for a refusal
 * that is thrown, {@code throw audit.event(TokenAudit.REJECTED).refused(e)}.
 */
@FunctionalInterface
public interface AuditLog {

    /** Records one event. */
    void record(AuditEvent event);

    /** The clock that stamps the events started by {@link #event}: the system's UTC clock unless {@link #withClock}. */
    default Clock clock() {
        return Clock.systemUTC();
    }

    /**
     * Whether this log does anything with events of this entry: a hot path asks before it builds a
     * routine event ({@link AuditAction.Level#DEBUG}) that most logs drop. True unless a log knows better.
     */
    default boolean records(AuditAction action) {
        return true;
    }

    /**
     * A pre-resolved count of one routine decision with fixed fields, for a hot path that repeats it
     * (e.g. a token verified again from the cache): the caller resolves it once and {@link Tally#add()}s
     * it per decision, so a log that counts (a meter registry) pays an increment, not an event. This
     * default records a whole event per {@code add()} when {@link #records} wants the entry, and
     * returns {@link Tally#NONE} otherwise.
     *
     * @param action the catalogue entry, usually a routine ({@link AuditAction.Level#DEBUG}) one
     * @param fields the event's fields, in order; the same for every {@code add()}
     */
    default Tally tally(AuditAction action, Map<String, String> fields) {
        if (!records(action)) {
            return Tally.NONE;
        }
        Map<String, String> copy = new LinkedHashMap<>(fields);
        return () -> {
            Entry entry = event(action);
            copy.forEach(entry::field);
            entry.record();
        };
    }

    /** Starts an event of this catalogue entry, stamped now by {@link #clock()}. */
    default Entry event(AuditAction action) {
        return new Entry(this, action, clock().instant());
    }

    /** This log with events stamped by {@code clock}, e.g. a fixed clock in tests. */
    default AuditLog withClock(Clock clock) {
        return new ForwardingAuditLog(this, clock);
    }

    /**
     * This log, then {@code other}: e.g. SLF4J plus an in-memory list in tests, or plus a metrics
     * registry. Events are stamped by this log's clock.
     */
    default AuditLog alsoTo(AuditLog other) {
        return new TeeAuditLog(this, Objects.requireNonNull(other, "other"));
    }

    /**
     * This log, passing at most {@code limit} events per {@code window} for each action, outcome,
     * {@code reason} field and source network (the IPv4 /24 or IPv6 /64 of the {@code remote}
     * field), and counting the rest: when such a window is over, the next event first records one
     * {@code audit.suppressed} event (WARNING) saying which action, reason and source, and how many
     * were not recorded. A flood of junk connections thus uses up its own allowance, not that of
     * another reason or source; and an event about a peer whose certificate verified against the
     * trust bundle ({@link AuditEvent#authenticatedPeer()}, e.g. a refused identity) is always
     * recorded. At most 512 buckets are tracked; beyond, new sources share one. Use it where an
     * attacker can cause events at will, e.g.
     * {@code ServiceTokens.builder().auditLog(AuditLog.slf4j().limitedTo(20, Duration.ofSeconds(1)))}.
     * Windows follow this log's {@link #clock()}.
     *
     * @param limit events per bucket per window, at least 1
     * @param window a positive duration
     */
    default AuditLog limitedTo(int limit, Duration window) {
        return new RateLimitedAuditLog(this, limit, window);
    }

    /** Events as SLF4J key-value pairs on the logger {@value Slf4jAuditLog#LOGGER_NAME}. */
    static AuditLog slf4j() {
        return Slf4jAuditLog.INSTANCE;
    }

    /** One routine decision counted again: see {@link AuditLog#tally}. Thread-safe; never throws. */
    @FunctionalInterface
    interface Tally {
        /** A tally that counts nothing, for a log that does not want the entry. */
        Tally NONE = () -> { };

        /** Counts the decision once more. */
        void add();
    }

    /**
     * One event being written: fields in order, then {@link #record()} or {@link #refused}. Not
     * thread-safe; use it on the thread that started it.
     */
    final class Entry {
        private final AuditLog log;
        private final AuditAction kind;
        private final Instant time;
        private final Map<String, String> fields = new LinkedHashMap<>();
        private boolean authenticatedPeer;
        private @Nullable Duration elapsed;

        private Entry(AuditLog log, AuditAction kind, Instant time) {
            this.log = log;
            this.kind = Objects.requireNonNull(kind, "action");
            this.time = time;
        }

        /** Adds a field; {@code String.valueOf} of the value. */
        public Entry field(String name, @Nullable Object value) {
            fields.put(name, String.valueOf(value));
            return this;
        }

        /**
         * Marks the event as about a peer whose certificate chain has verified against the trust
         * bundle; set it only after that verification succeeded (see {@link AuditEvent#authenticatedPeer()}).
         */
        public Entry authenticatedPeer() {
            this.authenticatedPeer = true;
            return this;
        }

        /** How long the decision took, from {@code startNanos} (a {@link System#nanoTime()} reading) to now. */
        public Entry elapsedSince(long startNanos) {
            this.elapsed = Duration.ofNanos(System.nanoTime() - startNanos);
            return this;
        }

        /** Adds the refusal's {@code reason} and {@code detail} fields. */
        public Entry because(Refusal refusal) {
            return field("reason", refusal.reason().name()).field("detail", refusal.getMessage());
        }

        /** Records the event, and returns it. */
        public AuditEvent record() {
            AuditEvent event = new AuditEvent(time, kind, fields, authenticatedPeer, elapsed);
            log.record(event);
            return event;
        }

        /**
         * Records the event with the refusal's reason and detail, and returns the refusal to be thrown:
         * {@code throw audit.event(TokenAudit.REJECTED).field("audience", a).refused(e);}.
         */
        public <T extends Throwable & Refusal> T refused(T refusal) {
            because(refusal).record();
            return refusal;
        }
    }
}
