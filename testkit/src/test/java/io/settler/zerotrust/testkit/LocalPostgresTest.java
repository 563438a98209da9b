package io.settler.zerotrust.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.pki.CertificateDefect;
import io.settler.zerotrust.pki.PemFiles;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.util.PSQLException;

/** The shared TLS PostgreSQL accepts a role's certificate over TLS 1.3 and refuses everything else. */
@TlsPostgres
class LocalPostgresTest {

    private static final String APP = "kit_app";
    private static final String OTHER = "kit_other";
    private static final String DATABASE = "kit_orders";

    private final LocalPostgres postgres;

    @TempDir
    Path clientDir;

    LocalPostgresTest(LocalPostgres postgres) {
        this.postgres = postgres;
    }

    @BeforeAll
    static void createRolesAndDatabase(LocalPostgres postgres) {
        postgres.createRole(APP);
        postgres.createRole(OTHER);
        postgres.createDatabase(DATABASE, APP);
        // So that refusing OTHER with APP's certificate is about the certificate, not the privilege.
        postgres.executeAsSuperuser("GRANT CONNECT ON DATABASE " + DATABASE + " TO " + OTHER);
    }

    @Test
    void queriesOverVerifyFullWithTheRoleCertificate() throws SQLException {
        assertThat(postgres.jdbcUrl(DATABASE))
                .startsWith("jdbc:postgresql://localhost:").contains("sslmode=verify-full");

        try (Connection connection = postgres.connect(DATABASE, APP);
             Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery("select current_user, s.ssl, s.version, s.client_dn"
                     + " from pg_stat_ssl s where s.pid = pg_backend_pid()")) {
            assertThat(row.next()).isTrue();
            assertThat(row.getString(1)).isEqualTo(APP);
            assertThat(row.getBoolean(2)).isTrue();
            assertThat(row.getString(3)).isEqualTo("TLSv1.3");
            assertThat(row.getString(4)).isEqualTo("/CN=spiffe://" + SharedServers.TRUST_DOMAIN + "/" + APP);
        }
    }

