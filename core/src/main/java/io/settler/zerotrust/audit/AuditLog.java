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
     * This log, passing at most {@code limit} events of each action and outcome per {@code window}
     * and counting the rest: when such a window is over, the next event first records one
     * {@code audit.suppressed} event (WARNING) with the action and how many were not recorded.
     * Use it where an attacker can cause events at will, e.g.
     * {@code ServiceTokens.builder().auditLog(AuditLog.slf4j().limitedTo(20, Duration.ofSeconds(1)))}.
     *
     * @param limit events per action and outcome per window, at least 1
     * @param window a positive duration
     */
    default AuditLog limitedTo(int limit, java.time.Duration window) {
        return new RateLimitedAuditLog(this, limit, window, System::currentTimeMillis);
    }

    /** Events as SLF4J key-value pairs on the logger {@value Slf4jAuditLog#LOGGER_NAME}. */
    static AuditLog slf4j() {
        return Slf4jAuditLog.INSTANCE;
    }
}
