package io.settler.zerotrust.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.jdbc.TenantScopeException.Reason;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Nothing of a session survives a tenant scope: tenant A's scope plants session state on the one
 * pooled connection (the backend pid proves it is the same), tenant B's next scope must not see it.
 */
@TlsPostgres
class TenantScopeSessionTest {

    static final String DATABASE = "jd_tenant_session";
    static final String OWNER = "jd_ts_owner";
    static final String APP = "jd_ts_app";
    /** A role the application role may SET ROLE to (without inheriting its grants): other grants. */
    static final String OTHER = "jd_ts_other";

    private final LocalPostgres postgres;
    private final RecordingAuditLog audit = RecordingAuditLog.logging();
    private PostgresMtlsDataSource dataSource;
    private TenantScope tenants;

    TenantScopeSessionTest(LocalPostgres postgres) {
        this.postgres = postgres;
    }

    @BeforeAll
    static void createSchema(LocalPostgres postgres) {
        postgres.createRole(OWNER);
        postgres.createRole(APP);
        postgres.createRole(OTHER);
        postgres.createDatabase(DATABASE, OWNER);
        postgres.executeAsSuperuser("GRANT CONNECT, TEMPORARY ON DATABASE " + DATABASE + " TO " + APP
                + "; GRANT " + OTHER + " TO " + APP + "; ALTER ROLE " + APP + " NOINHERIT");
        postgres.executeAsSuperuser(DATABASE, TenantScopeTest.rlsSchema(OWNER, APP)
                + "\nCREATE SCHEMA tenant_a_tools AUTHORIZATION " + OWNER + ";"
                + "\nGRANT USAGE ON SCHEMA tenant_a_tools TO " + APP + ";"
                + "\nCREATE TABLE other_notes (note text); ALTER TABLE other_notes OWNER TO " + OWNER + ";"
                + "\nGRANT SELECT ON other_notes TO " + OTHER + ";"
                + "\nINSERT INTO other_notes VALUES ('only " + OTHER + " may read this');");
    }

    @BeforeEach
    void openPool() throws SQLException {
        // One connection: tenant B's scope always runs on the connection tenant A's scope used.
        dataSource = Fixtures.builder(postgres, DATABASE, APP).maximumPoolSize(1)
                .statementTimeout(Duration.ofSeconds(20)).auditLog(audit).build();
        tenants = TenantScope.of(dataSource);
        postgres.executeAsSuperuser(DATABASE, "TRUNCATE orders");
        insert("tenant-a", "apples");
        insert("tenant-b", "bananas");
        audit.clear();
    }

    @AfterEach
    void closePool() {
        dataSource.close();
    }

    private void insert(String tenant, String item) throws SQLException {
        tenants.run(tenant, c -> {
            try (PreparedStatement insert = c.prepareStatement("insert into orders (tenant_id, item) values (?, ?)")) {
                insert.setString(1, tenant);
                insert.setString(2, item);
                insert.executeUpdate();
            }
        });
    }

