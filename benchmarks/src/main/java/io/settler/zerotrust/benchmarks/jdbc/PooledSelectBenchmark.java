package io.settler.zerotrust.benchmarks.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * One indexed primary-key SELECT per operation, borrowing from a pool of 8 connections, 8 threads,
 * against a testkit PostgreSQL on loopback (TLS 1.3, client certificate required).
 *
 * <p>{@code baseline}: plain HikariCP + pgjdbc with {@code sslmode=verify-full}, pgjdbc's own
 * {@code LibPQFactory} reading the role's PKCS#12 key file and the CA file. {@code mtlsDataSource}:
 * our {@link PostgresMtlsDataSource} (our SSLContext through the registry shim, the single-socket
 * factory). Both pools are warm; TLS handshakes happen only when connections are created, so the
 * difference measured is the per-query path. Higher is better (queries per second).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(BenchmarkDatabase.POOL_SIZE)
public class PooledSelectBenchmark {

    private BenchmarkDatabase database;
    private HikariDataSource plain;
    private PostgresMtlsDataSource ours;

    /** Starts the server and both pools once per trial, and checks both return the same row. */
    @Setup
    public void setUp() throws SQLException {
        database = new BenchmarkDatabase();
        plain = database.plain();
        ours = database.ours();
        if (!Objects.equals(select(plain, 42), select(ours, 42))) {
            throw new IllegalStateException("the two pools read different rows");
        }
    }

    /** Stops both pools and the server. */
    @TearDown
    public void tearDown() {
        ours.close();
        plain.close();
        database.close();
    }

    /** Plain HikariCP + pgjdbc. */
    @Benchmark
    public @Nullable String baseline() throws SQLException {
        return select(plain, ThreadLocalRandom.current().nextInt(1, BenchmarkDatabase.ROWS + 1));
    }

    /** Our data source. */
    @Benchmark
    public @Nullable String mtlsDataSource() throws SQLException {
        return select(ours, ThreadLocalRandom.current().nextInt(1, BenchmarkDatabase.ROWS + 1));
    }

    private static @Nullable String select(HikariDataSource pool, int id) throws SQLException {
        try (Connection connection = pool.getConnection()) {
            return BenchmarkDatabase.select(connection, id);
        }
    }
}
