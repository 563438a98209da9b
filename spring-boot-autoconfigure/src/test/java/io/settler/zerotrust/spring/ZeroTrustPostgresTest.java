package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.spring.tenants.TenantOrdersApplication;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsPostgres;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRequest;
import io.settler.zerotrust.token.VerifiedToken;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@code zerotrust.postgres.*} on the testkit's TLS PostgreSQL: a real Boot application (Tomcat,
 * Spring Security, JdbcTemplate, {@code @Transactional}) whose callers' tenant claims decide which
 * rows they see, one application for the class; start-up refusals and the health component on
 * contexts without a web server.
 */
@TlsPostgres
class ZeroTrustPostgresTest {

    private static final String DATABASE = "zt_spring_orders";

    @TempDir
    static Path certs;

    private static LocalPostgres postgres;
    private static TestZone zone;
    private static ConfigurableApplicationContext app;
    private static int port;
    private static RecordingAuditLog audit;

    @BeforeAll
    static void start(LocalPostgres server) {
        postgres = server;
        postgres.createRole("zt_spring_owner");
        postgres.createRole("api");
        postgres.createDatabase(DATABASE, "zt_spring_owner");
        postgres.executeAsSuperuser("GRANT CONNECT ON DATABASE " + DATABASE + " TO api");
        postgres.executeAsSuperuser(DATABASE, String.join("\n",
                "CREATE TABLE orders (id serial PRIMARY KEY, tenant_id text NOT NULL, item text NOT NULL);",
                "ALTER TABLE orders OWNER TO zt_spring_owner;",
                "ALTER TABLE orders ENABLE ROW LEVEL SECURITY;",
                "ALTER TABLE orders FORCE ROW LEVEL SECURITY;",
                "CREATE POLICY tenant_isolation ON orders USING (tenant_id = current_setting('app.tenant_id', true))"
                        + " WITH CHECK (tenant_id = current_setting('app.tenant_id', true));",
                "GRANT SELECT, INSERT ON orders TO api;",
                "GRANT USAGE ON SEQUENCE orders_id_seq TO api;"));
        zone = new TestZone(certs, postgres.certificateAuthority());
        SpringApplication application = new SpringApplication(TenantOrdersApplication.class);
        Map<String, Object> properties = zone.properties();
        properties.remove(TestZone.NO_DATA_SOURCE); // Boot's DataSourceAutoConfiguration backs off for ours
        properties.putAll(postgresProperties());
        properties.put("management.endpoint.health.show-details", "always");
        application.setDefaultProperties(properties);
        app = application.run();
        port = ((WebServerApplicationContext) app).getWebServer().getPort();
        audit = app.getBean(RecordingAuditLog.class);
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    private static Map<String, String> postgresProperties() {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("zerotrust.postgres.url", "jdbc:postgresql://localhost:" + postgres.port() + "/" + DATABASE);
        properties.put("zerotrust.postgres.maximum-pool-size", "2");
        properties.put("zerotrust.postgres.connection-timeout", "5s");
        return properties;
    }

    private static HttpResponse<String> send(String method, String path, String token) throws Exception {
        SSLContext gateway = TestZone.client(zone.gateway, zone.ca, zone.api).build().sslContext();
        HttpClient http = HttpClient.newBuilder().sslContext(gateway).connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static String tokenOfTenant(String tenant) {
        TokenRequest.Builder request = TokenRequest.to(zone.api).scopes("orders:read");
        return zone.gatewayTokens.mint((tenant == null ? request : request.claim("tenant", tenant)).build());
    }

    /**
     * What borrowers of the pool find on their sessions: both of its connections (a fixed pool of 2), those
     * the requests used, borrowed at once; as one line if they agree.
     */
    private static String sessionTenantAndVisibleRows() throws SQLException {
        PostgresMtlsDataSource pool = app.getBean(PostgresMtlsDataSource.class);
        try (Connection first = pool.getConnection(); Connection second = pool.getConnection()) {
            String one = sessionTenantAndVisibleRows(first);
            String other = sessionTenantAndVisibleRows(second);
            return one.equals(other) ? one : one + " / " + other;
        }
    }

    private static String sessionTenantAndVisibleRows(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery("select coalesce(current_setting('app.tenant_id', true), ''),"
                     + " (select count(*) from orders)")) {
            row.next();
            return "tenant='" + row.getString(1) + "' rows=" + row.getLong(2);
        }
    }

    @Test
    void eachCallerSeesOnlyItsTenantsRowsAndNothingStaysOnThePooledConnection() throws Exception {
        assertThat(app.getBean(PlatformTransactionManager.class)).isInstanceOf(TenantTransactionManager.class);
        assertThat(send("POST", "/orders?item=apples", tokenOfTenant("tenant-a")).body()).isEqualTo("added");
        assertThat(send("POST", "/orders?item=bananas", tokenOfTenant("tenant-b")).body()).isEqualTo("added");
        assertThat(send("POST", "/orders?item=apricots", tokenOfTenant("tenant-a")).body()).isEqualTo("added");

        assertThat(send("GET", "/orders", tokenOfTenant("tenant-a")).body()).isEqualTo("[\"apples\",\"apricots\"]");
        assertThat(send("GET", "/orders", tokenOfTenant("tenant-b")).body()).isEqualTo("[\"bananas\"]");
        assertThat(send("GET", "/orders", tokenOfTenant("tenant-c")).body()).isEqualTo("[]");
        assertThat(sessionTenantAndVisibleRows()).isEqualTo("tenant='' rows=0");
        assertThat(postgres.executeAsSuperuser(DATABASE,
                "select count(*) from orders where tenant_id in ('tenant-a', 'tenant-b')")).isEqualTo("3");
    }

    @Test
    void thePoolPresentsARotatedCertificateWithoutRestartWhileRequestsGoOn() throws Exception {
        BigInteger before = clientSerialOfAPooledConnection();
        AtomicBoolean rotating = new AtomicBoolean(true);
        List<Integer> statuses = new CopyOnWriteArrayList<>();
        Thread load = new Thread(() -> {
            String token = tokenOfTenant("tenant-r");
            while (rotating.get() && statuses.size() < 2_000) {
                try {
                    statuses.add(send("GET", "/orders", token).statusCode());
                } catch (Exception e) {
                    statuses.add(-1);
                }
            }
        });
        load.start();
        BigInteger renewed = zone.issueApi().certificate().getSerialNumber();
        BigInteger after = before;
        try {
            for (int i = 0; i < 150 && !after.equals(renewed); i++) {
                Thread.sleep(100);
                after = clientSerialOfAPooledConnection();
            }
        } finally {
            rotating.set(false);
            load.join();
        }
        assertThat(after).as("PostgreSQL sees the renewed certificate").isEqualTo(renewed).isNotEqualTo(before);
        assertThat(statuses).as("no request failed during the rotation").isNotEmpty().containsOnly(200);
    }

    /** The serial number of the client certificate PostgreSQL saw on the connection the pool lends. */
    private static BigInteger clientSerialOfAPooledConnection() throws SQLException {
        try (Connection connection = app.getBean(PostgresMtlsDataSource.class).getConnection();
             Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery(
                     "select client_serial from pg_stat_ssl where pid = pg_backend_pid()")) {
            row.next();
            return row.getBigDecimal(1).toBigIntegerExact();
        }
    }

    @Test
    void refusesTenantDataToATokenWithoutATenantClaim() throws Exception {
        HttpResponse<String> response = send("GET", "/orders", tokenOfTenant(null));
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(response.body()).isEmpty();
        assertThat(audit.last(SpringAudit.TENANT_REFUSED).fields()).containsEntry("reason", "NO_TENANT_CLAIM")
                .containsEntry("peer", "spiffe://" + postgres.certificateAuthority().trustDomain().name() + "/gateway");
    }

    @Test
    void codeOutsideATransactionSeesNoTenantsRows() throws Exception {
        send("POST", "/orders?item=figs", tokenOfTenant("tenant-d"));
        HttpResponse<String> response = send("GET", "/orders/untransactional", tokenOfTenant("tenant-d"));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("[]");
    }

    @Test
    void refusesATenantTransactionOutsideAnAuthenticatedRequest() {
        TenantTransactionManager transactions = app.getBean(TenantTransactionManager.class);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try {
            new TransactionTemplate(transactions)
                    .executeWithoutResult(status -> { });
        } catch (ZeroTrustTenantException e) {
            failure.set(e);
        }
        assertThat(failure.get()).isInstanceOf(ZeroTrustTenantException.class);
        assertThat(((ZeroTrustTenantException) failure.get()).reason())
                .isEqualTo(ZeroTrustTenantException.Reason.NOT_AUTHENTICATED);
    }

    /** Runs {@code work} as the gateway of {@code tenant}, as the filter would have authenticated it. */
    private static void asTenant(String tenant, Runnable work) {
        VerifiedToken token = app.getBean(ServiceTokens.class).verify(tokenOfTenant(tenant),
                zone.gateway.certificate());
        SecurityContextHolder.getContext().setAuthentication(new ZeroTrustAuthentication(token));
        try {
            work.run();
        } finally {
            SecurityContextHolder.clearContext();
        }
    }

    private static List<String> items(JdbcTemplate jdbc) {
        return jdbc.queryForList("select item from orders order by item", String.class);
    }

    @Test
    void transactionsRollBackAndNestAsSpringDocuments() throws Exception {
        TransactionTemplate required = new TransactionTemplate(app.getBean(PlatformTransactionManager.class));
        TransactionTemplate requiresNew = new TransactionTemplate(app.getBean(PlatformTransactionManager.class));
        requiresNew.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
        JdbcTemplate jdbc = new JdbcTemplate(app.getBean(PostgresMtlsDataSource.class));
        String insert = "insert into orders (tenant_id, item) values (current_setting('app.tenant_id'), ?)";
        asTenant("tenant-e", () -> {
            String kept = required.execute(status -> {
                jdbc.update(insert, "rolled back by rollback-only");
                status.setRollbackOnly();
                return "result kept";
            });
            assertThat(kept).isEqualTo("result kept");
            assertThatThrownBy(() -> required.executeWithoutResult(status -> {
                jdbc.update(insert, "rolled back by an exception");
                throw new IllegalStateException("the work failed");
            })).hasMessage("the work failed");
            required.executeWithoutResult(outer -> {
                jdbc.update(insert, "outer, rolled back");
                requiresNew.executeWithoutResult(inner -> jdbc.update(insert, "inner, committed")); // own scope
                required.executeWithoutResult(joined -> assertThat(items(jdbc)).contains("outer, rolled back"));
                outer.setRollbackOnly();
            });
            List<String> committed = required.execute(status -> items(jdbc));
            assertThat(committed).containsExactly("inner, committed");
        });
        assertThat(sessionTenantAndVisibleRows()).isEqualTo("tenant='' rows=0");
    }

    @Test
    void healthShowsTheProofOverMutualTlsWithoutSecrets() throws Exception {
        HttpResponse<String> response = send("GET", "/actuator/health/zerotrustPostgres", tokenOfTenant("tenant-a"));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("\"status\":\"UP\"", "\"tls\":\"TLSv1.3\"", "\"sslmode\":\"verify-full\"",
                        "\"role\":\"api\"", "\"clientCertificate\":\"current\"", "\"identity\":\"" + zone.api + "\"")
                .doesNotContain("BEGIN", certs.toString(), "password");
    }

    /** The library's beans and the data source alone (no web server), with the postgres properties changed. */
    private static ApplicationContextRunner runner(Map<String, String> changes, String... removed) {
        Map<String, String> properties = postgresProperties();
        for (String key : removed) {
            properties.remove(key);
        }
        properties.putAll(changes);
        return zone.runner(properties)
                .withConfiguration(AutoConfigurations.of(ZeroTrustPostgresAutoConfiguration.class))
                .withBean(AuditLog.class, RecordingAuditLog::new);
    }

    private static ZeroTrustConfigurationException refusedStart(Map<String, String> changes, String... removed) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        runner(changes, removed).run(context -> failure.set(context.getStartupFailure()));
        return ZeroTrustStartupTest.refusal(failure.get());
    }

