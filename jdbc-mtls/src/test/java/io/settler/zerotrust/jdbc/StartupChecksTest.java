package io.settler.zerotrust.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.jdbc.InsecureDataSourceException.Reason;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Start-up proof: TLS 1.3 with our certificate, a role that cannot get around RLS (itself or through a role it can
 * become), a read-only role that cannot write.
 */
@TlsPostgres
class StartupChecksTest {

    private static final String DATABASE = "jd_checks";
    private static final String OWNER = "jd_checks_owner";

    private final LocalPostgres postgres;
    private final RecordingAuditLog audit = RecordingAuditLog.logging();

    StartupChecksTest(LocalPostgres postgres) {
        this.postgres = postgres;
    }

    @BeforeAll
    static void createDatabase(LocalPostgres postgres) {
        postgres.createRole(OWNER);
        postgres.createDatabase(DATABASE, OWNER);
        for (String role : new String[] {"jd_super", "jd_bypass", "jd_lazy_owner", "jd_lazy_member", "jd_forced_owner",
                "jd_reader", "jd_reader_rw_default", "jd_writer", "jd_bypass_member", "jd_between", "jd_nested_member",
                "jd_set_role_only", "jd_admin_only", "jd_createrole", "jd_replication", "jd_file_reader",
                "jd_starts_as_other", "jd_plain", "jd_policy_reader", "jd_view_reader", "jd_matview_reader",
                "jd_invoker_view_reader"}) {
            postgres.createRole(role);
            postgres.executeAsSuperuser("GRANT CONNECT ON DATABASE " + DATABASE + " TO " + role);
        }
        postgres.executeAsSuperuser("ALTER ROLE jd_super SUPERUSER; ALTER ROLE jd_bypass BYPASSRLS;"
                + " GRANT jd_lazy_owner TO jd_lazy_member;"
                + " ALTER ROLE jd_reader SET default_transaction_read_only = on;"
                + " ALTER ROLE jd_writer SET default_transaction_read_only = on;"
                // Membership paths to a role that gets around row-level security:
                + " GRANT jd_bypass TO jd_bypass_member;"
                + " GRANT jd_between TO jd_nested_member; GRANT jd_bypass TO jd_between;"
                + " ALTER ROLE jd_set_role_only NOINHERIT; GRANT jd_super TO jd_set_role_only;"
                + " ALTER ROLE jd_admin_only NOINHERIT; GRANT jd_bypass TO jd_admin_only WITH ADMIN OPTION;"
                // Attributes that get around it as well:
                + " ALTER ROLE jd_createrole CREATEROLE; ALTER ROLE jd_replication REPLICATION;"
                + " GRANT pg_read_server_files TO jd_file_reader;"
                + " GRANT jd_plain TO jd_starts_as_other; ALTER ROLE jd_starts_as_other SET role = 'jd_plain'");
        postgres.executeAsSuperuser(DATABASE, String.join("\n",
                "CREATE TABLE lazy (id int, tenant_id text);",
                "ALTER TABLE lazy ENABLE ROW LEVEL SECURITY;",
                "ALTER TABLE lazy OWNER TO jd_lazy_owner;",
                "CREATE TABLE forced (id int, tenant_id text);",
                "ALTER TABLE forced ENABLE ROW LEVEL SECURITY;",
                "ALTER TABLE forced FORCE ROW LEVEL SECURITY;",
                "ALTER TABLE forced OWNER TO jd_forced_owner;",
                "CREATE TABLE reports (id int);",
                "ALTER TABLE reports OWNER TO " + OWNER + ";",
                "GRANT SELECT ON reports TO jd_reader, jd_reader_rw_default;",
                "GRANT SELECT, INSERT ON reports TO jd_writer;",
                "CREATE TABLE unenforced (id int, tenant_id text);",
                "ALTER TABLE unenforced OWNER TO " + OWNER + ";",
                "CREATE POLICY tenant_isolation ON unenforced"
                        + " USING (tenant_id = current_setting('app.tenant_id', true));",
                "GRANT SELECT ON unenforced TO jd_policy_reader;",
                "INSERT INTO forced VALUES (1, 'tenant-a'), (2, 'tenant-b');",
                // A tenant table and views over it, owned by the same (exempt, since not forced) owner.
                "CREATE TABLE shared (id int, tenant_id text);",
                "ALTER TABLE shared OWNER TO " + OWNER + ";",
                "ALTER TABLE shared ENABLE ROW LEVEL SECURITY;",
                "CREATE POLICY tenant_isolation ON shared USING (tenant_id = current_setting('app.tenant_id', true));",
                "INSERT INTO shared VALUES (1, 'tenant-a'), (2, 'tenant-b');",
                "CREATE VIEW shared_all AS SELECT * FROM shared;",
                "CREATE VIEW shared_invoker WITH (security_invoker = on) AS SELECT * FROM shared;",
                "CREATE MATERIALIZED VIEW shared_snapshot AS SELECT * FROM shared;",
                "ALTER VIEW shared_all OWNER TO " + OWNER + "; ALTER VIEW shared_invoker OWNER TO " + OWNER + ";",
                "ALTER MATERIALIZED VIEW shared_snapshot OWNER TO " + OWNER + ";",
                "GRANT SELECT ON shared_all TO jd_view_reader;",
                "GRANT SELECT ON shared_snapshot TO jd_matview_reader;",
                "GRANT SELECT ON shared, shared_invoker TO jd_invoker_view_reader;"));
    }

