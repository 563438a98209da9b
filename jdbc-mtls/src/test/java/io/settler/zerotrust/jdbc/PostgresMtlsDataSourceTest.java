package io.settler.zerotrust.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.jdbc.InsecureDataSourceException.Reason;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Verify-full mutual TLS through our SSLContext, and every way to weaken it refused at build time. */
@TlsPostgres
class PostgresMtlsDataSourceTest {

    static final String APP = "jd_app";
    static final String OTHER = "jd_other";
    static final String DATABASE = "jd_orders";

    private final LocalPostgres postgres;
    private final RecordingAuditLog audit = RecordingAuditLog.logging();

    PostgresMtlsDataSourceTest(LocalPostgres postgres) {
        this.postgres = postgres;
    }

    @BeforeAll
    static void createRoles(LocalPostgres postgres) {
        postgres.createRole(APP);
        postgres.createRole(OTHER);
        postgres.createDatabase(DATABASE, OTHER);
        postgres.executeAsSuperuser("GRANT CONNECT ON DATABASE " + DATABASE + " TO " + APP);
    }

    private PostgresMtlsDataSource.Builder builder() {
        return Fixtures.builder(postgres, DATABASE, APP).auditLog(audit);
    }

    @Test
    void queriesOverVerifyFullTls13WithTheRoleCertificate() throws SQLException {
        try (PostgresMtlsDataSource dataSource = builder().build();
             Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery("select current_user, s.version, s.client_dn"
                     + " from pg_stat_ssl s where s.pid = pg_backend_pid()")) {
            assertThat(row.next()).isTrue();
            assertThat(row.getString(1)).isEqualTo(APP);
            assertThat(row.getString(2)).isEqualTo("TLSv1.3");
            assertThat(row.getString(3)).isEqualTo("/CN=spiffe://" + postgres.certificateAuthority().trustDomain()
                    + "/" + APP);
        }
        assertThat(audit.withAction("jdbc.pool_started")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("sslmode", "verify-full"));
    }

    @Test
    void acceptsAJdbcUrlWithHarmlessProperties() throws SQLException {
        String url = "jdbc:postgresql://localhost:" + postgres.port() + "/" + DATABASE
                + "?sslmode=verify-full&ApplicationName=orders&prepareThreshold=3";
        try (PostgresMtlsDataSource dataSource = PostgresMtlsDataSource.builder().jdbcUrl(url).role(APP)
                .credentials(Fixtures.credentials(postgres, APP)).maximumPoolSize(1).auditLog(audit).build();
             Connection connection = dataSource.getConnection();
             ResultSet row = connection.createStatement().executeQuery("select current_setting('application_name')")) {
            assertThat(row.next()).isTrue();
            assertThat(row.getString(1)).isEqualTo("orders");
        }
    }

    @ParameterizedTest(name = "{0}={1} -> {2}")
    @CsvSource({
            "sslmode, disable, PLAINTEXT",
            "ssl, false, PLAINTEXT",
            "sslmode, allow, SSL_MODE",
            "sslmode, prefer, SSL_MODE",
            "sslmode, require, SSL_MODE",
            "sslmode, verify-ca, SSL_MODE",
            "sslfactory, org.postgresql.ssl.NonValidatingFactory, SSL_FACTORY",
            "sslfactory, org.postgresql.ssl.DefaultJavaSSLFactory, SSL_FACTORY",
            "sslhostnameverifier, com.example.AcceptAll, SSL_FACTORY",
            "sslfactoryarg, anything, SSL_FACTORY",
            "sslcert, /root/.postgresql/postgresql.crt, KEY_FILES",
            "sslkey, /root/.postgresql/postgresql.pk8, KEY_FILES",
            "sslrootcert, /root/.postgresql/root.crt, KEY_FILES",
            "sslpassword, secret, KEY_FILES",
            "password, secret, PASSWORD_AUTHENTICATION",
            "service, orders, PASSWORD_AUTHENTICATION",
            "socketFactory, javax.net.DefaultSocketFactory, TRANSPORT",
            "gssEncMode, prefer, TRANSPORT",
            "options, -c app.tenant_id=42, TRANSPORT",
            "user, postgres, URL",
            "noSuchSetting, 1, UNKNOWN_PROPERTY"
    })
    void refusesEachWeakeningProperty(String name, String value, Reason reason) {
        assertThatThrownBy(() -> builder().property(name, value).build())
                .isInstanceOfSatisfying(InsecureDataSourceException.class, e -> {
                    assertThat(e.reason()).isEqualTo(reason);
                    assertThat(e.getMessage()).contains(name).doesNotContain("secret");
                });
        assertThat(audit.withAction("jdbc.refused")).singleElement()
                .satisfies(e -> assertThat(e.fields()).containsEntry("reason", reason.name()));
    }