    @Test
    void refusesPlaintextConnection() {
        PemFiles files = postgres.clientCertificate(APP).writePem(clientDir, APP);

        Commands.Result result = Psql.selectCurrentUser(clientDir, conninfo("disable", files));

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.stderr()).contains("pg_hba.conf rejects connection for host \"127.0.0.1\", user \""
                + APP + "\", database \"" + DATABASE + "\", no encryption");
    }

    @Test
    void refusesPlaintextJdbcConnection() {
        Properties properties = postgres.connectionProperties(APP);

        assertThatThrownBy(() -> DriverManager.getConnection(
                "jdbc:postgresql://localhost:" + postgres.port() + "/" + DATABASE + "?sslmode=disable", properties))
                .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28000"))
                .hasMessageContaining("no encryption");
    }

    @Test
    void refusesTls12Client() {
        PemFiles files = postgres.clientCertificate(APP).writePem(clientDir, APP);

        Commands.Result result = Psql.selectCurrentUser(clientDir,
                conninfo("verify-full", files) + " ssl_max_protocol_version=TLSv1.2");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.stderr()).contains("SSL error").contains("protocol version");
    }

    @Test
    void refusesClientWithoutCertificate() {
        PemFiles files = postgres.clientCertificate(APP).writePem(clientDir, APP);

        Commands.Result result = Psql.selectCurrentUser(clientDir, "host=localhost port=" + postgres.port()
                + " dbname=" + DATABASE + " user=" + APP + " sslmode=verify-full sslrootcert=" + files.caBundle());

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.stderr()).contains("connection requires a valid client certificate");
    }

    @Test
    void refusesJdbcClientWithoutCertificate() {
        Properties properties = new Properties();
        properties.setProperty("user", APP);
        properties.setProperty("sslcert", "");
        properties.setProperty("sslkey", "");

        assertThatThrownBy(() -> DriverManager.getConnection(postgres.jdbcUrl(DATABASE), properties))
                .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28000"))
                .hasMessageContaining("connection requires a valid client certificate");
    }

    @Test
    void refusesCertificateOfAnotherRole() {
        Properties properties = postgres.connectionProperties(APP);
        properties.setProperty("user", OTHER);

        assertThatThrownBy(() -> DriverManager.getConnection(postgres.jdbcUrl(DATABASE), properties))
                .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28000"))
                .hasMessageContaining("certificate authentication failed for user \"" + OTHER + "\"");
    }

    @Test
    void refusesCertificateFromUnknownCa() throws Exception {
        Properties properties = postgres.connectionProperties(APP, postgres.certificateAuthority()
                .leaf(APP).client().defect(CertificateDefect.UNKNOWN_CA).issue());
        long logSize = Files.size(postgres.logFile());

        // The server aborts the handshake: the client sees the alert, or a connection the server closed.
        assertThatThrownBy(() -> DriverManager.getConnection(postgres.jdbcUrl(DATABASE), properties))
                .isInstanceOf(PSQLException.class)
                .rootCause().satisfiesAnyOf(
                        cause -> assertThat(cause).isInstanceOf(SSLException.class).hasMessageContaining("unknown_ca"),
                        cause -> assertThat(cause).isInstanceOf(SocketException.class));
        assertThat(newLogLines(logSize)).contains("could not accept SSL connection: certificate verify failed");
    }

    @Test
    void refusesSuperuserOverTcp() {
        PemFiles files = postgres.certificateAuthority().leaf(postgres.superuser()).client().issue()
                .writePem(clientDir, "superuser");

        Commands.Result result = Psql.selectCurrentUser(clientDir, "host=localhost port=" + postgres.port()
                + " dbname=postgres user=" + postgres.superuser() + " sslmode=verify-full sslrootcert="
                + files.caBundle() + " sslcert=" + files.chain() + " sslkey=" + files.privateKey());

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.stderr()).contains("pg_hba.conf rejects connection for host \"127.0.0.1\", user \""
                + postgres.superuser() + "\"");
    }

    @Test
    void acceptsTheSameCertificateThroughLibpq() {
        PemFiles files = postgres.clientCertificate(APP).writePem(clientDir, APP);

        Commands.Result result = Psql.selectCurrentUser(clientDir, conninfo("verify-full", files));

        assertThat(result.exitCode()).as(result.stderr()).isZero();
        assertThat(result.stdout().strip()).isEqualTo(APP);
    }

    @Test
    void everyTcpRuleRequiresTlsAndACertificateOrRejects() {
        String rules = postgres.executeAsSuperuser(
                "select line_number, type, auth_method from pg_hba_file_rules"
                        + " where error is null order by line_number");
        List<String> tcpRules = rules.lines().map(line -> line.split("\\|"))
                .filter(fields -> !fields[1].equals("local"))
                .map(fields -> fields[1] + " " + fields[2]).toList();

        assertThat(tcpRules).isNotEmpty().allMatch(rule -> rule.equals("hostssl cert")
                || rule.equals("hostssl reject") || rule.equals("host reject"));
        assertThat(tcpRules.subList(tcpRules.size() - 2, tcpRules.size()))
                .containsExactly("host reject", "host reject");
        assertThat(postgres.executeAsSuperuser("select count(*) from pg_hba_file_rules where error is not null"))
                .isEqualTo("0");
    }

    @Test
    void runsAdministrationAsSuperuserOverThePrivateSocket() throws Exception {
        String settings = postgres.executeAsSuperuser("select current_user, current_setting('ssl'),"
                + " current_setting('ssl_min_protocol_version'), current_setting('listen_addresses'),"
                + " inet_server_addr() is null");

        assertThat(settings).isEqualTo(postgres.superuser() + "|on|TLSv1.3|127.0.0.1|t");
        assertThat(Files.getPosixFilePermissions(postgres.directory().resolve("socket")))
                .isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.getPosixFilePermissions(postgres.directory().resolve("tls").resolve("server.key")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void reportsTheFailingStatement() {
        assertThatThrownBy(() -> postgres.createRole(APP))
                .isInstanceOfSatisfying(TestkitException.class,
                        e -> assertThat(e.reason()).isEqualTo(TestkitException.Reason.COMMAND_FAILED))
                .hasMessageContaining("role \"" + APP + "\" already exists");
    }

    private String newLogLines(long from) throws Exception {
        // The server writes the line right after it refuses; give it a moment.
        for (int i = 0; i < 100; i++) {
            byte[] all = Files.readAllBytes(postgres.logFile());
            String added = new String(all, (int) from, all.length - (int) from, StandardCharsets.UTF_8);
            if (added.contains("certificate verify failed")) {
                return added;
            }
            Thread.sleep(20);
        }
        return new String(Files.readAllBytes(postgres.logFile()), StandardCharsets.UTF_8)
                .substring((int) from);
    }

    private String conninfo(String sslmode, PemFiles files) {
        return "host=localhost port=" + postgres.port() + " dbname=" + DATABASE + " user=" + APP
                + " sslmode=" + sslmode + " sslrootcert=" + files.caBundle() + " sslcert=" + files.chain()
                + " sslkey=" + files.privateKey();
    }
}
