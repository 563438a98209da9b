package io.settler.zerotrust.spring;

import io.settler.zerotrust.audit.LogSafe;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The {@code zerotrustPostgres} health component: on a connection of the pool, what the server
 * itself says about it ({@code pg_stat_ssl} for this backend). {@code UP} when the session is
 * encrypted with TLS 1.3 and the server saw a client certificate; {@code DOWN} when no connection
 * can be had, or the session is not TLS 1.3. Details: {@code tls} (the protocol), {@code sslmode}
 * ({@code verify-full}: the pool sets nothing else), {@code role} (the session's user),
 * {@code identity} (this service's SPIFFE ID), {@code clientCertificate} ({@code current}, or
 * {@code previous} while the pool recycles connections after a rotation) and {@code pool}. No
 * key, certificate, URL parameter or server message is in the details.
 */
final class PostgresHealthIndicator implements HealthIndicator {

    /** This backend's TLS as the server saw it; the certificate's serial as decimal text. */
    private static final String POSTURE = "select s.ssl, s.version, s.client_serial::text, current_user"
            + " from pg_catalog.pg_stat_ssl s where s.pid = pg_catalog.pg_backend_pid()";

    private final PostgresMtlsDataSource dataSource;
    private final CredentialSource credentials;

    PostgresHealthIndicator(PostgresMtlsDataSource dataSource, CredentialSource credentials) {
        this.dataSource = dataSource;
        this.credentials = credentials;
    }

    @Override
    public Health health() {
        Health.Builder health = Health.up();
        health.withDetail("pool", dataSource.getPoolName()).withDetail("sslmode", "verify-full")
                .withDetail("identity", credentials.current().identity().identity().map(ServiceIdentity::toString)
                        .orElse("none"));
        try (Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery(POSTURE)) {
            if (!row.next()) {
                return health.down().withDetail("problem", "pg_stat_ssl shows no row for this session").build();
            }
            boolean ssl = row.getBoolean(1);
            String version = LogSafe.text(String.valueOf(row.getString(2)));
            String serial = row.getString(3);
            health.withDetail("tls", ssl ? version : "none").withDetail("role", LogSafe.text(row.getString(4)));
            boolean current = serial != null && new BigInteger(serial)
                    .equals(credentials.current().identity().certificate().getSerialNumber());
            health.withDetail("clientCertificate", current ? "current" : serial == null ? "none" : "previous");
            if (!ssl || !"TLSv1.3".equals(version) || serial == null) {
                health.down().withDetail("problem", "the session is not TLS 1.3 with a client certificate");
            }
            return health.build();
        } catch (SQLException | RuntimeException e) {
            return health.down().withDetail("problem", "no connection: " + e.getClass().getSimpleName()).build();
        }
    }
}
