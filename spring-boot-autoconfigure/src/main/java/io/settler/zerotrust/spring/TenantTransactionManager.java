package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.jdbc.TenantScope;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.UncategorizedSQLException;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.jdbc.support.SQLExceptionSubclassTranslator;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.transaction.IllegalTransactionStateException;
import org.springframework.transaction.InvalidIsolationLevelException;
import org.springframework.transaction.NestedTransactionNotSupportedException;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.CallbackPreferringPlatformTransactionManager;
import org.springframework.transaction.support.SimpleTransactionStatus;
import org.springframework.transaction.support.TransactionCallback;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionSynchronizationUtils;

/**
 * Spring's transactions on the {@link PostgresMtlsDataSource}, each one a jdbc-mtls
 * {@link TenantScope} for the tenant of the caller's service token: {@code @Transactional} methods
 * and {@code TransactionTemplate}s need no tenant code, and row-level security shows them their
 * tenant's rows only.
 *
 * <p><b>Why a callback-preferring transaction manager</b> (and not a {@code DataSource} wrapper that
 * sets the tenant when Spring turns auto-commit off): {@code TenantScope} owns the whole life of
 * the transaction, in one round trip at each end: it refuses a connection that carries a
 * session-level tenant or another role, resets everything a previous borrower could leave on the
 * session, sets the tenant with {@code set_config(..., true)} (transaction-local), and at the end
 * checks the tenant was not changed and the transaction not ended by the work, resets the session
 * again and commits; on failure it rolls back and discards the session, or evicts the connection.
 * A wrapper would have to repeat that logic around Spring's own begin and commit, and any
 * code path that commits or closes behind it would skip a step. Spring runs
 * {@code @Transactional} and {@code TransactionTemplate} through
 * {@link #execute(TransactionDefinition, TransactionCallback)} for a manager of this kind, so the
 * method body runs inside {@link TenantScope#call}: the scope's connection is bound to the
 * thread as the data source's {@link ConnectionHolder}, where {@code JdbcTemplate},
 * {@code JdbcClient} and Spring Data JDBC find it ({@code DataSourceUtils}); nothing of the
 * tenant survives the transaction, and the pooled connection goes back clean.
 *
 * <p><b>No tenant, no transaction:</b> a transaction that does not run for a request authenticated
 * by a service token ({@link ZeroTrustAuthentication}), or whose token has no tenant claim, is
 * refused before any connection is borrowed ({@link ZeroTrustTenantException}, a
 * {@code spring.tenant.refused} event). Code outside any transaction gets plain pooled connections
 * with no tenant set, where the policies ({@code current_setting('app.tenant_id', true)}) match no
 * row: it sees nothing. Propagation {@code REQUIRED}, {@code REQUIRES_NEW}, {@code SUPPORTS},
 * {@code MANDATORY}, {@code NOT_SUPPORTED} and {@code NEVER} behave as Spring documents them;
 * {@code NESTED} inside a transaction (savepoints) and isolation levels other than the default
 * (PostgreSQL takes them only before the scope's first statement; set
 * {@code default_transaction_isolation} for the role instead) are refused. Read-only
 * transactions run {@code SET TRANSACTION READ ONLY}; a timeout becomes a transaction-local
 * {@code statement_timeout} (never {@code Statement.setQueryTimeout}, whose cleartext cancel
 * requests the data source refuses). {@link #getTransaction}, {@link #commit} and {@link #rollback}
 * are not supported: the scope cannot be split into begin and commit.
 */
final class TenantTransactionManager implements CallbackPreferringPlatformTransactionManager {

    private final PostgresMtlsDataSource dataSource;
    private final TenantScope scope;
    private final String claim;
    private final AuditLog audit;
    private final SQLExceptionSubclassTranslator translator = new SQLExceptionSubclassTranslator();

    TenantTransactionManager(PostgresMtlsDataSource dataSource, String claim, AuditLog audit) {
        this.dataSource = dataSource;
        this.scope = TenantScope.of(dataSource);
        this.claim = claim;
        this.audit = audit;
    }

    /** The transaction this manager runs on the current thread, bound under the manager itself. */
    private record Current(SimpleTransactionStatus status, String tenant) {
    }

    /** What a new transaction suspends: the outer one's bindings and synchronizations. */
    private record Suspended(@Nullable Current current, @Nullable Object holder,
                             @Nullable List<TransactionSynchronization> synchronizations, @Nullable String name,
                             boolean readOnly, boolean active) {
    }

    /** Carries a rollback-only transaction's result out of the scope, which rolls back on it. */
    private static final class RollbackOnly extends RuntimeException {
        private static final long serialVersionUID = 1L;
        @SuppressWarnings("serial") // never serialized: caught in execute
        private final transient Object result; // T, whatever it is: NullAway reads Spring's T as non-null