    @ParameterizedTest
    @CsvSource({
            "'jdbc:postgresql://localhost:5432/jd_orders?sslmode=disable', PLAINTEXT",
            "'jdbc:postgresql://localhost:5432/jd_orders?ssl=false', PLAINTEXT",
            "'jdbc:postgresql://localhost:5432/jd_orders?sslmode=require', SSL_MODE",
            "'jdbc:postgresql://localhost:5432/jd_orders?sslfactory=org.postgresql.ssl.NonValidatingFactory',"
                    + " SSL_FACTORY",
            "'jdbc:postgresql://a:5432,b:5432/jd_orders', URL",
            "'jdbc:postgresql:jd_orders', URL",
            "'jdbc:mysql://localhost/jd_orders', URL"
    })
    void refusesPlaintextOrWeakenedUrl(String url, Reason reason) {
        assertThatThrownBy(() -> PostgresMtlsDataSource.builder().jdbcUrl(url).role(APP)
                .credentials(Fixtures.credentials(postgres, APP)).auditLog(audit).build())
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(reason));
        assertThat(audit.withAction("jdbc.refused")).hasSize(1);
    }

    @Test
    void refusesSessionWithoutClientCertificate() {
        // The server half: verify-full against the right CA, but no client certificate (pgjdbc's
        // SingleCertValidatingFactory has no key manager at all).
        Properties properties = new Properties();
        properties.setProperty("user", APP);
        properties.setProperty("sslmode", "verify-full");
        properties.setProperty("sslfactory", "org.postgresql.ssl.SingleCertValidatingFactory");
        properties.setProperty("sslfactoryarg", "file:" + postgres.caBundleFile());
        assertThatThrownBy(() -> DriverManager.getConnection(
                "jdbc:postgresql://localhost:" + postgres.port() + "/" + DATABASE, properties).close())
                .isInstanceOf(SQLException.class).hasMessageContaining("requires a valid client certificate");
        // Our half: a data source cannot be built without a certificate to present.
        assertThatThrownBy(() -> PostgresMtlsDataSource.builder().host(postgres.host()).port(postgres.port())
                .database(DATABASE).role(APP).build())
                .isInstanceOf(NullPointerException.class).hasMessageContaining("credentials are required");
    }

    @Test
    void refusesCertificateOfAnotherRoleNamingBothRoles() {
        String cn = "spiffe://" + postgres.certificateAuthority().trustDomain() + "/" + OTHER;
        assertThatThrownBy(() -> builder().credentials(Fixtures.credentials(postgres, OTHER)).build())
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.CONNECTION_FAILED))
                .hasMessageContaining("the certificate's CN is " + cn + ", which pg_ident.conf maps to role " + OTHER)
                .hasMessageContaining("the pool asked for role " + APP + ": use the credentials of " + APP
                        + " or set role(\"" + OTHER + "\")")
                .hasMessageContaining("certificate authentication failed for user \"" + APP + "\"")
                .hasMessageNotContaining("chains to the trust bundle");
        assertThat(audit.withAction("jdbc.refused")).singleElement()
                .satisfies(e -> assertThat(e.fields().get("detail")).contains("set role(\"" + OTHER + "\")"));
    }

    @Test
    void connectionRefusedSaysNothingListensWithoutACertificateHint() throws Exception {
        int port;
        try (java.net.ServerSocket closedAgain = new java.net.ServerSocket(0, 1,
                java.net.InetAddress.getLoopbackAddress())) {
            port = closedAgain.getLocalPort();
        }
        int closed = port;
        assertThatThrownBy(() -> builder().host("127.0.0.1").port(closed).build())
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.CONNECTION_FAILED))
                .hasMessageContaining("nothing listens on 127.0.0.1:" + closed
                        + " (is the server running? is the port right?)")
                .hasMessageNotContaining("certificate")
                .hasMessageNotContaining("trust bundle");
        assertThat(audit.withAction("jdbc.refused")).hasSize(1);
    }

    @Test
    void refusesClientCertificateFromUnknownCa() {
        IssuedCertificate foreign = DevCertificateAuthority.create("evil.example").leaf(APP).client().issue();
        CredentialSource credentials = CredentialSource.fixed(Fixtures.identity(foreign), Fixtures.trust(postgres));
        assertThatThrownBy(() -> builder().credentials(credentials).build())
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.CONNECTION_FAILED));
    }

    @Test
    void refusesServerFromUnknownCa() {
        DevCertificateAuthority other = DevCertificateAuthority.create("other.example");
        CredentialSource credentials = CredentialSource.fixed(Fixtures.identity(postgres.clientCertificate(APP)),
                io.settler.zerotrust.credentials.TrustBundle.of(java.util.List.of(other.rootCertificate())));
        assertThatThrownBy(() -> builder().credentials(credentials).build())
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.CONNECTION_FAILED));
        assertThat(audit.withAction("peer.refused")).isNotEmpty();
    }

    @Test
    void refusesServerWithWrongHostName() {
        assertThatThrownBy(() -> builder().expectedServer("db.example.org").build())
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(Reason.CONNECTION_FAILED));
        assertThat(audit.withAction("peer.refused")).isNotEmpty();
    }

    @Test
    void refusesTls12Server() throws Exception {
        try (Tls12OnlyServer server = Tls12OnlyServer.start(postgres)) {
            assertThatThrownBy(() -> builder().port(server.port()).build())
                    .isInstanceOfSatisfying(InsecureDataSourceException.class,
                            e -> assertThat(e.reason()).isEqualTo(Reason.CONNECTION_FAILED))
                    .hasStackTraceContaining("protocol");
            assertThat(server.handshakeFailures()).isPositive();
        }
    }

    @Test
    void refusesCleartextQueryCancel() throws SQLException {
        try (PostgresMtlsDataSource dataSource = builder().build();
             Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement()) {
            statement.setQueryTimeout(1); // pgjdbc would cancel after 1 s over a new cleartext socket
            try (ResultSet row = statement.executeQuery("select pg_sleep(3), 'finished'")) {
                assertThat(row.next()).isTrue();
                assertThat(row.getString(2)).isEqualTo("finished");
            }
        }
        assertThat(audit.withAction("jdbc.cancel_refused")).isNotEmpty();
    }

    @Test
    void pgjdbcReadsNoKeyFilesWithOurFactory() throws SQLException {
        try (PostgresMtlsDataSource dataSource = builder().build()) {
            Properties properties = new Properties();
            properties.setProperty("user", APP);
            properties.setProperty("sslmode", "verify-full");
            properties.setProperty("sslfactory", MtlsSslSocketFactory.class.getName());
            properties.setProperty("sslfactoryarg", dataSource.registryKey());
            // Files that do not exist: pgjdbc would fail if it tried to read them.
            properties.setProperty("sslcert", "/nonexistent/postgresql.crt");
            properties.setProperty("sslkey", "/nonexistent/postgresql.pk8");
            properties.setProperty("sslrootcert", "/nonexistent/root.crt");
            try (Connection connection = DriverManager.getConnection(
                    "jdbc:postgresql://localhost:" + postgres.port() + "/" + DATABASE, properties);
                 ResultSet row = connection.createStatement().executeQuery("select current_user")) {
                assertThat(row.next()).isTrue();
                assertThat(row.getString(1)).isEqualTo(APP);
            }
        }
    }

    @Test
    void hikariMetricsAttachAfterBuild() throws SQLException {
        java.util.List<String> tracked = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (PostgresMtlsDataSource dataSource = builder().poolName("jd-metrics").build()) {
            dataSource.setMetricsTrackerFactory((poolName, stats) -> new com.zaxxer.hikari.metrics.IMetricsTracker() {
                @Override
                public void recordConnectionAcquiredNanos(long nanos) {
                    tracked.add(poolName + " acquired");
                }
            });
            try (Connection connection = dataSource.getConnection()) {
                assertThat(connection.isValid(1)).isTrue();
            }
        }
        assertThat(tracked).contains("jd-metrics acquired");
    }

    @Test
    void closingRemovesTheDriverRegistryEntry() {
        PostgresMtlsDataSource dataSource = builder().build();
        String key = dataSource.registryKey();
        assertThat(DriverRegistry.contains(key)).isTrue();
        dataSource.close();
        assertThat(DriverRegistry.contains(key)).isFalse();
        Properties properties = new Properties();
        properties.setProperty("sslfactoryarg", key);
        assertThatThrownBy(() -> new MtlsSslSocketFactory(properties)).isInstanceOf(IllegalStateException.class);
    }
}
