package io.settler.zerotrust.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.authz.PeerRule;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * pg_hba.conf, pg_ident.conf and GRANT/RLS statements from the policy, applied to a real server, and the drift
 * check.
 */
class PostgresServerConfigTest {

    private static final Policy POLICY = Policy.builder("example.org")
            .service("orders_db", db -> db.acceptService("api", "127.0.0.1/32")
                    .acceptService("reports", "127.0.0.1/32"))
            .service("api", api -> api.scopes("db:read", "db:write"))
            .service("reports", reports -> reports.scopes("db:read"))
            .service("intruder", intruder -> intruder.scopes("db:read", "db:write"))
            .build();

    private static PostgresServerConfig config() {
        return PostgresServerConfig.builder(POLICY, "orders_db").database("orders").tenantTable("orders").build();
    }

    @Test
    void rendersHbaIdentAndGrantsFromThePolicy() {
        PostgresServerConfig config = config();
        assertThat(config.hbaLines()).containsExactly(
                "hostssl \"orders\" \"api\" 127.0.0.1/32 cert map=zerotrust",
                "hostssl \"orders\" \"reports\" 127.0.0.1/32 cert map=zerotrust",
                "hostssl all all all reject",
                "host all all all reject");
        assertThat(config.identLines())
                .containsExactly("zerotrust \"spiffe://example.org/api\" \"api\"",
                        "zerotrust \"spiffe://example.org/reports\" \"reports\"");
        assertThat(config.sql())
                .contains("ALTER ROLE \"api\" LOGIN NOSUPERUSER NOBYPASSRLS")
                .contains("GRANT INSERT, UPDATE, DELETE ON \"public\".\"orders\" TO \"api\";")
                .doesNotContain("GRANT INSERT, UPDATE, DELETE ON \"public\".\"orders\" TO \"reports\";")
                .contains("ALTER ROLE \"reports\" SET default_transaction_read_only = on;")
                .contains("ALTER TABLE \"public\".\"orders\" FORCE ROW LEVEL SECURITY;")
                .contains("(\"tenant_id\" = current_setting('app.tenant_id', true))");
    }

