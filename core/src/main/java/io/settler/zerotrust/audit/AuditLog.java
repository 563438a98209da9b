package io.settler.zerotrust.audit;

/**
 * Where audit events go. The default, {@link #slf4j()}, writes structured SLF4J events to the
 * dedicated logger {@value Slf4jAuditLog#LOGGER_NAME}, so operators can route them apart from
 * application logs. Implementations must be thread-safe and must not throw.
 */
@FunctionalInterface
public interface AuditLog {

    /** Records one event. */
    void record(AuditEvent event);

    /** This log, then {@code other}: e.g. SLF4J plus an in-memory list in tests, or plus a SIEM forwarder. */
    default AuditLog alsoTo(AuditLog other) {
        java.util.Objects.requireNonNull(other, "other");
        return event -> {
            record(event);
            other.record(event);
        };
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
     *
     * @param limit events per bucket per window, at least 1
     * @param window a positive duration
     */
    default AuditLog limitedTo(int limit, java.time.Duration window) {
        return limitedTo(limit, window, java.time.Clock.systemUTC());
    }

    /**
     * {@link #limitedTo(int, java.time.Duration)} with the clock that decides when windows end,
     * e.g. a fixed clock in tests.
     */
    default AuditLog limitedTo(int limit, java.time.Duration window, java.time.Clock clock) {
        java.util.Objects.requireNonNull(clock, "clock");
        return new RateLimitedAuditLog(this, limit, window, clock::millis);
    }

    /** Events as SLF4J key-value pairs on the logger {@value Slf4jAuditLog#LOGGER_NAME}. */
    static AuditLog slf4j() {
        return Slf4jAuditLog.INSTANCE;
    }
}