    private static String url(String parameters) {
        return "jdbc:postgresql://localhost:" + postgres.port() + "/" + DATABASE + parameters;
    }

    @Test
    void refusesAPlaintextPostgresUrl() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of("zerotrust.postgres.url",
                url("?sslmode=disable")));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.PLAINTEXT_CLIENT);
        assertThat(refusal.setting()).isEqualTo("zerotrust.postgres.url");
        assertThat(refusal).hasMessageContaining("sslmode");
    }

    @Test
    void refusesAnSslModeBelowVerifyFull() {
        for (String mode : new String[] {"prefer", "require", "verify-ca"}) {
            ZeroTrustConfigurationException refusal = refusedStart(Map.of("zerotrust.postgres.url",
                    url("?sslmode=" + mode)));
            assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.INSECURE_DATA_STORE);
            assertThat(refusal.setting()).isEqualTo("zerotrust.postgres.url");
            assertThat(refusal).hasMessageContaining("SSL_MODE").hasMessageContaining("verify-full");
        }
    }

    @Test
    void refusesAPasswordOrKeyFileInTheUrl() {
        ZeroTrustConfigurationException password = refusedStart(Map.of("zerotrust.postgres.url",
                url("?password=hunter2")));
        assertThat(password.setting()).isEqualTo("zerotrust.postgres.url");
        assertThat(password).hasMessageContaining("PASSWORD_AUTHENTICATION").hasMessageNotContaining("hunter2");
        ZeroTrustConfigurationException keyFile = refusedStart(Map.of("zerotrust.postgres.url",
                url("?sslkey=/tmp/api.key")));
        assertThat(keyFile).hasMessageContaining("KEY_FILES");
    }

    @Test
    void refusesAnotherDatabaseUrl() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of("zerotrust.postgres.url",
                "jdbc:mysql://localhost:3306/orders"));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.PLAINTEXT_CLIENT);
        assertThat(refusal.setting()).isEqualTo("zerotrust.postgres.url");
    }

    @Test
    void refusesPostgresSettingsWithoutAUrl() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of(), "zerotrust.postgres.url");
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.MISSING_SETTING);
        assertThat(refusal.setting()).isEqualTo("zerotrust.postgres.url");
    }

    @Test
    void refusesARoleTheCertificateDoesNotLogInAs() {
        ZeroTrustConfigurationException refusal = refusedStart(Map.of("zerotrust.postgres.role", "zt_spring_owner"));
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.INSECURE_DATA_STORE);
        assertThat(refusal).hasMessageContaining("CONNECTION_FAILED");
    }

    @Test
    void configuresNothingWithoutPostgresSettings() {
        zone.runner(Map.of()).withConfiguration(AutoConfigurations.of(ZeroTrustPostgresAutoConfiguration.class))
                .withBean(AuditLog.class, RecordingAuditLog::new)
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(PostgresMtlsDataSource.class));
    }

    @Test
    void healthIsDownWithoutAConnection() {
        runner(Map.of()).run(context -> {
            HealthIndicator indicator = context.getBean("zerotrustPostgresHealthIndicator", HealthIndicator.class);
            Health up = indicator.health();
            assertThat(up.getStatus()).isEqualTo(Status.UP);
            assertThat(up.getDetails()).containsEntry("tls", "TLSv1.3").containsEntry("role", "api")
                    .containsOnlyKeys("pool", "sslmode", "identity", "tls", "role", "clientCertificate");
            context.getBean(PostgresMtlsDataSource.class).close();
            Health down = indicator.health();
            assertThat(down.getStatus()).isEqualTo(Status.DOWN);
            assertThat(down.getDetails()).containsKey("problem");
        });
    }
}