    @Test
    void quotesEveryIdentifierInTheRenderedSql() {
        String sql = config().sql();
        // Each statement names roles, tables, columns, the database and the policy only in quotes.
        String unquoted = sql.replaceAll("\"[a-z_][a-z0-9_]*\"", "Q").replaceAll("'[^']*'", "S");
        assertThat(unquoted).doesNotContain("api", "reports", "orders", "tenant_id", "tenant_isolation", "public")
                .doesNotContainPattern("(?i)\\b(all|public)\\b\\s*(SET|;|TO)");
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "database, all",          // pg_hba.conf: every database
        "database, sameuser",     // pg_hba.conf: the database named like the user
        "database, samerole",
        "database, replication",  // pg_hba.conf: replication connections
        "table,    public",
        "table,    user",
        "column,   current_user", // a policy comparing the tenant with the role name
        "column,   pg_class",
    })
    void refusesDatabaseTableOrColumnNamedLikeAKeywordThatWouldWidenTheConfiguration(String what, String name) {
        RecordingAuditLog audit = RecordingAuditLog.logging();
        PostgresServerConfig.Builder builder = PostgresServerConfig.builder(POLICY, "orders_db").database("orders")
                .tenantTable("orders").auditLog(audit);
        switch (what) {
            case "database" -> builder.database(name);
            case "table" -> builder.tenantTable(name);
            default -> builder.tenantColumn(name);
        }
        assertThatThrownBy(builder::build)
                .isInstanceOfSatisfying(ServerConfigException.class,
                        e -> assertThat(e.reason()).isEqualTo(ServerConfigException.Reason.RESERVED_NAME))
                .hasMessageContaining("'" + name + "' is");
        assertThat(audit.withAction("jdbc.config_refused")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("reason", "RESERVED_NAME"));
    }

    @Test
    void refusesRuleThatPgHbaCannotExpress() {
        Policy wide = Policy.builder("example.org")
                .service("orders_db", db -> db.accept(PeerRule.trustDomain("example.org")))
                .build();
        RecordingAuditLog audit = RecordingAuditLog.logging();
        assertThatThrownBy(() -> PostgresServerConfig.builder(wide, "orders_db").auditLog(audit).build())
                .isInstanceOfSatisfying(ServerConfigException.class,
                        e -> assertThat(e.reason()).isEqualTo(ServerConfigException.Reason.UNSUPPORTED_RULE));
        assertThatThrownBy(() -> PostgresServerConfig.builder(POLICY, "orders_db").database("orders; drop")
                .auditLog(audit).build())
                .isInstanceOfSatisfying(ServerConfigException.class,
                        e -> assertThat(e.reason()).isEqualTo(ServerConfigException.Reason.INVALID_NAME));
        assertThat(audit.withAction("jdbc.config_refused")).hasSize(2);
    }

    @Test
    void renderedConfigurationReachesNoRoleOutsideThePolicy() throws SQLException {
        DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
        PostgresServerConfig config = config();
        try (LocalPostgres postgres = LocalPostgres.builder(ca)
                .authentication(config.hbaLines(), config.identLines()).start()) {
            postgres.createRole("orders_owner");
            postgres.createRole("bystander");
            postgres.createDatabase("orders", "orders_owner");
            postgres.executeAsSuperuser("orders", String.join("\n",
                    "CREATE TABLE orders (id serial PRIMARY KEY, tenant_id text NOT NULL, item text NOT NULL);",
                    "ALTER TABLE orders OWNER TO orders_owner;",
                    "GRANT CONNECT ON DATABASE orders TO bystander;"));
            postgres.executeAsSuperuser("orders", config.sql());

            assertThat(postgres.executeAsSuperuser("orders", String.join("\n",
                    "select 'all-roles setting' from pg_db_role_setting where setrole = 0",
                    "union all select 'bystander setting' from pg_roles where rolname = 'bystander'"
                            + " and rolconfig is not null",
                    "union all select 'public grant on orders' from pg_class c, aclexplode(c.relacl) a"
                            + " where c.oid = 'public.orders'::regclass and a.grantee = 0",
                    "union all select 'bystander may read orders'"
                            + " where has_table_privilege('bystander', 'public.orders', 'SELECT');")))
                    .as("what the rendered SQL gave anyone outside the policy").isEmpty();
            assertThatThrownBy(() -> postgres.connect("orders", "bystander").close())
                    .as("pg_hba.conf admits the policy's roles only").isInstanceOf(SQLException.class)
                    .hasMessageContaining("pg_hba.conf rejects connection");
            try (Connection api = postgres.connect("orders", "api")) {
                assertThat(api.isValid(5)).isTrue();
            }

            // Baseline: the unquoted rendering of a read-only service named 'all' set every role read-only.
            postgres.executeAsSuperuser("ALTER ROLE all SET default_transaction_read_only = on");
            assertThat(postgres.executeAsSuperuser("orders", "show default_transaction_read_only"))
                    .as("even the superuser's new sessions").isEqualTo("on");
            postgres.executeAsSuperuser("SET default_transaction_read_only = off;"
                    + " ALTER ROLE ALL RESET default_transaction_read_only");
            assertThatThrownBy(() -> postgres.executeAsSuperuser("ALTER ROLE \"all\" SET default_transaction_read_only"
                    + " = on")).as("quoted, it names one role, which does not exist")
                    .hasMessageContaining("role \"all\" does not exist");
        }
    }

    @Test
    void generatedConfigWorksOnARealServerAndDriftCheckNoticesHandEdits() throws SQLException {
        DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
        PostgresServerConfig config = config();
        RecordingAuditLog audit = RecordingAuditLog.logging();
        try (LocalPostgres postgres = LocalPostgres.builder(ca).start()) {
            postgres.createRole("orders_owner");
            postgres.createRole("intruder");
            postgres.createRole("auditor");
            postgres.createDatabase("orders", "orders_owner");
            postgres.executeAsSuperuser("orders", String.join("\n",
                    "CREATE TABLE orders (id serial PRIMARY KEY, tenant_id text NOT NULL, item text NOT NULL);",
                    "ALTER TABLE orders OWNER TO orders_owner;",
                    "INSERT INTO orders (tenant_id, item) VALUES ('tenant-a', 'apples'), ('tenant-b', 'bananas');",
                    "GRANT CONNECT ON DATABASE orders TO intruder, auditor;",
                    Fixtures.AUDITOR_GRANTS));
            postgres.executeAsSuperuser("orders", config.sql());
            List<String> hba = new ArrayList<>(List.of(Fixtures.AUDITOR_HBA));
            hba.addAll(config.hbaLines());
            List<String> ident = new ArrayList<>(config.identLines());
            ident.add(Fixtures.AUDITOR_IDENT);
            postgres.replaceAuthentication(hba, ident);

            try (PostgresMtlsDataSource api = pool(postgres, "api").build();
                 PostgresMtlsDataSource reports = pool(postgres, "reports").readOnly().build()) {
                TenantScope.of(api).run("tenant-a", c -> c.createStatement()
                        .executeUpdate("insert into orders (tenant_id, item) values ('tenant-a', 'avocados')"));
                String seen = TenantScope.of(reports).call("tenant-a", c -> {
                    try (ResultSet row = c.createStatement().executeQuery(
                            "select string_agg(item, ',' order by item) from orders")) {
                        row.next();
                        return row.getString(1);
                    }
                });
                assertThat(seen).isEqualTo("apples,avocados");
            }
            assertThatThrownBy(() -> pool(postgres, "intruder").build())
                    .isInstanceOfSatisfying(InsecureDataSourceException.class,
                            e -> assertThat(e.reason()).isEqualTo(InsecureDataSourceException.Reason.CONNECTION_FAILED))
                    .hasMessageContaining("pg_hba.conf rejects connection");

            try (Connection auditor = postgres.connect("orders", "auditor")) {
                assertThat(config.drift(auditor).differences()).isEmpty();

                postgres.executeAsSuperuser("ALTER ROLE reports BYPASSRLS");
                postgres.executeAsSuperuser("orders", "ALTER TABLE orders NO FORCE ROW LEVEL SECURITY;"
                        + " GRANT INSERT ON orders TO reports");
                List<String> edited = new ArrayList<>(hba);
                edited.add(1, "hostssl orders all 127.0.0.1/32 trust");
                ident.add("zerotrust \"spiffe://example.org/reports\" api"); // reports could log in as api
                postgres.replaceAuthentication(edited, ident);
            }
            try (Connection auditor = postgres.connect("orders", "auditor")) {
                PostgresServerConfig.DriftReport drift = PostgresServerConfig.builder(POLICY, "orders_db")
                        .database("orders").tenantTable("orders").auditLog(audit).build().drift(auditor);
                assertThat(drift.clean()).isFalse();
                assertThat(String.join("\n", drift.differences()))
                        .contains("role reports has BYPASSRLS")
                        .contains("table orders does not force row-level security")
                        .contains("role reports may write to orders")
                        .contains("trust) admits a connection the policy does not")
                        .contains("(zerotrust \"spiffe://example.org/reports\" \"api\") maps a certificate the"
                                + " policy does not map");
                assertThat(audit.withAction("jdbc.config_drift")).hasSize(1);
            }
        }
    }

    private static PostgresMtlsDataSource.Builder pool(LocalPostgres postgres, String role) {
        CredentialSource credentials = CredentialSource.fixed(
                Fixtures.identity(postgres.certificateAuthority().leaf(role).client().issue()),
                Fixtures.trust(postgres));
        return PostgresMtlsDataSource.builder().host(postgres.host()).port(postgres.port()).database("orders")
                .role(role).credentials(credentials).maximumPoolSize(1);
    }
}
