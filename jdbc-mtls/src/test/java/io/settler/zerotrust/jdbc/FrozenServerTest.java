package io.settler.zerotrust.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.testkit.FrozenServer;
import io.settler.zerotrust.testkit.LocalPostgres;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.testkit.TlsPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL frozen with SIGSTOP: a call fails within the pool's documented bound with a typed
 * cause, its connection is evicted, and the pool serves again once the server resumes.
 */
@TlsPostgres
class FrozenServerTest {

    private static final String DATABASE = "jd_frozen";
    private static final String APP = "jd_frozen_app";
    /**
     * Long enough that a call bounded only by the freeze is told apart from one bounded by the pool;
     * the server resumes after it even if the call under test never returns by itself (the old code).
     */
    private static final Duration FREEZE = Duration.ofSeconds(6);
    /** Well before the freeze ends; the bound under test is 2 s. */
    private static final Duration WELL_BEFORE_THE_FREEZE_ENDS = Duration.ofMillis(4500);

    private final LocalPostgres postgres;
    private RecordingAuditLog audit;

    FrozenServerTest(LocalPostgres postgres) {
        this.postgres = postgres;
    }

    @BeforeAll
    static void createDatabase(LocalPostgres postgres) {
        postgres.createRole(APP);
        postgres.createDatabase(DATABASE, APP);
    }

    @BeforeEach
    void freshAudit() {
        audit = RecordingAuditLog.logging();
    }

    @Test
    @SuppressWarnings("try") // the freeze need only last the block
    void statementOnAFrozenServerFailsWithinStatementTimeoutPlusOneSecondAndItsConnectionIsEvicted() throws Exception {
        try (PostgresMtlsDataSource dataSource = Fixtures.builder(postgres, DATABASE, APP).maximumPoolSize(1)
                .statementTimeout(Duration.ofSeconds(1)).auditLog(audit).build()) {
            assertThat(dataSource.socketTimeout()).isEqualTo(Duration.ofSeconds(2));
            int backendBefore;
            try (Connection connection = dataSource.getConnection()) {
                backendBefore = backendPid(connection);
                long started;
                SQLException failure;
                try (FrozenServer frozen = postgres.freeze().resumingAfter(FREEZE)) {
                    started = System.nanoTime();
                    failure = catchSqlException(() -> backendPid(connection));
                }
                Duration waited = Duration.ofNanos(System.nanoTime() - started);

                assertThat(waited).isLessThan(WELL_BEFORE_THE_FREEZE_ENDS);
                assertThat(failure.getSQLState()).isEqualTo("08006");
                assertThat(PostgresTimeoutException.findIn(failure)).hasValueSatisfying(timeout -> {
                    assertThat(timeout.bound()).isEqualTo(Duration.ofSeconds(2));
                    assertThat(timeout.getMessage()).contains("sent nothing for 2000 ms", "socketTimeout 2 s",
                            "raise statementTimeout");
                });
                assertThat(connection.isClosed()).isTrue();
            }
            assertThat(audit.withAction("jdbc.timeout"))
                    .anySatisfy(e -> assertThat(e.fields()).containsEntry("bound", "PT2S"));

            // Resumed: the pool serves again, on a new connection (the timed-out one was not reused).
            try (Connection connection = dataSource.getConnection()) {
                assertThat(backendPid(connection)).isNotEqualTo(backendBefore);
            }
        }
    }

    @Test
    void subMillisecondStatementTimeoutIsOneMillisecondNotUnlimited() {
        // 0.5 ms becomes statement_timeout=1 (ms), not 0 (no limit): the server cancels even the
        // start-up checks' catalogue queries, so the pool refuses to start.
        assertThatThrownBy(() -> Fixtures.builder(postgres, DATABASE, APP).maximumPoolSize(1)
                .statementTimeout(Duration.ofNanos(500_000)).auditLog(audit).build().close())
                .isInstanceOf(InsecureDataSourceException.class)
                .hasMessageContaining("canceling statement due to statement timeout");
    }

    @Test
    void zeroOrNegativeTimeoutsAreRefused() {
        PostgresMtlsDataSource.Builder builder = Fixtures.builder(postgres, DATABASE, APP);
        for (Duration invalid : List.of(Duration.ZERO, Duration.ofMillis(-1))) {
            assertThatThrownBy(() -> builder.statementTimeout(invalid))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("statementTimeout must be positive");
            assertThatThrownBy(() -> builder.socketTimeout(invalid))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("socketTimeout must be positive");
            assertThatThrownBy(() -> builder.connectionTimeout(invalid))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("connectionTimeout must be positive");
            assertThatThrownBy(() -> builder.maxLifetime(invalid))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxLifetime must be positive");
        }
        // Below HikariCP's floor it would throw or, at 0 ms, wait forever.
        assertThatThrownBy(() -> builder.connectionTimeout(Duration.ofNanos(500_000)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least PT0.25S");
        // pgjdbc's own second-valued timeouts, where 0 means no limit, are builder settings.
        assertThatThrownBy(() -> builder.property("socketTimeout", "0").build())
                .isInstanceOfSatisfying(InsecureDataSourceException.class,
                        e -> assertThat(e.reason()).isEqualTo(InsecureDataSourceException.Reason.TRANSPORT))
                .hasMessageContaining("socketTimeout(Duration)");
    }

    @Test
    void socketTimeoutNotLongerThanTheStatementTimeoutIsRefused() {
        assertThatThrownBy(() -> Fixtures.builder(postgres, DATABASE, APP).statementTimeout(Duration.ofSeconds(5))
                .socketTimeout(Duration.ofSeconds(5)).auditLog(audit).build().close())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("socketTimeout (PT5S) must be longer than statementTimeout (PT5S)");
    }

    @Test
    @SuppressWarnings("try") // the freeze need only last the block
    void subSecondSocketTimeoutIsOneSecondNotUnlimited() throws Exception {
        try (PostgresMtlsDataSource dataSource = Fixtures.builder(postgres, DATABASE, APP).maximumPoolSize(1)
                .socketTimeout(Duration.ofMillis(500)).auditLog(audit).build();
             Connection connection = dataSource.getConnection()) {
            assertThat(dataSource.socketTimeout()).isEqualTo(Duration.ofSeconds(1));
            SQLException failure;
            long started;
            try (FrozenServer frozen = postgres.freeze().resumingAfter(FREEZE)) {
                started = System.nanoTime();
                failure = catchSqlException(() -> backendPid(connection));
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(WELL_BEFORE_THE_FREEZE_ENDS);
            assertThat(PostgresTimeoutException.findIn(failure)).hasValueSatisfying(
                    timeout -> assertThat(timeout.bound()).isEqualTo(Duration.ofSeconds(1)));
        }
    }

    private static int backendPid(Connection connection) throws SQLException {
        try (ResultSet row = connection.createStatement().executeQuery("select pg_backend_pid()")) {
            row.next();
            return row.getInt(1);
        }
    }

    private interface SqlCall {
        void run() throws SQLException;
    }

    private static SQLException catchSqlException(SqlCall call) {
        try {
            call.run();
        } catch (SQLException e) {
            return e;
        }
        throw new AssertionError("the call on a frozen server returned normally");
    }
}
