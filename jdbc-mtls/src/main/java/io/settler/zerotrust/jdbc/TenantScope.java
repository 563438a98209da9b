package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.jdbc.TenantScopeException.Reason;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Objects;

/**
 * Runs work for one tenant in one transaction whose {@code app.tenant_id} is set with
 * {@code set_config('app.tenant_id', ?, true)}: transaction-local, so it ends with the transaction
 * and never reaches the next borrower of the pooled connection. Row-level security policies read
 * it with {@code current_setting('app.tenant_id', true)}.
 *
 * <pre>{@code
 * TenantScope tenants = TenantScope.of(dataSource);
 * List<Order> orders = tenants.call("tenant-42", connection -> loadOrders(connection));
 * }</pre>
 *
 * <p>Session-level tenant settings are refused: a borrowed connection that already carries one
 * (someone ran {@code SET app.tenant_id} outside a scope) is evicted and the call refused before
 * any work runs; work that changes the setting inside the scope is rolled back and refused; and
 * the session value is reset in the commit's own round trip, so even a {@code SET} of the same
 * tenant inside the scope ends with the transaction. Work must not commit, roll back or change
 * auto-commit itself. A failed or throwing work is rolled back. Immutable and
 * thread-safe; each call uses its own connection.
 */
public final class TenantScope {

    /** The setting row-level security policies read. */
    public static final String SETTING = "app.tenant_id";

    private static final int MAX_TENANT_LENGTH = 200;

    /**
     * Sets the tenant for this transaction, but only if the session carries no tenant of its own.
     * Functions are schema-qualified, so a {@code currentSchema} cannot substitute others.
     */
    private static final String BEGIN = "select pg_catalog.set_config('" + SETTING + "', ?, true)"
            + " from (select pg_catalog.current_setting('" + SETTING + "', true) as previous offset 0) p"
            + " where coalesce(p.previous, '') = ''";

    /** A setting that never exists: reading it is how the commit statement fails on purpose. */
    private static final String CHANGED_MARKER = "settler.tenant_changed_inside_tenant_scope";

    /**
     * One round trip that ends the scope: if the work left another tenant (or none), reading the
     * marker setting raises an error, so the transaction aborts and the COMMIT behind it is never
     * run; otherwise the session value is reset (so a SET inside the scope ends with it) and the
     * transaction commits.
     */
    private static final String VERIFY_RESET_COMMIT = "select case when p.seen is distinct from ?"
            + " then pg_catalog.current_setting('" + CHANGED_MARKER + "')"
            + " else pg_catalog.set_config('" + SETTING + "', '', false) end"
            + " from (select pg_catalog.current_setting('" + SETTING + "', true) as seen offset 0) p; commit";

    private final PostgresMtlsDataSource dataSource;

    private TenantScope(PostgresMtlsDataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** Tenant-scoped transactions on connections of {@code dataSource}. */
    public static TenantScope of(PostgresMtlsDataSource dataSource) {
        return new TenantScope(dataSource);
    }

    /** Work inside a tenant's transaction. */
    @FunctionalInterface
    public interface Work<T> {
        /**
         * Does the work; do not commit, roll back or change auto-commit.
         *
         * @param connection the connection, inside the tenant's transaction
         * @return the result
         * @throws SQLException to roll back
         */
        T apply(Connection connection) throws SQLException;
    }

    /** Work with no result. */
    @FunctionalInterface
    public interface Action {
        /**
         * Does the work; do not commit, roll back or change auto-commit.
         *
         * @param connection the connection, inside the tenant's transaction
         * @throws SQLException to roll back
         */
        void run(Connection connection) throws SQLException;
    }

    /**
     * Runs {@code work} for {@code tenant} in one transaction and commits it.
     *
     * @param tenant the tenant id
     * @param work the work
     * @return what the work returned
     * @throws SQLException what the work or the database threw, after rollback
     * @throws TenantScopeException if the tenant could leak (see the class comment), after rollback
     */
    public <T> T call(String tenant, Work<T> work) throws SQLException {
        checkTenant(tenant);
        Objects.requireNonNull(work, "work");
        Connection connection = dataSource.getConnection();
        boolean evict = false;
        try {
            connection.setAutoCommit(false);
            try (PreparedStatement begin = connection.prepareStatement(BEGIN)) {
                begin.setString(1, tenant);
                try (ResultSet row = begin.executeQuery()) {
                    if (!row.next()) {
                        evict = true;
                        throw refused(Reason.SESSION_TENANT_SETTING, tenant, "a borrowed connection already carried"
                                + " a session-level " + SETTING + " (SET or set_config(..., false) outside a"
                                + " TenantScope); the connection was evicted. Set the tenant only through TenantScope");
                    }
                }
            }
            T result = work.apply(connection);
            try (PreparedStatement end = connection.prepareStatement(VERIFY_RESET_COMMIT)) {
                end.setString(1, tenant);
                end.execute();
            } catch (SQLException e) {
                if (String.valueOf(e.getMessage()).contains(CHANGED_MARKER)) {
                    evict = true;
                    TenantScopeException refusal = refused(Reason.TENANT_CHANGED, tenant, "the work changed "
                            + SETTING + " inside the scope; it was rolled back. Open one scope per tenant instead");
                    refusal.addSuppressed(e);
                    throw refusal;
                }
                throw e;
            }
            return result;
        } catch (SQLException | RuntimeException | Error e) {
            rollback(connection, e);
            throw e;
        } finally {
            if (evict) {
                dataSource.evictConnection(connection);
            } else {
                connection.close();
            }
        }
    }

    /**
     * Runs {@code action} for {@code tenant} in one transaction and commits it.
     *
     * @see #call(String, Work)
     */
    public void run(String tenant, Action action) throws SQLException {
        Objects.requireNonNull(action, "action");
        call(tenant, connection -> {
            action.run(connection);
            return null;
        });
    }

    private TenantScopeException refused(Reason reason, String tenant, String message) {
        dataSource.auditLog().record(AuditEvent.builder(dataSource.clock().instant(), "jdbc.tenant_refused",
                        AuditEvent.Outcome.REFUSED)
                .field("pool", dataSource.getPoolName())
                .field("tenant", tenant)
                .field("reason", reason)
                .build());
        return new TenantScopeException(reason, message);
    }

    private void checkTenant(String tenant) {
        Objects.requireNonNull(tenant, "tenant");
        if (tenant.isEmpty() || tenant.length() > MAX_TENANT_LENGTH || !LogSafe.text(tenant).equals(tenant)) {
            throw refused(Reason.INVALID_TENANT, LogSafe.text(tenant), "a tenant id is 1 to " + MAX_TENANT_LENGTH
                    + " printable ASCII characters");
        }
    }

    private static void rollback(Connection connection, Throwable failure) {
        try {
            connection.rollback();
        } catch (SQLException e) {
            failure.addSuppressed(e);
        }
    }
}
