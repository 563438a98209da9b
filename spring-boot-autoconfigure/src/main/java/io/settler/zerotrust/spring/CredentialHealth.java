package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.CoreAudit;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Remembers the credential source's latest refused rotation until a rotation succeeds, from the audit
 * events it records ({@code credentials.rotated}, {@code credentials.rotation_refused}), for the
 * health indicator: the source's audit log also goes to {@link #record}. Not an {@code AuditLog}
 * bean itself, so it never stands in for the application's. Thread-safe.
 */
final class CredentialHealth {

    private volatile @Nullable AuditEvent unresolvedRefusal;

    /** Notes a refused rotation, and forgets it at the next successful one; ignores every other event. */
    void record(AuditEvent event) {
        if (event.kind() == CoreAudit.CREDENTIALS_ROTATED) {
            unresolvedRefusal = null;
        } else if (event.kind() == CoreAudit.CREDENTIALS_ROTATION_REFUSED) {
            unresolvedRefusal = event;
        }
    }

    /** The latest refused rotation, if no rotation has succeeded since: the files on disk are still refused. */
    Optional<AuditEvent> unresolvedRefusal() {
        return Optional.ofNullable(unresolvedRefusal);
    }
}
