package io.settler.zerotrust.benchmarks.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.LocalPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Properties;
import org.jspecify.annotations.Nullable;

/**
 * A testkit PostgreSQL (TLS 1.3, client certificates only) with an indexed, tenant-isolated
 * table of {@value #ROWS} rows, and the two pools the benchmarks compare.
 */
final class BenchmarkDatabase implements AutoCloseable {

    static final int ROWS = 10_000;
    static final int POOL_SIZE = 8;
    static final String TENANT = "tenant-1";
    static final String SELECT = "select item from items where id = ?";

    private static final String ROLE = "bench_app";
    private static final String DATABASE = "bench";

    private final LocalPostgres postgres;

    BenchmarkDatabase() {
        DevCertificateAuthority ca = DevCertificateAuthority.create("bench.example");
        postgres = LocalPostgres.builder(ca).start();
        postgres.createRole("bench_owner");
        postgres.createRole(ROLE);
        postgres.createDatabase(DATABASE, "bench_owner");
        postgres.executeAsSuperuser(DATABASE, String.join("\n",
                "GRANT CONNECT ON DATABASE " + DATABASE + " TO " + ROLE + ";",
                "CREATE TABLE items (id int PRIMARY KEY, tenant_id text NOT NULL, item text NOT NULL);",
                "INSERT INTO items SELECT g, 'tenant-' || (g % 4), 'item-' || g"
                        + " FROM generate_series(1, " + ROWS + ") g;",
                "ALTER TABLE items OWNER TO bench_owner;",
                "ALTER TABLE items ENABLE ROW LEVEL SECURITY;",
                "ALTER TABLE items FORCE ROW LEVEL SECURITY;",
                // Rows outside any tenant scope stay readable, so the plain SELECT benchmark reads them too.
                "CREATE POLICY tenant_isolation ON items"
                        + " USING (coalesce(current_setting('app.tenant_id', true), '') = ''"
                        + " OR tenant_id = current_setting('app.tenant_id', true));",
                "GRANT SELECT ON items TO " + ROLE + ";",
                "ANALYZE items;"));
    }

    /** Ours: verify-full mTLS through our SSLContext, start-up checks, no cleartext cancel. */
    PostgresMtlsDataSource ours() {
        IssuedCertificate certificate = postgres.clientCertificate(ROLE);
        CredentialSource credentials = CredentialSource.fixed(
                TlsIdentity.of(certificate.privateKey(), certificate.chain()),
                TrustBundle.of(List.of(postgres.certificateAuthority().rootCertificate())));
        return PostgresMtlsDataSource.builder()
                .host(postgres.host()).port(postgres.port()).database(DATABASE).role(ROLE)
                .credentials(credentials).maximumPoolSize(POOL_SIZE)
                .auditLog(event -> { })
                .build();
    }

    /**
     * The baseline: plain HikariCP + pgjdbc, verify-full against the same CA, the role's certificate
     * from a PKCS#12 file.
     */
    HikariDataSource plain() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(postgres.jdbcUrl(DATABASE));
        Properties properties = postgres.connectionProperties(ROLE);
        config.setDataSourceProperties(properties);
        config.setMaximumPoolSize(POOL_SIZE);
        config.setMinimumIdle(POOL_SIZE);
        config.setPoolName("plain-hikari");
        return new HikariDataSource(config);
    }

    static @Nullable String select(Connection connection, int id) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(SELECT)) {
            select.setInt(1, id);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? row.getString(1) : null;
            }
        }
    }

    @Override
    public void close() {
        postgres.close();
    }
}