        RollbackOnly(Object result) {
            super("rollback only", null, false, false);
            this.result = result;
        }
    }

    @Override
    public <T> T execute(@Nullable TransactionDefinition given, TransactionCallback<T> callback) {
        TransactionDefinition definition = given != null ? given : TransactionDefinition.withDefaults();
        Current current = (Current) TransactionSynchronizationManager.getResource(this);
        int propagation = definition.getPropagationBehavior();
        if (current != null) {
            switch (propagation) {
                case TransactionDefinition.PROPAGATION_NEVER:
                    throw new IllegalTransactionStateException("a transaction is active but the propagation is NEVER");
                case TransactionDefinition.PROPAGATION_NESTED:
                    throw new NestedTransactionNotSupportedException("tenant transactions do not nest (no"
                            + " savepoints): use REQUIRED or REQUIRES_NEW");
                case TransactionDefinition.PROPAGATION_REQUIRES_NEW:
                case TransactionDefinition.PROPAGATION_NOT_SUPPORTED:
                    Suspended suspended = suspend();
                    try {
                        return propagation == TransactionDefinition.PROPAGATION_REQUIRES_NEW
                                ? inNewScope(definition, callback) : callback.doInTransaction(
                                        new SimpleTransactionStatus(false));
                    } finally {
                        resume(suspended);
                    }
                default: // REQUIRED, SUPPORTS, MANDATORY: take part in the current one
                    SimpleTransactionStatus participant = new SimpleTransactionStatus(false);
                    T result = callback.doInTransaction(participant);
                    if (participant.isRollbackOnly()) {
                        current.status().setRollbackOnly();
                    }
                    return result;
            }
        }
        switch (propagation) {
            case TransactionDefinition.PROPAGATION_MANDATORY:
                throw new IllegalTransactionStateException("no transaction is active but the propagation is"
                        + " MANDATORY");
            case TransactionDefinition.PROPAGATION_SUPPORTS:
            case TransactionDefinition.PROPAGATION_NOT_SUPPORTED:
            case TransactionDefinition.PROPAGATION_NEVER:
                // Plain pooled connections, no tenant set: row-level security shows no tenant's rows.
                return callback.doInTransaction(new SimpleTransactionStatus(false));
            default:
                return inNewScope(definition, callback);
        }
    }

    private <T> T inNewScope(TransactionDefinition definition, TransactionCallback<T> callback) {
        if (definition.getIsolationLevel() != TransactionDefinition.ISOLATION_DEFAULT) {
            throw new InvalidIsolationLevelException("tenant transactions run at the role's default isolation"
                    + " level (PostgreSQL takes another only before the scope's first statement): remove the"
                    + " isolation attribute, or ALTER ROLE ... SET default_transaction_isolation");
        }
        String tenant = tenant();
        SimpleTransactionStatus status = new SimpleTransactionStatus(true);
        TransactionSynchronizationManager.bindResource(this, new Current(status, tenant));
        TransactionSynchronizationManager.initSynchronization();
        TransactionSynchronizationManager.setActualTransactionActive(true);
        TransactionSynchronizationManager.setCurrentTransactionReadOnly(definition.isReadOnly());
        TransactionSynchronizationManager.setCurrentTransactionName(definition.getName());
        boolean completed = false;
        try {
            T result;
            try {
                result = scope.call(tenant, connection -> work(connection, definition, status, callback));
            } catch (RollbackOnly rolledBack) {
                @SuppressWarnings("unchecked") // the result work() put there
                T kept = (T) rolledBack.result;
                completed = true;
                TransactionSynchronizationUtils.triggerAfterCompletion(TransactionSynchronization.STATUS_ROLLED_BACK);
                return kept;
            } catch (SQLException e) {
                throw translate(e);
            }
            completed = true;
            TransactionSynchronizationUtils.triggerAfterCommit();
            TransactionSynchronizationUtils.triggerAfterCompletion(TransactionSynchronization.STATUS_COMMITTED);
            return result;
        } catch (RuntimeException | Error e) {
            if (!completed) {
                TransactionSynchronizationUtils.triggerAfterCompletion(TransactionSynchronization.STATUS_ROLLED_BACK);
            }
            throw e;
        } finally {
            TransactionSynchronizationManager.clear();
            TransactionSynchronizationManager.unbindResource(this);
        }
    }

