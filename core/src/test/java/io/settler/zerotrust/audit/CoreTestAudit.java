package io.settler.zerotrust.audit;

import java.util.List;
import java.util.Optional;

/**
 * The recording log of core's own tests, which cannot use testkit's {@code RecordingAuditLog} (testkit
 * depends on core): events go to SLF4J and to a list, and are marked for {@link AuditCoverage} as
 * that class marks them.
 */
public final class CoreTestAudit {

    private CoreTestAudit() {
    }

    /** A log that writes to SLF4J, marks coverage, and adds each event to {@code events}. */
    public static AuditLog into(List<AuditEvent> events) {
        Optional<AuditCoverage> coverage = AuditCoverage.fromSystemProperty();
        return AuditLog.slf4j().alsoTo(event -> {
            coverage.ifPresent(marks -> marks.mark(event));
            events.add(event);
        });
    }
}