    private static void execute(Connection connection, String... sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            for (String each : sql) {
                statement.execute(each);
            }
        }
    }

    private static List<String> column(Connection connection, String sql) throws SQLException {
        List<String> values = new ArrayList<>();
        try (Statement statement = connection.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
            while (rows.next()) {
                values.add(rows.getString(1));
            }
        }
        return values;
    }

    private static String value(Connection connection, String sql) throws SQLException {
        return column(connection, sql).get(0);
    }

    /** Tenant A plants state on the pooled connection; returns its backend pid. */
    private int plantAsTenantA(TenantScope.Action plant) throws SQLException {
        return tenants.call("tenant-a", c -> {
            plant.run(c);
            return Integer.valueOf(value(c, "select pg_backend_pid()"));
        });
    }

    /** Tenant B's next scope on the same connection: the first value of each query. */
    private List<String> tenantBSees(int pid, String... queries) throws SQLException {
        return tenants.call("tenant-b", c -> {
            assertThat(Integer.valueOf(value(c, "select pg_backend_pid()"))).isEqualTo(pid);
            List<String> values = new ArrayList<>();
            for (String query : queries) {
                values.add(value(c, query));
            }
            return values;
        });
    }

    /** Tenant B's next scope on the same connection: all rows of one query. */
    private List<String> tenantBSeesRows(int pid, String query) throws SQLException {
        return tenants.call("tenant-b", c -> {
            assertThat(Integer.valueOf(value(c, "select pg_backend_pid()"))).isEqualTo(pid);
            return column(c, query);
        });
    }

    private List<String> scopedRows(String tenant, String query) throws SQLException {
        return tenants.call(tenant, c -> column(c, query));
    }

    private void assertRefused(Reason reason) {
        assertThat(audit.withAction("jdbc.tenant_refused")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("reason", reason.name()));
    }

    @Test
    void roleSetInsideTenantAScopeDoesNotCarryIntoTenantBScope() throws SQLException {
        int pid = plantAsTenantA(c -> execute(c, "set role " + OTHER));
        assertThat(tenantBSees(pid, "select current_user")).containsExactly(APP);
        // Tenant B must not read with the privileges of the role tenant A switched to.
        assertThatThrownBy(() -> tenantBSeesRows(pid, "select note from other_notes"))
                .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
    }

    @Test
    void sessionSettingsOfTenantAScopeDoNotCarryIntoTenantBScope() throws SQLException {
        int pid = plantAsTenantA(c -> execute(c, "set search_path = tenant_a_tools, public",
                "select set_config('app.region', 'tenant-a-region', false)", "set statement_timeout = 0",
                "set session characteristics as transaction isolation level serializable"));
        assertThat(tenantBSees(pid, "show search_path", "select coalesce(current_setting('app.region', true), '')",
                "show statement_timeout", "show default_transaction_isolation"))
                .containsExactly("\"$user\", public", "", "20s", "read committed");
    }

    @Test
    void tempTableOfTenantAScopeCannotShadowTheTableInTenantBScope() throws SQLException {
        int pid = plantAsTenantA(c -> execute(c,
                "create temp table orders (id int, tenant_id text, item text)",
                "insert into pg_temp.orders values (1, 'tenant-b', 'planted by tenant-a')",
                "create function pg_temp.tenant_of(text) returns text language sql as $$ select 'tenant-a' $$"));
        assertThat(tenantBSeesRows(pid, "select item from orders")).containsExactly("bananas");
        assertThat(tenantBSees(pid, "select count(*) from pg_class where relnamespace = pg_my_temp_schema()"))
                .containsExactly("0");
    }

    @Test
    void holdCursorDoesNotCarryTenantARowsIntoTenantBScope() throws SQLException {
        int pid = plantAsTenantA(c -> execute(c, "declare leak cursor with hold for select item from orders"));
        assertThatThrownBy(() -> tenantBSeesRows(pid, "fetch all from leak"))
                .isInstanceOf(SQLException.class).hasMessageContaining("cursor \"leak\" does not exist");
    }

    @Test
    void listenOfTenantAScopeDoesNotDeliverToTenantBScope() throws SQLException {
        int pid = plantAsTenantA(c -> execute(c, "listen tenant_b_orders"));
        postgres.executeAsSuperuser(DATABASE, "NOTIFY tenant_b_orders, 'order 7 of tenant-b'");
        List<String> seen = tenants.call("tenant-b", c -> {
            assertThat(Integer.valueOf(value(c, "select pg_backend_pid()"))).isEqualTo(pid);
            List<String> channels = column(c, "select pg_listening_channels()");
            for (PGNotification notification : c.unwrap(PGConnection.class).getNotifications()) {
                channels.add(notification.getParameter());
            }
            return channels;
        });
        assertThat(seen).isEmpty();
    }

    @Test
    void advisoryLockOfTenantAScopeIsReleasedWhenTheScopeEnds() throws SQLException {
        int pid = plantAsTenantA(c -> execute(c, "select pg_advisory_lock(42)"));
        assertThat(postgres.executeAsSuperuser(DATABASE,
                "select count(*) from pg_locks where locktype = 'advisory' and pid = " + pid)).isEqualTo("0");
        assertThat(tenantBSees(pid, "select pg_try_advisory_lock(42)")).containsExactly("t");
    }

    @Test
    void refusesStatementPreparedInsideAScope() throws SQLException {
        assertThatThrownBy(() -> plantAsTenantA(c -> execute(c, "prepare planted as select item from orders")))
                .isInstanceOfSatisfying(TenantScopeException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.PREPARED_STATEMENT));
        assertRefused(Reason.PREPARED_STATEMENT);
        assertThatThrownBy(() -> scopedRows("tenant-b", "execute planted"))
                .isInstanceOf(SQLException.class).hasMessageContaining("prepared statement \"planted\" does not exist");
    }

    @Test
    void refusesSubstitutingTheDriversPreparedStatement() throws SQLException {
        String query = "select item from orders where item <> ?";
        for (int i = 0; i < 8; i++) { // past pgjdbc's prepareThreshold: the driver names it on the server
            tenants.call("tenant-b", c -> itemsOtherThan(c, query, "none"));
        }
        // Tenant A puts its own SQL under the driver's name of tenant B's statement.
        assertThatThrownBy(() -> plantAsTenantA(c -> {
            String onTheServer = query.replace("?", "$1");
            for (String name : column(c, "select name from pg_prepared_statements where statement = '"
                    + onTheServer + "'")) {
                execute(c, "deallocate \"" + name + "\"",
                        "prepare \"" + name + "\" (text) as select 'planted by tenant-a' where $1 is not null");
            }
        })).isInstanceOfSatisfying(TenantScopeException.class,
                e -> assertThat(e.reason()).isEqualTo(Reason.PREPARED_STATEMENT));
        assertRefused(Reason.PREPARED_STATEMENT);
        for (int i = 0; i < 8; i++) {
            List<String> items = tenants.call("tenant-b", c -> itemsOtherThan(c, query, "none"));
            assertThat(items).containsExactly("bananas");
        }
    }

    @Test
    void refusesConnectionCarryingAStatementPreparedOutsideAScope() throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            execute(connection, "prepare planted as select item from orders"); // an unscoped borrower
        }
        assertThatThrownBy(() -> scopedRows("tenant-b", "execute planted"))
                .isInstanceOfSatisfying(TenantScopeException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.PREPARED_STATEMENT));
        assertRefused(Reason.PREPARED_STATEMENT);
    }

    private static List<String> itemsOtherThan(Connection connection, String query, String item) throws SQLException {
        List<String> items = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(query)) {
            statement.setString(1, item);
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    items.add(rows.getString(1));
                }
            }
        }
        return items;
    }

    @Test
    void sequencePositionOfTenantAScopeIsNotVisibleInTenantBScope() throws SQLException {
        int pid = plantAsTenantA(c -> execute(c, "insert into orders (tenant_id, item) values ('tenant-a', 'figs')"));
        assertThatThrownBy(() -> tenantBSees(pid, "select currval('orders_id_seq')"))
                .isInstanceOf(SQLException.class).hasMessageContaining("not yet defined in this session");
    }

    @Test
    void sessionAuthorizationCannotBeChangedInsideAScope() throws SQLException {
        assertThatThrownBy(() -> plantAsTenantA(c -> execute(c, "set session authorization " + OTHER)))
                .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
        assertThat(scopedRows("tenant-b", "select session_user || '/' || current_user"))
                .containsExactly(APP + "/" + APP);
    }

    @Test
    void stateOfAFailedTenantAScopeDoesNotCarryIntoTenantBScope() throws SQLException {
        // Advisory locks, PREPARE and sequence positions survive a rollback; the failed scope is reset anyway.
        int[] pid = new int[1];
        assertThatThrownBy(() -> tenants.run("tenant-a", c -> {
            pid[0] = Integer.parseInt(value(c, "select pg_backend_pid()"));
            execute(c, "select pg_advisory_lock(43)", "prepare planted_before_failure as select 1",
                    "set role " + OTHER);
            execute(c, "select 1/0");
        })).isInstanceOf(SQLException.class).hasMessageContaining("division by zero");
        assertThat(tenantBSees(pid[0], "select current_user",
                "select count(*) from pg_prepared_statements where from_sql",
                "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()"))
                .containsExactly(APP, "0", "0");
        assertThat(audit.withAction("jdbc.tenant_refused")).isEmpty();
    }

    @Test
    void workThatSwallowsAnErrorLeavesAFailedTransactionThatIsRolledBackAndReset() throws SQLException {
        int[] pid = new int[1];
        assertThatThrownBy(() -> tenants.run("tenant-a", c -> {
            pid[0] = Integer.parseInt(value(c, "select pg_backend_pid()"));
            execute(c, "select pg_advisory_lock(44)",
                    "insert into orders (tenant_id, item) values ('tenant-a', 'kiwis')");
            try {
                execute(c, "select 1/0");
            } catch (SQLException swallowed) {
                // the work carries on as if nothing happened
            }
        })).isInstanceOf(SQLException.class).hasMessageContaining("current transaction is aborted");
        assertThat(tenantBSees(pid[0], "select count(*) from pg_locks where locktype = 'advisory'"
                + " and pid = pg_backend_pid()")).containsExactly("0");
        assertThat(scopedRows("tenant-a", "select item from orders")).containsExactly("apples");
    }

    @Test
    void refusesWorkThatCommitsTheScopeItself() {
        assertThatThrownBy(() -> tenants.run("tenant-a", c -> {
            execute(c, "insert into orders (tenant_id, item) values ('tenant-a', 'committed early')");
            c.commit();
            execute(c, "select set_config('app.tenant_id', 'tenant-a', true)",
                    "insert into orders (tenant_id, item) values ('tenant-a', 'after the commit')");
        })).isInstanceOfSatisfying(TenantScopeException.class,
                e -> assertThat(e.reason()).isEqualTo(Reason.TRANSACTION_ENDED));
        assertRefused(Reason.TRANSACTION_ENDED);
    }

    @Test
    void refusesWorkThatCommitsTheScopeWithSql() {
        assertThatThrownBy(() -> tenants.run("tenant-a", c -> execute(c, "commit")))
                .isInstanceOfSatisfying(TenantScopeException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.TRANSACTION_ENDED));
        assertRefused(Reason.TRANSACTION_ENDED);
    }

    @Test
    void refusesWorkThatClosesTheScopesConnection() throws SQLException {
        assertThatThrownBy(() -> tenants.run("tenant-a", c -> {
            execute(c, "select pg_advisory_lock(45)");
            c.close();
        })).isInstanceOfSatisfying(TenantScopeException.class,
                e -> assertThat(e.reason()).isEqualTo(Reason.TRANSACTION_ENDED));
        assertRefused(Reason.TRANSACTION_ENDED);
        assertThat(scopedRows("tenant-b", "select count(*) from pg_locks where locktype = 'advisory'"))
                .containsExactly("0");
    }

    @Test
    void refusesConnectionLeftInAnotherRoleOutsideAScope() throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            execute(connection, "set role " + OTHER); // an unscoped borrower switches role and hands it back
        }
        assertThatThrownBy(() -> scopedRows("tenant-b", "select note from other_notes"))
                .isInstanceOfSatisfying(TenantScopeException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.SESSION_ROLE));
        assertRefused(Reason.SESSION_ROLE);
        assertThat(scopedRows("tenant-b", "select current_user")).containsExactly(APP);
    }

    @Test
    void tempTableLeftByAnUnscopedBorrowerDoesNotShadowTheTableInAScope() throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            execute(connection, "create temp table orders (item text)", "insert into orders values ('planted')");
        }
        assertThat(scopedRows("tenant-b", "select item from orders")).containsExactly("bananas");
    }

    @Test
    void notificationReceivedForAnUnscopedBorrowerIsNotHandedToAScope() throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            execute(connection, "listen tenant_a_orders");
            postgres.executeAsSuperuser(DATABASE, "NOTIFY tenant_a_orders, 'order 3 of tenant-a'");
            execute(connection, "select 1");   // pgjdbc reads the notification with this answer and keeps it
        }
        List<String> seen = tenants.call("tenant-b", c -> {
            List<String> payloads = new java.util.ArrayList<>();
            for (PGNotification notification : c.unwrap(PGConnection.class).getNotifications()) {
                payloads.add(notification.getParameter());
            }
            return payloads;
        });
        assertThat(seen).isEmpty();
    }
}