    private PostgresMtlsDataSource.Builder builder(String role) {
        return Fixtures.builder(postgres, DATABASE, role).maximumPoolSize(1).auditLog(audit);
    }

    private void assertRefused(PostgresMtlsDataSource.Builder builder, Reason reason, String message) {
        assertThatThrownBy(builder::build)
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(reason))
                .hasMessageContaining(message);
        assertThat(audit.withAction("jdbc.refused")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("reason", reason.name()));
    }

    @Test
    void refusesSuperuserRole() {
        assertRefused(builder("jd_super"), Reason.ROLE_PRIVILEGES, "superuser");
    }

    @Test
    void refusesBypassRlsRole() {
        assertRefused(builder("jd_bypass"), Reason.ROLE_PRIVILEGES, "BYPASSRLS");
    }

    @Test
    void refusesRoleOwningRlsTableWithoutForce() {
        assertRefused(builder("jd_lazy_owner"), Reason.ROLE_PRIVILEGES, "public.lazy");
    }

    @Test
    void refusesRoleThatCanBecomeTheOwnerOfAnUnforcedRlsTable() {
        assertRefused(builder("jd_lazy_member"), Reason.ROLE_PRIVILEGES, "public.lazy");
    }

    @Test
    void refusesOwnerOfForcedRlsTableBecauseItCanSwitchRlsOff() throws SQLException {
        // The attack: the owner turns row-level security off inside its own transaction and reads every tenant.
        try (Connection owner = postgres.connect(DATABASE, "jd_forced_owner");
             Statement statement = owner.createStatement()) {
            owner.setAutoCommit(false);
            statement.execute("select set_config('app.tenant_id', 'tenant-a', true)");
            statement.execute("create policy tenant_isolation on forced using"
                    + " (tenant_id = current_setting('app.tenant_id', true))");
            assertThat(count(statement, "select count(*) from forced")).isEqualTo(1);
            statement.execute("alter table forced no force row level security");
            assertThat(count(statement, "select count(*) from forced")).isEqualTo(2);
            owner.rollback();
        }
        assertRefused(builder("jd_forced_owner"), Reason.ROLE_PRIVILEGES, "public.forced");
    }

    private static int count(Statement statement, String sql) throws SQLException {
        try (ResultSet row = statement.executeQuery(sql)) {
            row.next();
            return row.getInt(1);
        }
    }

    @Test
    void refusesDirectMemberOfBypassRlsRole() {
        assertRefused(builder("jd_bypass_member"), Reason.ROLE_PRIVILEGES, "it can become jd_bypass");
    }

    @Test
    void refusesNestedMemberOfBypassRlsRole() {
        assertRefused(builder("jd_nested_member"), Reason.ROLE_PRIVILEGES, "it can become jd_bypass");
    }

    @Test
    void refusesNoInheritMemberThatCanSetRoleToASuperuser() throws SQLException {
        // The attack: the role inherits nothing, but SET ROLE makes it a superuser.
        try (Connection connection = postgres.connect(DATABASE, "jd_set_role_only");
             Statement statement = connection.createStatement()) {
            statement.execute("set role jd_super");
            try (ResultSet row = statement.executeQuery("select current_setting('is_superuser')")) {
                row.next();
                assertThat(row.getString(1)).isEqualTo("on");
            }
        }
        assertRefused(builder("jd_set_role_only"), Reason.ROLE_PRIVILEGES, "it can become jd_super");
    }

    @Test
    void refusesNoInheritMemberWithAdminOptionOnBypassRlsRole() {
        assertRefused(builder("jd_admin_only"), Reason.ROLE_PRIVILEGES, "it can become jd_bypass");
    }

    @Test
    void refusesCreateRoleRoleThatCanGrantItselfTheOwner() {
        assertRefused(builder("jd_createrole"), Reason.ROLE_PRIVILEGES, "CREATEROLE");
    }

    @Test
    void refusesReplicationRole() {
        assertRefused(builder("jd_replication"), Reason.ROLE_PRIVILEGES, "REPLICATION");
    }

    @Test
    void refusesRoleThatCanReadTheServersFiles() {
        assertRefused(builder("jd_file_reader"), Reason.ROLE_PRIVILEGES, "it can become pg_read_server_files");
    }

    @Test
    void refusesRoleThatStartsItsSessionsAsAnotherRole() {
        assertRefused(builder("jd_starts_as_other"), Reason.ROLE_PRIVILEGES, "starts its sessions as jd_plain");
    }

    @Test
    void refusesRoleThatCanUseTableWhosePoliciesAreNotEnforced() {
        assertRefused(builder("jd_policy_reader"), Reason.ROLE_PRIVILEGES, "public.unenforced");
    }

    @Test
    void refusesRoleThatCanReadAroundRlsThroughItsOwnersView() throws SQLException {
        // The attack: the view checks the policies as its owner, who owns the unforced table: every tenant's rows.
        try (Connection connection = postgres.connect(DATABASE, "jd_view_reader");
             Statement statement = connection.createStatement()) {
            statement.execute("set app.tenant_id = 'tenant-a'");
            assertThat(count(statement, "select count(*) from shared_all")).isEqualTo(2);
        }
        assertRefused(builder("jd_view_reader"), Reason.ROLE_PRIVILEGES, "public.shared_all");
    }

    @Test
    void refusesRoleThatCanReadAMaterializedViewOfARlsTable() {
        assertRefused(builder("jd_matview_reader"), Reason.ROLE_PRIVILEGES, "public.shared_snapshot");
    }

    @Test
    void acceptsRoleReadingThroughASecurityInvokerView() throws SQLException {
        try (PostgresMtlsDataSource dataSource = builder("jd_invoker_view_reader").build()) {
            int seen = TenantScope.of(dataSource).call("tenant-a", c -> {
                try (Statement statement = c.createStatement()) {
                    return count(statement, "select count(*) from shared_invoker");
                }
            });
            assertThat(seen).isEqualTo(1);
        }
    }

    @Test
    void refusesSessionShowingAnotherClientCertificate() {
        IssuedCertificate ours = postgres.clientCertificate("jd_writer");
        IssuedCertificate seen = postgres.clientCertificate("jd_reader");
        assertThatThrownBy(() -> StartupChecks.checkTls(true, "TLSv1.3",
                seen.certificate().getSerialNumber().toString(), "/CN=jd_reader", ours.certificate()))
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.TLS_POSTURE));
        assertThatCode(() -> StartupChecks.checkTls(true, "TLSv1.3",
                ours.certificate().getSerialNumber().toString(), "/CN=" + ours.identity(), ours.certificate()))
                .doesNotThrowAnyException();
    }

    @Test
    void refusesSessionBelowTls13() {
        IssuedCertificate ours = postgres.clientCertificate("jd_writer");
        assertThatThrownBy(() -> StartupChecks.checkTls(true, "TLSv1.2",
                ours.certificate().getSerialNumber().toString(), "/CN=jd_writer", ours.certificate()))
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.TLS_POSTURE));
        assertThatThrownBy(() -> StartupChecks.checkTls(false, null, null, null, ours.certificate()))
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.TLS_POSTURE));
    }

    @Test
    void readOnlyPoolIsEnforcedByTheServer() throws SQLException {
        try (PostgresMtlsDataSource readOnly = builder("jd_reader").readOnly().build();
             Connection connection = readOnly.getConnection();
             Statement statement = connection.createStatement()) {
            assertThat(statement.executeQuery("select count(*) from reports").next()).isTrue();
            // Even a client that drops its own read-only flag cannot write: the server says no.
            connection.setReadOnly(false);
            assertThatThrownBy(() -> statement.execute("insert into reports values (1)"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("read-only transaction");
            statement.execute("set default_transaction_read_only = off");
            assertThatThrownBy(() -> statement.execute("insert into reports values (1)"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
        }
    }

    @Test
    void tenantScopeResetsTheSessionInsideAReadOnlyTransaction() throws SQLException {
        try (PostgresMtlsDataSource readOnly = builder("jd_reader").readOnly().build()) {
            TenantScope scope = TenantScope.of(readOnly);
            scope.run("tenant-a", c -> {
                try (Statement statement = c.createStatement()) {
                    statement.execute("set default_transaction_read_only = off");
                }
            });
            String seen = scope.call("tenant-b", c -> {
                try (Statement statement = c.createStatement();
                     ResultSet row = statement.executeQuery("show default_transaction_read_only")) {
                    row.next();
                    return row.getString(1);
                }
            });
            assertThat(seen).isEqualTo("on");
        }
    }

    @Test
    void refusesReadOnlyPoolWhoseRoleCanWrite() {
        assertRefused(builder("jd_writer").readOnly(), Reason.NOT_READ_ONLY, "public.reports");
    }

    @Test
    void refusesReadOnlyPoolWhoseRoleDefaultsToReadWrite() {
        assertRefused(builder("jd_reader_rw_default").readOnly(), Reason.NOT_READ_ONLY,
                "default_transaction_read_only");
    }
}
