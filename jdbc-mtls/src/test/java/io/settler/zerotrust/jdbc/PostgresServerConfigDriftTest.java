package io.settler.zerotrust.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The drift check sees what reaches the managed roles indirectly: role memberships that lead to a
 * superuser, BYPASSRLS or the tables' owner, extra or rewritten row-level security policies, RLS
 * turned off, and pg_hba.conf lines that reach the roles through {@code all} or {@code +group}. Each
 * test makes one such change on a real server started from the rendered files, asserts the report
 * and the audit event, and undoes it; after each test the server must be clean again.
 */
class PostgresServerConfigDriftTest {

    private static final Policy POLICY = Policy.builder("example.org")
            .service("orders_db", db -> db.acceptService("api", "127.0.0.1/32")
                    .acceptService("reports", "127.0.0.1/32"))
            .service("api", api -> api.scopes("db:read", "db:write"))
            .service("reports", reports -> reports.scopes("db:read"))
            .build();

    private static LocalPostgres postgres;
    private static List<String> hba;
    private static List<String> ident;

    private final RecordingAuditLog audit = RecordingAuditLog.logging();
    private final PostgresServerConfig config = PostgresServerConfig.builder(POLICY, "orders_db").database("orders")
            .tenantTable("orders").auditLog(audit).build();

    @BeforeAll
    static void startServerFromTheRenderedFiles() {
        PostgresServerConfig config = PostgresServerConfig.builder(POLICY, "orders_db").database("orders")
                .tenantTable("orders").build();
        hba = new ArrayList<>(List.of(Fixtures.AUDITOR_HBA));
        hba.addAll(config.hbaLines());
        ident = new ArrayList<>(config.identLines());
        ident.add(Fixtures.AUDITOR_IDENT);
        postgres = LocalPostgres.builder(DevCertificateAuthority.create("example.org")).authentication(hba, ident)
                .start();
        postgres.createRole("orders_owner");
        postgres.createRole("auditor");
        postgres.createDatabase("orders", "orders_owner");
        postgres.executeAsSuperuser("orders", String.join("\n",
                "CREATE TABLE orders (id serial PRIMARY KEY, tenant_id text NOT NULL, item text NOT NULL);",
                "ALTER TABLE orders OWNER TO orders_owner;",
                "GRANT CONNECT ON DATABASE orders TO auditor;",
                Fixtures.AUDITOR_GRANTS));
        postgres.executeAsSuperuser("orders", config.sql());
    }

    @AfterAll
    static void stopServer() {
        postgres.close();
    }

    @AfterEach
    void serverIsCleanAgain() throws SQLException {
        assertThat(drift()).as("after undoing the change").isEmpty();
    }

    @Test
    void reportsManagedRoleMadeMemberOfASuperuserRole() throws SQLException {
        postgres.executeAsSuperuser("CREATE ROLE root_like SUPERUSER NOLOGIN; GRANT root_like TO reports");
        try {
            assertReported("role reports is a member of root_like (directly or through other roles, so it may"
                    + " SET ROLE to it), which is a superuser");
        } finally {
            postgres.executeAsSuperuser("DROP ROLE root_like");
        }
    }

    @Test
    void reportsManagedRoleThatReachesABypassRlsRoleThroughAnotherRole() throws SQLException {
        postgres.executeAsSuperuser("CREATE ROLE rls_bypass BYPASSRLS NOLOGIN; CREATE ROLE middle NOLOGIN NOINHERIT;"
                + " GRANT rls_bypass TO middle; GRANT middle TO api");
        try {
            assertReported("role api is a member of rls_bypass (directly or through other roles, so it may SET ROLE"
                    + " to it), which has BYPASSRLS");
        } finally {
            postgres.executeAsSuperuser("DROP ROLE middle; DROP ROLE rls_bypass");
        }
    }

    @Test
    void reportsManagedRoleGrantedAPredefinedRoleThatReadsAllData() throws SQLException {
        postgres.executeAsSuperuser("GRANT pg_read_all_data TO reports");
        try {
            assertReported("role reports is a member of pg_read_all_data");
        } finally {
            postgres.executeAsSuperuser("REVOKE pg_read_all_data FROM reports");
        }
    }

    @Test
    void reportsManagedRoleThatCanBecomeTheTableOwner() throws SQLException {
        postgres.executeAsSuperuser("GRANT orders_owner TO api");
        try {
            assertReported("role api is a member of orders_owner, the owner of table orders, so it may SET ROLE to"
                    + " it and turn row-level security off");
        } finally {
            postgres.executeAsSuperuser("REVOKE orders_owner FROM api");
        }
    }

