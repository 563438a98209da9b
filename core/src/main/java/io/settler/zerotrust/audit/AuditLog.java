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

    /** Events as SLF4J key-value pairs on the logger {@value Slf4jAuditLog#LOGGER_NAME}. */
    static AuditLog slf4j() {
        return Slf4jAuditLog.INSTANCE;
    }
}
