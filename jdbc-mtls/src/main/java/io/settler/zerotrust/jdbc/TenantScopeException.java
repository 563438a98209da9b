package io.settler.zerotrust.jdbc;

import java.util.Objects;

/**
 * A {@link TenantScope} refused to run or to commit work, because the tenant could have leaked
 * between borrowers of a pooled connection. The transaction was rolled back; the message says what
 * to fix. Every refusal is also an audit event.
 */
public final class TenantScopeException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Which rule refused. */
    public enum Reason {
        /** The tenant id is empty, too long or has control characters. */
        INVALID_TENANT,
        /**
         * The borrowed connection already carried a session-level {@code app.tenant_id} (a
         * {@code SET} or {@code set_config(..., false)} outside a scope); it was evicted from the pool.
         */
        SESSION_TENANT_SETTING,
        /** The work changed {@code app.tenant_id} inside the scope; rolled back and the connection evicted. */
        TENANT_CHANGED
    }

    private final Reason reason;

    TenantScopeException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** The rule that refused. */
    public Reason reason() {
        return reason;
    }
}