    @Test
    void reportsExtraPermissivePolicyThatShowsEveryTenant() throws SQLException {
        postgres.executeAsSuperuser("orders", "CREATE POLICY peek ON orders FOR SELECT USING (true)");
        try {
            assertReported("table orders has the extra permissive policy peek (USING true), which widens what each"
                    + " tenant sees");
        } finally {
            postgres.executeAsSuperuser("orders", "DROP POLICY peek ON orders");
        }
    }

    @Test
    void reportsTenantPolicyRewrittenToShowEveryRow() throws SQLException {
        postgres.executeAsSuperuser("orders", "ALTER POLICY tenant_isolation ON orders USING (true)");
        try {
            assertReported("the policy tenant_isolation on table orders is not the rendered one (permissive,"
                    + " for *, USING true,");
        } finally {
            postgres.executeAsSuperuser("orders", config.sql());
        }
    }

    @Test
    void reportsRowLevelSecurityDisabled() throws SQLException {
        postgres.executeAsSuperuser("orders", "ALTER TABLE orders DISABLE ROW LEVEL SECURITY");
        try {
            assertReported("table orders does not enable row-level security");
        } finally {
            postgres.executeAsSuperuser("orders", "ALTER TABLE orders ENABLE ROW LEVEL SECURITY");
        }
    }

    @Test
    void reportsRowLevelSecurityNotForcedOnTheOwner() throws SQLException {
        postgres.executeAsSuperuser("orders", "ALTER TABLE orders NO FORCE ROW LEVEL SECURITY");
        try {
            assertReported("table orders does not force row-level security on its owner");
        } finally {
            postgres.executeAsSuperuser("orders", "ALTER TABLE orders FORCE ROW LEVEL SECURITY");
        }
    }

    @Test
    void reportsHbaLineThatReachesAManagedRoleThroughAGroup() throws SQLException {
        postgres.executeAsSuperuser("CREATE ROLE staff NOLOGIN; GRANT staff TO api");
        try {
            withHbaLine("hostssl orders +staff 127.0.0.1/32 trust",
                    "hostssl [orders] [+staff] 127.0.0.1 trust) admits a connection the policy does not: it"
                            + " reaches the role(s) [api]");
        } finally {
            postgres.executeAsSuperuser("DROP ROLE staff");
        }
    }

    @Test
    void reportsHbaLineThatReachesEveryManagedRoleThroughAll() throws SQLException {
        withHbaLine("hostssl all all 0.0.0.0/0 cert", "hostssl [all] [all] 0.0.0.0 cert) admits a connection the"
                + " policy does not: it reaches the role(s) [api, reports]");
    }

    @Test
    void reportsLocalSocketLineThatReachesTheManagedRoles() throws SQLException {
        withHbaLine("local orders all trust", "local [orders] [all] trust) admits a connection the policy does not:"
                + " it reaches the role(s) [api, reports]");
    }

    @Test
    void ignoresAGroupLineThatReachesNoManagedRole() throws SQLException {
        postgres.executeAsSuperuser("CREATE ROLE staff_only NOLOGIN");
        List<String> edited = new ArrayList<>(hba);
        edited.add(0, "hostssl orders +staff_only 127.0.0.1/32 trust");
        try {
            postgres.replaceAuthentication(edited, ident);
            assertThat(drift()).isEmpty();
        } finally {
            postgres.replaceAuthentication(hba, ident);
            postgres.executeAsSuperuser("DROP ROLE staff_only");
        }
    }

    private void withHbaLine(String line, String expected) throws SQLException {
        List<String> edited = new ArrayList<>(hba);
        edited.add(1, line); // after the auditor's own line
        postgres.replaceAuthentication(edited, ident);
        try {
            assertReported(expected);
        } finally {
            postgres.replaceAuthentication(hba, ident);
        }
    }

    private void assertReported(String difference) throws SQLException {
        assertThat(String.join("\n", drift())).contains(difference);
        List<AuditEvent> events = audit.withAction("jdbc.config_drift");
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.WARNING);
            assertThat(e.fields().get("differences")).contains(difference);
        });
        audit.clear();
    }

    private List<String> drift() throws SQLException {
        try (Connection auditor = postgres.connect("orders", "auditor")) {
            return config.drift(auditor).differences();
        }
    }
}
