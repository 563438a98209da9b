package io.settler.zerotrust.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.jdbc.InsecureDataSourceException.Reason;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.pki.PemFiles;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A certificate of one identity never logs in as another role: pg_ident.conf maps the whole SPIFFE
 * ID (the CN), and the data source refuses certificates whose CN is anything else. Against a real
 * server started from the rendered files.
 */
class CertificateToRoleMappingTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");
    private static final Policy POLICY = Policy.builder("example.org")
            .service("orders_db", db -> db.acceptService("api", "127.0.0.1/32")
                    .acceptService("reports", "127.0.0.1/32").acceptService("dev_api", "127.0.0.1/32"))
            .service("api", api -> api.scopes("db:read", "db:write"))
            .service("reports", reports -> reports.scopes("db:read"))
            .service("dev_api", "dev/api", devApi -> devApi.scopes("db:read")) // same last segment as api
            .build();
    private static final PostgresServerConfig CONFIG = PostgresServerConfig.builder(POLICY, "orders_db")
            .database("orders").tenantTable("orders").build();

    private static LocalPostgres postgres;

    @BeforeAll
    static void startServerFromTheRenderedFiles() {
        postgres = LocalPostgres.builder(CA).authentication(CONFIG.hbaLines(), CONFIG.identLines()).start();
        postgres.createRole("orders_owner");
        postgres.createDatabase("orders", "orders_owner");
        postgres.executeAsSuperuser("orders", String.join("\n",
                "CREATE TABLE orders (id serial PRIMARY KEY, tenant_id text NOT NULL, item text NOT NULL);",
                "ALTER TABLE orders OWNER TO orders_owner;"));
        postgres.executeAsSuperuser("orders", CONFIG.sql());
    }

    @AfterAll
    static void stopServer() {
        postgres.close();
    }

    /** Identities of the trust domain that are not api or reports (dev/api is dev_api), but look like them. */
    @ParameterizedTest(name = "spiffe://example.org/{0}")
    @ValueSource(strings = {"dev/api", "prod/api", "reports/api", "api/api", "api/dev", "API", "Api", "apis", "ap",
        "api_", "api.", "api-", "x/y/z/api"})
    void certificateOfAnotherIdentityNeverLogsInAsApi(String path) {
        IssuedCertificate impostor = CA.leaf(path).client().issue();
        for (String role : List.of("api", "reports")) {
            assertThatThrownBy(() -> rawLogin(role, impostor).close())
                    .as("spiffe://example.org/%s as %s", path, role)
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("certificate authentication failed for user \"" + role + "\"");
        }
    }

    @Test
    void eachServiceLogsInAsItsOwnRoleOnly() throws SQLException {
        IssuedCertificate api = CA.leaf("api").client().issue();
        IssuedCertificate reports = CA.leaf("reports").client().issue();
        try (Connection connection = rawLogin("api", api);
             ResultSet row = connection.createStatement().executeQuery("select current_user")) {
            row.next();
            assertThat(row.getString(1)).isEqualTo("api");
        }
        assertThatThrownBy(() -> rawLogin("reports", api).close()).isInstanceOf(SQLException.class);
        assertThatThrownBy(() -> rawLogin("api", reports).close()).isInstanceOf(SQLException.class);
    }

    @Test
    void servicesWhoseIdentitiesEndInTheSameSegmentKeepTheirOwnRoles() throws SQLException {
        assertThat(CONFIG.identLines()).contains("zerotrust \"spiffe://example.org/api\" \"api\"",
                "zerotrust \"spiffe://example.org/dev/api\" \"dev_api\"");
        IssuedCertificate devApi = CA.leaf("dev/api").client().issue();
        try (Connection connection = rawLogin("dev_api", devApi);
             ResultSet row = connection.createStatement().executeQuery("select current_user")) {
            row.next();
            assertThat(row.getString(1)).isEqualTo("dev_api");
        }
        assertThatThrownBy(() -> rawLogin("api", devApi).close()).isInstanceOf(SQLException.class);
        assertThatThrownBy(() -> rawLogin("dev_api", CA.leaf("api").client().issue()).close())
                .isInstanceOf(SQLException.class);
    }

    @Test
    void poolPresentingANestedIdentityIsRefusedByTheServer() {
        RecordingAuditLog audit = RecordingAuditLog.logging();
        assertThatThrownBy(() -> pool(CA.leaf("dev/api").client().issue(), audit).build().close())
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.CONNECTION_FAILED))
                .hasMessageContaining("certificate authentication failed");
        assertRefusalAudited(audit, Reason.CONNECTION_FAILED);
    }

    @Test
    void refusesClientCertificateWhoseCommonNameIsNotItsSpiffeId() {
        RecordingAuditLog audit = RecordingAuditLog.logging();
        // What the development CA issued before: spiffe://example.org/dev/api with CN=api.
        IssuedCertificate bareName = CA.leaf("dev/api").commonName("api").client().issue();

        assertThatThrownBy(() -> pool(bareName, audit).build().close())
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.CERTIFICATE_NAME))
                .hasMessageContaining("has the CN [api], not its SPIFFE ID")
                .hasMessageContaining("exactly one CN, spiffe://example.org/dev/api");
        assertRefusalAudited(audit, Reason.CERTIFICATE_NAME);
    }

    @Test
    void reportsARotatedCertificateWhoseCommonNameIsNotItsSpiffeId(@TempDir Path directory) throws Exception {
        RecordingAuditLog audit = RecordingAuditLog.logging();
        PemFiles files = CA.leaf("api").client().issue().writePem(directory, "client");
        try (FileCredentialSource credentials = FileCredentialSource.builder(files.chain(), files.privateKey(),
                        files.caBundle()).start();
             PostgresMtlsDataSource pool = PostgresMtlsDataSource.builder().host(postgres.host())
                     .port(postgres.port()).database("orders").role("api").credentials(credentials)
                     .maximumPoolSize(1).connectionTimeout(Duration.ofSeconds(2)).auditLog(audit).build()) {
            assertThat(audit.withAction("jdbc.refused")).isEmpty();

            // The same identity renewed with CN=api (a rotation may not change the SPIFFE ID).
            CA.leaf("api").commonName("api").client().issue().writePem(directory, "client");
            assertThat(credentials.reload()).isTrue();

            assertRefusalAudited(audit, Reason.CERTIFICATE_NAME);
            assertThat(audit.withAction("jdbc.refused").get(0).fields().get("detail"))
                    .contains("has the CN [api], not its SPIFFE ID");
            assertThatThrownBy(() -> pool.getConnection().close()).as("the server maps CN=api to nothing now")
                    .isInstanceOf(SQLException.class);
        }
    }

    @Test
    void refusesClientCertificateWhoseSpiffeIdDoesNotFitInACommonName() {
        RecordingAuditLog audit = RecordingAuditLog.logging();
        IssuedCertificate tooLong = CA.leaf("ns/" + "x".repeat(40) + "/api").client().issue();

        assertThatThrownBy(() -> pool(tooLong, audit).build().close())
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.CERTIFICATE_NAME))
                .hasMessageContaining("more than the 64 a certificate's CN may hold");
        assertRefusalAudited(audit, Reason.CERTIFICATE_NAME);
    }

    @Test
    void refusesPolicyWhoseClientIdentityDoesNotFitInACommonName() {
        Policy longPath = Policy.builder("example.org")
                .service("orders_db", db -> db.acceptService("api"))
                .service("api", "ns/" + "x".repeat(40) + "/api", api -> api.scopes("db:read"))
                .build();
        RecordingAuditLog audit = RecordingAuditLog.logging();

        assertThatThrownBy(() -> PostgresServerConfig.builder(longPath, "orders_db").auditLog(audit).build())
                .isInstanceOfSatisfying(ServerConfigException.class,
                        e -> assertThat(e.reason()).isEqualTo(ServerConfigException.Reason.UNMAPPABLE_IDENTITY))
                .hasMessageContaining("shorten its path");
        assertThat(audit.withAction("jdbc.config_refused")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("reason", "UNMAPPABLE_IDENTITY"));
    }

    @Test
    void baselineTheBareCommonNameMapLetANestedIdentityLogInAsApi() throws SQLException {
        // The old rendering (pg_ident maps CN=api) and the old certificates (CN = last path segment).
        DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
        try (LocalPostgres old = LocalPostgres.builder(ca).authentication(CONFIG.hbaLines(),
                List.of("zerotrust api api")).start()) {
            old.createRole("api");
            old.createDatabase("orders", "api");
            IssuedCertificate devApi = ca.leaf("dev/api").commonName("api").client().issue();
            try (Connection connection = DriverManager.getConnection(old.jdbcUrl("orders"),
                    old.connectionProperties("api", devApi));
                 ResultSet row = connection.createStatement().executeQuery("select current_user")) {
                row.next();
                assertThat(row.getString(1)).as("spiffe://example.org/dev/api logged in as").isEqualTo("api");
            }
        }
    }

    private static Connection rawLogin(String role, IssuedCertificate certificate) throws SQLException {
        return DriverManager.getConnection(postgres.jdbcUrl("orders"),
                postgres.connectionProperties(role, certificate));
    }

    private static PostgresMtlsDataSource.Builder pool(IssuedCertificate certificate, RecordingAuditLog audit) {
        CredentialSource credentials = CredentialSource.fixed(Fixtures.identity(certificate),
                TrustBundle.of(List.of(CA.rootCertificate())));
        return PostgresMtlsDataSource.builder().host(postgres.host()).port(postgres.port()).database("orders")
                .role("api").credentials(credentials).maximumPoolSize(1).auditLog(audit);
    }

    private static void assertRefusalAudited(RecordingAuditLog audit, Reason reason) {
        List<AuditEvent> refused = audit.withAction("jdbc.refused");
        assertThat(refused).singleElement().satisfies(e -> {
            assertThat(e.outcome()).isEqualTo(AuditEvent.Outcome.REFUSED);
            assertThat(e.fields()).containsEntry("reason", reason.name());
        });
    }
}
