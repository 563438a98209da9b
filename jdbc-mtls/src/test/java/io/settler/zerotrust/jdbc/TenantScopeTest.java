package io.settler.zerotrust.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Tenant A never sees tenant B's rows, and a tenant never survives its transaction on a pooled connection. */
@TlsPostgres
class TenantScopeTest {

    static final String DATABASE = "jd_tenants";
    static final String OWNER = "jd_tenants_owner";
    static final String APP = "jd_tenants_app";

    private final LocalPostgres postgres;
    private final RecordingAuditLog audit = RecordingAuditLog.logging();
    private PostgresMtlsDataSource dataSource;
    private TenantScope tenants;

    TenantScopeTest(LocalPostgres postgres) {
        this.postgres = postgres;
    }

    @BeforeAll
    static void createSchema(LocalPostgres postgres) {
        postgres.createRole(OWNER);
        postgres.createRole(APP);
        postgres.createDatabase(DATABASE, OWNER);
        postgres.executeAsSuperuser("GRANT CONNECT ON DATABASE " + DATABASE + " TO " + APP);
        postgres.executeAsSuperuser(DATABASE, rlsSchema(OWNER, APP));
    }

    /** The table, its owner and the policy: what the README recommends. */
    static String rlsSchema(String owner, String app) {
        return String.join("\n",
                "CREATE TABLE orders (id serial PRIMARY KEY, tenant_id text NOT NULL, item text NOT NULL);",
                "CREATE INDEX orders_tenant ON orders (tenant_id);",
                "ALTER TABLE orders OWNER TO " + owner + ";",
                "ALTER TABLE orders ENABLE ROW LEVEL SECURITY;",
                "ALTER TABLE orders FORCE ROW LEVEL SECURITY;",
                "CREATE POLICY tenant_isolation ON orders USING (tenant_id = current_setting('app.tenant_id', true))"
                        + " WITH CHECK (tenant_id = current_setting('app.tenant_id', true));",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO " + app + ";",
                "GRANT USAGE ON SEQUENCE orders_id_seq TO " + app + ";");
    }

