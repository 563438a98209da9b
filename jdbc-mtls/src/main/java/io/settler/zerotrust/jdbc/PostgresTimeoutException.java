package io.settler.zerotrust.jdbc;

import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Optional;

/**
 * PostgreSQL sent nothing within a {@link PostgresMtlsDataSource}'s bound (its socket timeout, or
 * a shorter bound pgjdbc or HikariCP set for one step such as validation). pgjdbc reports it as
 * the cause of an {@link java.sql.SQLException} with SQLState {@code 08006} (connection failure):
 * the connection is closed and evicted from the pool, never reused. Find it with
 * {@link #findIn(Throwable)}.
 */
public final class PostgresTimeoutException extends SocketTimeoutException {

    private static final long serialVersionUID = 1L;

    private final Duration bound;

    PostgresTimeoutException(String message, Duration bound) {
        super(message);
        this.bound = bound;
    }

    /** The bound that was hit. */
    public Duration bound() {
        return bound;
    }

    /** This exception in {@code failure}'s cause chain, if a timeout caused it. */
    public static Optional<PostgresTimeoutException> findIn(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof PostgresTimeoutException timeout) {
                return Optional.of(timeout);
            }
        }
        return Optional.empty();
    }
}
