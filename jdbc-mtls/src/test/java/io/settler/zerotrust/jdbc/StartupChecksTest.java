package io.settler.zerotrust.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.jdbc.InsecureDataSourceException.Reason;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.TlsPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Start-up proof: TLS 1.3 with our certificate, a role that cannot get around RLS, a read-only role that cannot write. */
@TlsPostgres
class StartupChecksTest {

    private static final String DATABASE = "jd_checks";
    private static final String OWNER = "jd_checks_owner";

    private final LocalPostgres postgres;
    private final Fixtures.Events audit = new Fixtures.Events();

    StartupChecksTest(LocalPostgres postgres) {
        this.postgres = postgres;
    }

    @BeforeAll
    static void createDatabase(LocalPostgres postgres) {
        postgres.createRole(OWNER);
        postgres.createDatabase(DATABASE, OWNER);
        for (String role : new String[] {"jd_super", "jd_bypass", "jd_lazy_owner", "jd_lazy_member", "jd_forced_owner",
                "jd_reader", "jd_reader_rw_default", "jd_writer"}) {
            postgres.createRole(role);
            postgres.executeAsSuperuser("GRANT CONNECT ON DATABASE " + DATABASE + " TO " + role);
        }
        postgres.executeAsSuperuser("ALTER ROLE jd_super SUPERUSER; ALTER ROLE jd_bypass BYPASSRLS;"
                + " GRANT jd_lazy_owner TO jd_lazy_member;"
                + " ALTER ROLE jd_reader SET default_transaction_read_only = on;"
                + " ALTER ROLE jd_writer SET default_transaction_read_only = on");
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
                "GRANT SELECT, INSERT ON reports TO jd_writer;"));
    }

    private PostgresMtlsDataSource.Builder builder(String role) {
        return Fixtures.builder(postgres, DATABASE, role).maximumPoolSize(1).auditLog(audit);
    }

    private void assertRefused(PostgresMtlsDataSource.Builder builder, Reason reason, String message) {
        assertThatThrownBy(builder::build)
                .isInstanceOfSatisfying(InsecureDataSourceException.class, e -> assertThat(e.reason()).isEqualTo(reason))
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
    void acceptsOwnerOfTablesWhoseRlsIsForced() {
        assertThatCode(() -> builder("jd_forced_owner").build().close()).doesNotThrowAnyException();
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
    void refusesReadOnlyPoolWhoseRoleCanWrite() {
        assertRefused(builder("jd_writer").readOnly(), Reason.NOT_READ_ONLY, "public.reports");
    }

    @Test
    void refusesReadOnlyPoolWhoseRoleDefaultsToReadWrite() {
        assertRefused(builder("jd_reader_rw_default").readOnly(), Reason.NOT_READ_ONLY,
                "default_transaction_read_only");
    }
}