    @BeforeEach
    void openPool() throws SQLException {
        dataSource = Fixtures.builder(postgres, DATABASE, APP).maximumPoolSize(2).auditLog(audit).build();
        tenants = TenantScope.of(dataSource);
        postgres.executeAsSuperuser(DATABASE, "TRUNCATE orders");
        insert("tenant-a", "apples");
        insert("tenant-b", "bananas");
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

    private static List<String> items(Connection connection) throws SQLException {
        List<String> items = new ArrayList<>();
        try (Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("select item from orders order by item")) {
            while (rows.next()) {
                items.add(rows.getString(1));
            }
        }
        return items;
    }

    /** What a borrower outside any scope sees: the session's tenant and the visible rows. */
    private String[] unscopedView() throws SQLException {
        try (Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery("select coalesce(current_setting('app.tenant_id', true), ''),"
                     + " (select count(*) from orders)")) {
            row.next();
            return new String[] {row.getString(1), row.getString(2)};
        }
    }

    @Test
    void tenantANeverSeesTenantBRows() throws SQLException {
        assertThat(tenants.call("tenant-a", TenantScopeTest::items)).containsExactly("apples");
        assertThat(tenants.call("tenant-b", TenantScopeTest::items)).containsExactly("bananas");
        assertThat(tenants.call("tenant-c", TenantScopeTest::items)).isEmpty();
        assertThat(unscopedView()).containsExactly("", "0");
    }

    @Test
    void refusesWritingAnotherTenantsRow() {
        assertThatThrownBy(() -> insertAs("tenant-a", "tenant-b", "stolen"))
                .isInstanceOf(SQLException.class).hasMessageContaining("row-level security");
    }

    private void insertAs(String scope, String rowTenant, String item) throws SQLException {
        tenants.run(scope, c -> {
            try (PreparedStatement insert = c.prepareStatement("insert into orders (tenant_id, item) values (?, ?)")) {
                insert.setString(1, rowTenant);
                insert.setString(2, item);
                insert.executeUpdate();
            }
        });
    }

    @Test
    void tenantNeverLeaksToTheNextBorrowerOverManyCycles() throws SQLException {
        for (int i = 0; i < 300; i++) {
            String tenant = i % 2 == 0 ? "tenant-a" : "tenant-b";
            List<String> seen = tenants.call(tenant, TenantScopeTest::items);
            assertThat(seen).containsExactly(tenant.equals("tenant-a") ? "apples" : "bananas");
            if (i % 10 == 0) {
                assertThat(unscopedView()).containsExactly("", "0");
            }
        }
        assertThat(unscopedView()).containsExactly("", "0");
    }

    @Test
    void tenantDoesNotLeakAfterAnExceptionMidTransaction() throws SQLException {
        for (int i = 0; i < 20; i++) {
            assertThatThrownBy(() -> tenants.run("tenant-a", c -> {
                try (Statement statement = c.createStatement()) {
                    statement.execute("insert into orders (tenant_id, item) values ('tenant-a', 'half-done')");
                    statement.execute("select 1/0");
                }
            })).isInstanceOf(SQLException.class).hasMessageContaining("division by zero");
            assertThatThrownBy(() -> tenants.run("tenant-b", c -> {
                throw new IllegalStateException("application bug");
            })).isInstanceOf(IllegalStateException.class);
            assertThat(unscopedView()).containsExactly("", "0");
        }
        assertThat(tenants.call("tenant-a", TenantScopeTest::items)).containsExactly("apples");
    }

    @Test
    void refusesConnectionCarryingSessionLevelTenant() throws SQLException {
        try (PostgresMtlsDataSource single = Fixtures.builder(postgres, DATABASE, APP).maximumPoolSize(1)
                .auditLog(audit).build()) {
            TenantScope scope = TenantScope.of(single);
            try (Connection connection = single.getConnection(); Statement statement = connection.createStatement()) {
                statement.execute("set app.tenant_id = 'tenant-b'"); // a session-level leak waiting to happen
            }
            assertThatThrownBy(() -> scope.call("tenant-a", TenantScopeTest::items))
                    .isInstanceOfSatisfying(TenantScopeException.class,
                            e -> assertThat(e.reason()).isEqualTo(TenantScopeException.Reason.SESSION_TENANT_SETTING));
            assertThat(audit.single(PostgresAudit.TENANT_REFUSED).fields())
                    .containsEntry("tenant", "tenant-a").containsEntry("reason", "SESSION_TENANT_SETTING")
                    .hasEntrySatisfying("detail", detail -> assertThat(detail).contains("evicted"));
            // The carrier was evicted: the next connection is clean.
            assertThat(scope.call("tenant-a", TenantScopeTest::items)).containsExactly("apples");
        }
    }

    @Test
    void refusesTenantChangedInsideTheScope() throws SQLException {
        assertThatThrownBy(() -> tenants.run("tenant-a", c -> {
            try (Statement statement = c.createStatement()) {
                statement.execute("insert into orders (tenant_id, item) values ('tenant-a', 'cherries')");
                statement.execute("select set_config('app.tenant_id', 'tenant-b', false)");
            }
        })).isInstanceOfSatisfying(TenantScopeException.class,
                e -> assertThat(e.reason()).isEqualTo(TenantScopeException.Reason.TENANT_CHANGED));
        assertThat(tenants.call("tenant-a", TenantScopeTest::items)).containsExactly("apples");
        assertThat(unscopedView()).containsExactly("", "0");
    }

    @Test
    void sessionLevelSetOfTheSameTenantEndsWithTheScope() throws SQLException {
        for (int i = 0; i < 4; i++) {
            tenants.run("tenant-a", c -> {
                try (Statement statement = c.createStatement()) {
                    statement.execute("set app.tenant_id = 'tenant-a'");
                }
            });
            assertThat(unscopedView()).containsExactly("", "0");
        }
    }

    @Test
    void refusesInvalidTenantId() {
        for (String bad : new String[] {"", "tenant\nforged", "x".repeat(201)}) {
            assertThatThrownBy(() -> tenants.call(bad, TenantScopeTest::items))
                    .isInstanceOfSatisfying(TenantScopeException.class,
                            e -> assertThat(e.reason()).isEqualTo(TenantScopeException.Reason.INVALID_TENANT));
        }
    }
}
