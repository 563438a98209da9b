package io.settler.zerotrust.audit;

import org.jspecify.annotations.Nullable;

/**
 * An exception that carries the reason of a refusal: {@link AuditLog.Entry#refused} records it as the
 * {@code reason} and {@code detail} fields and hands it back to be thrown, so refusing, auditing and
 * throwing is one statement: {@code throw audit.event(TokenAudit.REJECTED).field(...).refused(e);}.
 */
public interface Refusal {

    /** Why, from a small fixed set: recorded as the {@code reason} field and usable as a metric tag. */
    Enum<?> reason();

    /** What was refused and what to fix; never a secret. Recorded as the {@code detail} field. */
    @Nullable String getMessage();
}
