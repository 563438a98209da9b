package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.jdbc.TenantScopeException.Reason;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;

/**
 * Runs work for one tenant in one transaction whose {@code app.tenant_id} is set with
 * {@code set_config('app.tenant_id', ?, true)}: transaction-local, so it ends with the transaction.
 * Row-level security policies read it with {@code current_setting('app.tenant_id', true)}.
 *
 * <pre>{@code
 * TenantScope tenants = TenantScope.of(dataSource);
 * List<Order> orders = tenants.call("tenant-42", connection -> loadOrders(connection));
 * }</pre>
 *
 * <p>Nothing of a session survives a scope, in either direction. Each scope starts, in the round trip
 * that sets the tenant, and ends, in the commit's round trip, by resetting the session state a work
 * could leave behind: role ({@code SET ROLE NONE}), settings ({@code RESET ALL}: {@code search_path},
 * {@code set_config(..., false)}, ...), cursors ({@code CLOSE ALL}, including {@code WITH HOLD}),
 * temporary tables and functions ({@code DISCARD TEMP}), sequence state ({@code DISCARD SEQUENCES}),
 * {@code LISTEN}s and session advisory locks: {@code DISCARD ALL} but for plans (which hold no
 * tenant data) and prepared statements, split into statements a transaction allows. A statement
 * prepared with SQL {@code PREPARE} is refused instead (pgjdbc prepares through the protocol). A
 * work that fails is rolled back and its connection reset with {@code DISCARD ALL}; if that fails
 * too, the connection is evicted, never reused. Deferred constraints are checked before the reset
 * ({@code SET CONSTRAINTS ALL IMMEDIATE}), while the tenant is still set.
 *
 * <p>Refused with a {@link TenantScopeException} and a {@code jdbc.tenant_refused} audit event, the
 * connection evicted: a borrowed connection that carries a session-level tenant, runs as another
 * role than it logged in as, or holds an SQL-prepared statement; a work that leaves another tenant
 * set than its own, or an SQL-prepared statement, when it ends; a work that ended the scope's
 * transaction itself (commit, rollback, closing the connection). What is checked is the state at
 * the end: a work that switches to another tenant and back inside the scope is not detected, nor
 * can it be from the client; such code holds the role's privileges anyway. Immutable and
 * thread-safe; each call uses its own connection.
 */
public final class TenantScope {

    /** The setting row-level security policies read. */
    public static final String SETTING = "app.tenant_id";

    private static final int MAX_TENANT_LENGTH = 200;

    /** A transaction-local setting holding a per-call nonce: it vanishes if the work ends the transaction. */
    private static final String SCOPE_SETTING = "settler.tenant_scope";

    /** What a refusal raised on the server says; followed by the {@link Reason}'s name. */
    private static final String REFUSAL = "settler tenant scope refused: ";

    /**
     * Session state a work can leave on a pooled connection, reset by statements a transaction
     * allows. {@code SET SESSION AUTHORIZATION} is not listed: it needs a superuser login, which the
     * start-up proof refuses. Prepared statements are refused instead ({@code PREPARED}):
     * {@code DEALLOCATE ALL} in every scope would make pgjdbc prepare every statement again and
     * more than doubled the cost of a scope.
     */
    private static final String RESET = "set role none; reset all; close all; discard temp; discard sequences;"
            + " unlisten *; select pg_catalog.pg_advisory_unlock_all()";

    /**
     * Whether the session holds a statement prepared with SQL {@code PREPARE}, which survives the
     * transaction and could stand in for one of pgjdbc's own (a {@code DEALLOCATE} and a
     * {@code PREPARE} under its name). pgjdbc prepares through the protocol, never with SQL.
     */
    private static final String PREPARED = "exists (select from pg_catalog.pg_prepared_statements where from_sql)";

    /**
     * Refuses a connection that carries a session-level tenant, another role or an SQL-prepared
     * statement, resets the session, then sets the tenant and the nonce for this transaction.
     * Functions are schema-qualified, so a {@code search_path} cannot substitute others.
     */
    private static final String BEGIN = "select case"
            + " when coalesce(pg_catalog.current_setting('" + SETTING + "', true), '') <> '' then "
            + raise(Reason.SESSION_TENANT_SETTING)
            + " when current_user <> session_user then " + raise(Reason.SESSION_ROLE)
            + " when " + PREPARED + " then " + raise(Reason.PREPARED_STATEMENT) + " end; "
            + RESET + "; select pg_catalog.set_config('" + SETTING + "', ?, true),"
            + " pg_catalog.set_config('" + SCOPE_SETTING + "', ?, true)";

    /**
     * One round trip that ends the scope: fire deferred constraints while the tenant is set; raise
     * if the transaction is no longer the scope's (the nonce is gone), another tenant is set or a
     * statement was prepared with SQL, which aborts the transaction so nothing behind it runs;
     * otherwise reset the session and commit.
     */
    private static final String END = "set constraints all immediate; select case"
            + " when p.scope is distinct from p.nonce then " + raise(Reason.TRANSACTION_ENDED)
            + " when p.seen is distinct from p.tenant then " + raise(Reason.TENANT_CHANGED)
            + " when " + PREPARED + " then " + raise(Reason.PREPARED_STATEMENT) + " end"
            + " from (select ?::text as tenant, ?::text as nonce,"
            + " pg_catalog.current_setting('" + SCOPE_SETTING + "', true) as scope,"
            + " pg_catalog.current_setting('" + SETTING + "', true) as seen offset 0) p; "
            + RESET + "; commit";

