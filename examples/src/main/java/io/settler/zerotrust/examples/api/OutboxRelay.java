package io.settler.zerotrust.examples.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.settler.zerotrust.examples.LocalZone;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.jdbc.TenantScope;
import io.settler.zerotrust.queue.QueuePublisher;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the jobs {@link Orders} wrote to the {@code outbox} table, on its own thread: at
 * least once, never zero times.
 *
 * <p>An outbox row is marked published only in the transaction that published it, after the queue
 * accepted the job. A queue failure leaves the row (and those after it) unpublished and the relay
 * tries again after {@code interval}; a crash between the publish and the commit publishes the job
 * again, which the worker handles once (it is idempotent by order id). Rows are locked
 * ({@code FOR UPDATE SKIP LOCKED}), so several api instances never publish a row concurrently.
 *
 * <p>Every row is read inside its tenant's {@link TenantScope} (row-level security), and the job
 * {@code {"item", "orderId", "tenant"}} is built from the tenant's own order: the scope's tenant,
 * never one a row could claim. The only look across tenants is
 * {@value LocalZone#PENDING_TENANTS_FUNCTION}, which names the tenants with unpublished jobs.
 * It runs a pass when woken ({@link #wake()}, after each new order) and every {@code interval}
 * (jobs of another instance, of a crash, or of a queue outage).
 */
public final class OutboxRelay implements AutoCloseable {

    /** The most rows published in one transaction. */
    static final int BATCH = 100;

    private static final Logger LOG = LoggerFactory.getLogger(OutboxRelay.class);
    private static final Duration STOP_WAIT = Duration.ofSeconds(10);

    /** An unpublished job. */
    private record Pending(long outboxId, long orderId, String item) {
    }

    /** What a transaction published, and the failure that ended it early, if any. */
    private record Batch(int published, @Nullable RuntimeException failure) {
    }

    private final PostgresMtlsDataSource database;
    private final TenantScope tenants;
    private final QueuePublisher jobs;
    private final ObjectMapper json;
    private final Duration interval;
    private final Semaphore wakeUp = new Semaphore(0);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread thread;

    /**
     * A relay of {@code database}'s outbox to {@code jobs}; {@link #start()} starts its thread.
     *
     * @param interval how long it waits between passes when not woken, and after a failure
     */
    public OutboxRelay(PostgresMtlsDataSource database, QueuePublisher jobs, ObjectMapper json, Duration interval) {
        this.database = Objects.requireNonNull(database, "database");
        this.tenants = TenantScope.of(database);
        this.jobs = Objects.requireNonNull(jobs, "jobs");
        this.json = Objects.requireNonNull(json, "json");
        this.interval = Objects.requireNonNull(interval, "interval");
        this.thread = new Thread(this::relayUntilClosed, "api-outbox-relay");
        this.thread.setDaemon(true);
    }

    /** Starts relaying on its own thread; returns this. */
    public OutboxRelay start() {
        thread.start();
        return this;
    }

    /** Runs a pass now (or right after the one running): a new job is in the outbox. */
    public void wake() {
        wakeUp.release();
    }

    /**
     * One pass: publishes every unpublished job, tenant by tenant, oldest first.
     *
     * @return how many jobs it published
     * @throws SQLException or the queue's {@link RuntimeException}: the first failure, after the
     *     jobs published before it were marked
     */
    int publishPending() throws SQLException {
        int published = 0;
        for (String tenant : pendingTenants()) {
            Batch batch;
            do {
                batch = tenants.call(tenant, connection -> publishBatch(connection, tenant));
                published += batch.published();
                if (batch.failure() != null) {
                    throw batch.failure();
                }
            } while (batch.published() == BATCH);
        }
        return published;
    }

    /**
     * Stops the thread, waiting for a pass in progress; idempotent. Interrupted, it stops waiting and
     * keeps the interrupt: a close() that throws InterruptedException would leave that to every caller.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            wake();
            try {
                thread.join(STOP_WAIT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "OutboxRelay[" + jobs.destination() + "]";
    }

    private void relayUntilClosed() {
        boolean failing = false; // a failure is logged once per outage, its end too
        while (!closed.get()) {
            try {
                int published = publishPending();
                if (failing) {
                    LOG.info("the outbox relay works again: published {} jobs", published);
                }
                failing = false;
            } catch (SQLException | RuntimeException e) {
                if (!closed.get()) {
                    if (failing) {
                        LOG.debug("publishing the outbox failed again: {}", e.toString());
                    } else {
                        LOG.warn("publishing the outbox failed; the jobs stay in it, retrying every {}: {}", interval,
                                e.toString());
                    }
                    failing = true;
                }
            }
            try {
                wakeUp.tryAcquire(interval.toMillis(), TimeUnit.MILLISECONDS);
                wakeUp.drainPermits(); // one pass publishes everything that woke it
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The tenants with unpublished jobs: the one query outside a tenant's scope. */
    private List<String> pendingTenants() throws SQLException {
        try (Connection connection = database.getConnection();
             PreparedStatement select = connection.prepareStatement(
                     "select tenant from " + LocalZone.PENDING_TENANTS_FUNCTION + " as tenant");
             ResultSet rows = select.executeQuery()) {
            List<String> tenants = new ArrayList<>();
            while (rows.next()) {
                tenants.add(rows.getString(1));
            }
            return tenants;
        }
    }

    /** Publishes up to {@value #BATCH} of the tenant's jobs, marking each once the queue took it. */
    private Batch publishBatch(Connection connection, String tenant) throws SQLException {
        List<Pending> pending = new ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement("select x.id, x.order_id, o.item from outbox x"
                + " join orders o on o.id = x.order_id where x.published_at is null order by x.id limit ?"
                + " for update of x skip locked")) {
            select.setInt(1, BATCH);
            try (ResultSet rows = select.executeQuery()) {
                while (rows.next()) {
                    pending.add(new Pending(rows.getLong(1), rows.getLong(2), rows.getString(3)));
                }
            }
        }
        int published = 0;
        try (PreparedStatement mark = connection.prepareStatement(
                "update outbox set published_at = now() where id = ?")) {
            for (Pending job : pending) {
                try {
                    jobs.publish(job(tenant, job));
                } catch (RuntimeException e) { // the queue refused or is down: keep what was published
                    return new Batch(published, e);
                }
                mark.setLong(1, job.outboxId());
                mark.executeUpdate();
                published++;
            }
        }
        return new Batch(published, null);
    }

    /** The job as the worker reads it: {@code {"item", "orderId", "tenant"}}. */
    private byte[] job(String tenant, Pending job) {
        try {
            return json.writeValueAsBytes(new TreeMap<>(Map.of("tenant", tenant, "orderId", job.orderId(),
                    "item", job.item())));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot write the job of order " + job.orderId(), e);
        }
    }
}
