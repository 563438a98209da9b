package io.settler.zerotrust.benchmarks.jdbc;

import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.jdbc.TenantScope;
import java.sql.Connection;
import java.sql.SQLException;
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
 * One transaction with one indexed SELECT, on our data source (pool of 8, 8 threads).
 *
 * <p>{@code baseline}: a plain transaction (auto-commit off, SELECT, commit). {@code tenantScope}:
 * the same work in {@link TenantScope#call}, which adds the checked {@code set_config} with a session
 * reset in front of it, and the verify and the same reset sent with the commit (one round trip more
 * in all, and the reset's server work twice). The ratio is the per-transaction cost of tenant
 * isolation. Lower is better (microseconds per transaction).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(BenchmarkDatabase.POOL_SIZE)
public class TenantScopeBenchmark {

    private BenchmarkDatabase database;
    private PostgresMtlsDataSource ours;
    private TenantScope tenants;

    /** Starts the server and the pool once per trial. */
    @Setup
    public void setUp() throws SQLException {
        database = new BenchmarkDatabase();
        ours = database.ours();
        tenants = TenantScope.of(ours);
        baseline();
        tenantScope();
    }

    /** Stops the pool and the server. */
    @TearDown
    public void tearDown() {
        ours.close();
        database.close();
    }

    /** A plain transaction. */
    @Benchmark
    public @Nullable String baseline() throws SQLException {
        try (Connection connection = ours.getConnection()) {
            connection.setAutoCommit(false);
            try {
                String item = BenchmarkDatabase.select(connection, id());
                connection.commit();
                return item;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        }
    }

    /** The same transaction inside a tenant scope. */
    @Benchmark
    // The row may belong to another tenant (RLS): null is a result, as Work<T extends @Nullable Object> allows.
    // NullAway reads that bound only in JSpecify mode, which needs JDK 22+; no wrapper in the measured path.
    @SuppressWarnings("NullAway")
    public @Nullable String tenantScope() throws SQLException {
        int id = id();
        return tenants.call(BenchmarkDatabase.TENANT, connection -> BenchmarkDatabase.select(connection, id));
    }

    private static int id() {
        return ThreadLocalRandom.current().nextInt(1, BenchmarkDatabase.ROWS + 1);
    }
}
