package io.settler.zerotrust.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.pki.PemFiles;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsPostgres;
import java.math.BigInteger;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A rotated client certificate reaches every pooled connection, under load, with no failed query. */
@TlsPostgres
class RotationTest {

    private static final String APP = "jd_rotating";
    private static final String DATABASE = "jd_rotation";
    private static final int WORKERS = 4;
    private static final int QUERIES_PER_WORKER = 400;
    private static final int ROTATIONS = 3;

    private final LocalPostgres postgres;
    private final RecordingAuditLog audit = RecordingAuditLog.logging();

    @TempDir
    Path credentialsDirectory;

    RotationTest(LocalPostgres postgres) {
        this.postgres = postgres;
    }

    @BeforeAll
    static void createRole(LocalPostgres postgres) {
        postgres.createRole(APP);
        postgres.createDatabase(DATABASE, APP);
    }

    private IssuedCertificate newCertificate() {
        return postgres.certificateAuthority().leaf(APP).client().issue();
    }

    @Test
    void rotationRecyclesConnectionsWithZeroFailedQueriesUnderLoad() throws Exception {
        PemFiles files = newCertificate().writePem(credentialsDirectory, "client");
        try (FileCredentialSource credentials = FileCredentialSource.builder(files.chain(), files.privateKey(),
                        files.caBundle()).auditLog(audit).start();
             PostgresMtlsDataSource dataSource = PostgresMtlsDataSource.builder()
                     .host(postgres.host()).port(postgres.port()).database(DATABASE).role(APP)
                     .credentials(credentials).maximumPoolSize(WORKERS).connectionTimeout(Duration.ofSeconds(2))
                     .auditLog(audit).build()) {
            AtomicInteger done = new AtomicInteger();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
            List<Future<?>> running = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                running.add(workers.submit(() -> {
                    for (int q = 0; q < QUERIES_PER_WORKER; q++) {
                        try {
                            serialSeenByServer(dataSource);
                        } catch (SQLException | RuntimeException e) {
                            failures.add(e);
                        }
                        done.incrementAndGet();
                    }
                }));
            }
            BigInteger latest = null;
            for (int r = 1; r <= ROTATIONS; r++) {
                int threshold = r * WORKERS * QUERIES_PER_WORKER / (ROTATIONS + 1);
                while (done.get() < threshold && running.stream().anyMatch(f -> !f.isDone())) {
                    Thread.onSpinWait();
                }
                IssuedCertificate next = newCertificate();
                next.writePem(credentialsDirectory, "client");
                assertThat(credentials.reload()).isTrue();
                latest = next.certificate().getSerialNumber();
            }
            for (Future<?> future : running) {
                future.get(2, TimeUnit.MINUTES);
            }
            workers.shutdown();

            assertThat(failures).isEmpty();
            assertThat(done.get()).isEqualTo(WORKERS * QUERIES_PER_WORKER);
            // Wait for the second eviction of each rotation (after the connection timeout), which
            // catches connections whose handshake raced the rotation.
            for (int i = 0; i < 200 && settled() < ROTATIONS; i++) {
                Thread.sleep(50);
            }
            assertThat(settled()).isEqualTo(ROTATIONS);
            assertThat(audit.withAction("jdbc.pool_recycled")).hasSize(2 * ROTATIONS);
            // Every connection the pool hands out now, all of them at once, presents the newest certificate.
            List<Connection> held = new ArrayList<>();
            try {
                for (int i = 0; i < WORKERS; i++) {
                    held.add(dataSource.getConnection());
                }
                for (Connection connection : held) {
                    assertThat(serialSeenByServer(connection)).isEqualTo(latest);
                }
            } finally {
                for (Connection connection : held) {
                    connection.close();
                }
            }
        }
    }

    @Test
    void maxLifetimeEndsBeforeTheClientCertificate() {
        IssuedCertificate shortLived = postgres.certificateAuthority().leaf(APP).client()
                .validity(Duration.ofMinutes(10)).issue();
        CredentialSource credentials = CredentialSource.fixed(Fixtures.identity(shortLived), Fixtures.trust(postgres));
        try (PostgresMtlsDataSource dataSource = PostgresMtlsDataSource.builder()
                .host(postgres.host()).port(postgres.port()).database(DATABASE).role(APP)
                .credentials(credentials).maximumPoolSize(1).maxLifetime(Duration.ofHours(2)).auditLog(audit).build()) {
            assertThat(Duration.ofMillis(dataSource.getMaxLifetime())).isLessThanOrEqualTo(Duration.ofMinutes(9));
        }
    }

    private long settled() {
        return audit.withAction("jdbc.pool_recycled").stream()
                .filter(e -> "settled".equals(e.fields().get("phase"))).count();
    }

    private static BigInteger serialSeenByServer(PostgresMtlsDataSource dataSource) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            return serialSeenByServer(connection);
        }
    }

    private static BigInteger serialSeenByServer(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet row =
                     statement.executeQuery("select client_serial from pg_stat_ssl where pid = pg_backend_pid()")) {
            row.next();
            return row.getBigDecimal(1).toBigIntegerExact();
        }
    }
}
