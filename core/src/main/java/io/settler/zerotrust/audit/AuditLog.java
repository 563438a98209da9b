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

    /** Events as SLF4J key-value pairs on the logger {@value Slf4jAuditLog#LOGGER_NAME}. */
    static AuditLog slf4j() {
        return Slf4jAuditLog.INSTANCE;
    }
}