    /** Inside the scope: the connection bound for Spring's JDBC support while the method runs. */
    private <T> T work(Connection connection, TransactionDefinition definition,
                                 SimpleTransactionStatus status, TransactionCallback<T> callback) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            if (definition.isReadOnly()) {
                statement.execute("set transaction read only");
            }
            if (definition.getTimeout() > 0) {
                statement.execute("set local statement_timeout = " + definition.getTimeout() * 1000L);
            }
        }
        ConnectionHolder holder = new ConnectionHolder(connection);
        holder.setSynchronizedWithTransaction(true);
        TransactionSynchronizationManager.bindResource(dataSource, holder);
        T result;
        try {
            result = callback.doInTransaction(status);
            if (status.isRollbackOnly()) {
                TransactionSynchronizationUtils.triggerBeforeCompletion();
                throw new RollbackOnly(result);
            }
            TransactionSynchronizationUtils.triggerBeforeCommit(definition.isReadOnly());
            TransactionSynchronizationUtils.triggerBeforeCompletion();
        } finally {
            TransactionSynchronizationManager.unbindResource(dataSource);
            holder.clear();
        }
        return result;
    }

    /** The tenant claim of the service token this request was authenticated by; refused without one. */
    private String tenant() {
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        if (!(authentication instanceof ZeroTrustAuthentication caller)) {
            throw audit.event(SpringAudit.TENANT_REFUSED).field("peer", "none").refused(new ZeroTrustTenantException(
                    ZeroTrustTenantException.Reason.NOT_AUTHENTICATED, "a tenant transaction runs only for a request"
                            + " authenticated by a service token, whose tenant claim '" + claim + "' it applies;"
                            + " outside a request, use TenantScope with an explicit tenant"));
        }
        Optional<String> tenant = Optional.ofNullable(caller.token().claims().get(claim));
        return tenant.orElseThrow(() -> audit.event(SpringAudit.TENANT_REFUSED).field("peer", caller.getName())
                .refused(new ZeroTrustTenantException(ZeroTrustTenantException.Reason.NO_TENANT_CLAIM,
                        "the caller's service token has no '" + claim + "' claim, so it has no tenant's rows to see:"
                                + " mint its tokens with .claim(\"" + claim + "\", tenant)")));
    }

    private Suspended suspend() {
        Current current = (Current) TransactionSynchronizationManager.unbindResourceIfPossible(this);
        Object holder = TransactionSynchronizationManager.unbindResourceIfPossible(dataSource);
        List<TransactionSynchronization> synchronizations = null;
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            synchronizations = TransactionSynchronizationManager.getSynchronizations();
            for (TransactionSynchronization synchronization : synchronizations) {
                synchronization.suspend();
            }
        }
        Suspended suspended = new Suspended(current, holder, synchronizations,
                TransactionSynchronizationManager.getCurrentTransactionName(),
                TransactionSynchronizationManager.isCurrentTransactionReadOnly(),
                TransactionSynchronizationManager.isActualTransactionActive());
        TransactionSynchronizationManager.clear();
        return suspended;
    }

    private void resume(Suspended suspended) {
        if (suspended.current() != null) {
            TransactionSynchronizationManager.bindResource(this, suspended.current());
        }
        if (suspended.holder() != null) {
            TransactionSynchronizationManager.bindResource(dataSource, suspended.holder());
        }
        List<TransactionSynchronization> synchronizations = suspended.synchronizations();
        if (synchronizations != null) {
            TransactionSynchronizationManager.initSynchronization();
            for (TransactionSynchronization synchronization : synchronizations) {
                synchronization.resume();
                TransactionSynchronizationManager.registerSynchronization(synchronization);
            }
        }
        TransactionSynchronizationManager.setCurrentTransactionName(suspended.name());
        TransactionSynchronizationManager.setCurrentTransactionReadOnly(suspended.readOnly());
        TransactionSynchronizationManager.setActualTransactionActive(suspended.active());
    }

    private DataAccessException translate(SQLException e) {
        DataAccessException translated = translator.translate("tenant transaction", null, e);
        return translated != null ? translated : new UncategorizedSQLException("tenant transaction", null, e);
    }

    /** Not supported: a tenant scope runs as one call ({@link #execute}), as {@code @Transactional} uses it. */
    @Override
    public TransactionStatus getTransaction(@Nullable TransactionDefinition definition) {
        throw unsupported();
    }

    /** Not supported, see {@link #getTransaction}. */
    @Override
    public void commit(TransactionStatus status) {
        throw unsupported();
    }

    /** Not supported, see {@link #getTransaction}. */
    @Override
    public void rollback(TransactionStatus status) {
        throw unsupported();
    }

    private static UnsupportedOperationException unsupported() {
        return new UnsupportedOperationException("tenant transactions run as one call: use @Transactional or a"
                + " TransactionTemplate, which call execute(definition, callback)");
    }

    @Override
    public String toString() {
        return "TenantTransactionManager[" + dataSource + ", claim=" + claim + "]";
    }
}
