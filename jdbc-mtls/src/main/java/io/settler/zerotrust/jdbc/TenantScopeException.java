package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.audit.Refusal;
import java.util.Objects;

/**
 * A {@link TenantScope} refused to run or to commit work, because a tenant or other session state
 * could have crossed between borrowers of a pooled connection. The transaction was rolled back; the
 * message says what to fix. Every refusal is also an audit event.
 */
public final class TenantScopeException extends RuntimeException implements Refusal {

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
        /**
         * The borrowed connection ran as another role than it logged in as (a {@code SET ROLE}
         * outside a scope, or {@code ALTER ROLE ... SET role}); it was evicted from the pool.
         */
        SESSION_ROLE,
        /**
         * The session held a statement prepared with SQL {@code PREPARE} (when the scope began or
         * ended): it outlives the scope and could stand in for the driver's own statements in the
         * next one; rolled back and the connection evicted.
         */
        PREPARED_STATEMENT,
        /**
         * When the work ended, another {@code app.tenant_id} than the scope's was set; rolled back and
         * the connection evicted.
         */
        TENANT_CHANGED,
        /**
         * The work ended the scope's transaction itself (commit, rollback, auto-commit, closing the
         * connection); the rest was rolled back and the connection evicted.
         */
        TRANSACTION_ENDED
    }

    private final Reason reason;

    TenantScopeException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** The rule that refused. */
    @Override
    public Reason reason() {
        return reason;
    }
}