    /** After a failure: outside the (rolled back) transaction, so all of it at once. */
    private static final String DISCARD_ALL = "discard all";

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
    public interface Work<T extends @Nullable Object> {
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
     * @throws TenantScopeException if the tenant or the session could leak (see the class comment), after rollback
     */
    public <T extends @Nullable Object> T call(String tenant, Work<T> work) throws SQLException {
        checkTenant(tenant);
        Objects.requireNonNull(work, "work");
        String nonce = Long.toHexString(ThreadLocalRandom.current().nextLong());
        Connection connection = dataSource.getConnection();
        boolean evict = false;
        try {
            connection.setAutoCommit(false);
            runChecked(connection, BEGIN, tenant, nonce);
            forgetNotifications(connection);
            T result = work.apply(connection);
            if (connection.isClosed()) {
                throw refused(Reason.TRANSACTION_ENDED, tenant);
            }
            runChecked(connection, END, tenant, nonce);
            return result;
        } catch (TenantScopeException e) {
            evict = true;
            rollback(connection, e);
            throw e;
        } catch (SQLException | RuntimeException | Error e) {
            evict = !(rollback(connection, e) && discardAll(connection, e));
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
            return Boolean.TRUE; // dropped; not null, which NullAway accepts for T only in JSpecify mode (JDK 22+)
        });
    }

    /**
     * Runs one of our statements with the tenant and the nonce as its parameters; a refusal it
     * raises on the server becomes a {@link TenantScopeException}.
     */
    private void runChecked(Connection connection, String sql, String tenant, String nonce) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setString(1, tenant);
            statement.setString(2, nonce);
            statement.execute();
        } catch (SQLException e) {
            for (Reason reason : Reason.values()) {
                if (String.valueOf(e.getMessage()).contains(REFUSAL + reason.name())) {
                    TenantScopeException refusal = refused(reason, tenant);
                    refusal.addSuppressed(e);
                    throw refusal;
                }
            }
            throw e;
        }
    }

    private TenantScopeException refused(Reason reason, String tenant) {
        dataSource.auditLog().record(AuditEvent.builder(dataSource.clock().instant(), "jdbc.tenant_refused",
                        AuditEvent.Outcome.REFUSED)
                .field("pool", dataSource.getPoolName())
                .field("tenant", tenant)
                .field("reason", reason)
                .build());
        return new TenantScopeException(reason, message(reason));
    }

    private static String message(Reason reason) {
        switch (reason) {
            case INVALID_TENANT:
                return "a tenant id is 1 to " + MAX_TENANT_LENGTH + " printable ASCII characters";
            case SESSION_TENANT_SETTING:
                return "a borrowed connection already carried a session-level " + SETTING + " (SET or"
                        + " set_config(..., false) outside a TenantScope); the connection was evicted. Set the tenant"
                        + " only through TenantScope";
            case SESSION_ROLE:
                return "a borrowed connection ran as another role than it logged in as (SET ROLE outside a"
                        + " TenantScope, or ALTER ROLE ... SET role); the connection was evicted. Remove the role"
                        + " setting (ALTER ROLE ... RESET role) and do not SET ROLE on pooled connections";
            case TENANT_CHANGED:
                return "the work changed " + SETTING + " inside the scope; it was rolled back and the connection"
                        + " evicted. Open one scope per tenant instead";
            case PREPARED_STATEMENT:
                return "the session held a statement prepared with SQL PREPARE, which outlives the scope and"
                        + " could stand in for the driver's own statements in the next one; the connection was"
                        + " evicted. Use JDBC PreparedStatements instead";
            case TRANSACTION_ENDED:
                return "the work ended the scope's transaction itself (commit, rollback, auto-commit or closing the"
                        + " connection); what it committed before stays committed, the rest was rolled back and the"
                        + " connection evicted. Let TenantScope commit, and throw to roll back";
            default:
                throw new IllegalStateException("no message for " + reason);
        }
    }

    /** Rolls back and resets the session outside any transaction; false if that failed. */
    private static boolean discardAll(Connection connection, Throwable failure) {
        try (Statement statement = connection.createStatement()) {
            connection.setAutoCommit(true);
            statement.execute(DISCARD_ALL);
            forgetNotifications(connection);
            return true;
        } catch (SQLException e) {
            failure.addSuppressed(e);
            return false;
        }
    }

    /**
     * Drops notifications pgjdbc has received but nobody read: they were for an earlier borrower. In
     * a scope this runs inside the transaction, after BEGIN's round trip, which read whatever the server
     * had sent before it; pgjdbc then only hands over what it holds. Outside a transaction it would
     * also wait up to a millisecond on the socket for more, which measured 1.7 ms per scope.
     */
    private static void forgetNotifications(Connection connection) throws SQLException {
        connection.unwrap(PGConnection.class).getNotifications();
    }

    /** An expression that fails naming {@code reason}; a stable function, so never folded before it runs. */
    private static String raise(Reason reason) {
        return "pg_catalog.concat('" + REFUSAL + reason.name() + "')::int4";
    }

    private void checkTenant(String tenant) {
        Objects.requireNonNull(tenant, "tenant");
        if (tenant.isEmpty() || tenant.length() > MAX_TENANT_LENGTH || !LogSafe.text(tenant).equals(tenant)) {
            throw refused(Reason.INVALID_TENANT, LogSafe.text(tenant));
        }
    }

    private static boolean rollback(Connection connection, Throwable failure) {
        try {
            connection.rollback();
            return true;
        } catch (SQLException e) {
            failure.addSuppressed(e);
            return false;
        }
    }
}
