package io.settler.zerotrust.examples.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.sync.RedisStringCommands;
import io.settler.zerotrust.jdbc.TenantScope;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.redis.KeyNamespace;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What the API does with an order, for one tenant at a time: PostgreSQL under row-level security
 * (every statement inside a {@link TenantScope}, so another tenant's rows do not exist for it),
 * a copy in Redis under the api's own key namespace, and a signed job on the api's own stream.
 * Thread-safe; the calls block (run them off the event loop).
 */
final class Orders {

    /** The api's Redis keys: {@code api:order:<id>}, the only keys its ACL user may write. */
    static final KeyNamespace CACHE = KeyNamespace.of(ApiServer.SERVICE);

    /** How long a cached order is kept. */
    static final Duration CACHE_TTL = Duration.ofHours(1);

    /** An order as its tenant sees it; {@code done} once a worker recorded its result. */
    record Order(long id, String item, boolean done) {
    }

    private final TenantScope tenants;
    private final RedisStringCommands<String, String> cache;
    private final QueuePublisher jobs;
    private final ObjectMapper json;

    Orders(TenantScope tenants, RedisStringCommands<String, String> cache, QueuePublisher jobs, ObjectMapper json) {
        this.tenants = Objects.requireNonNull(tenants, "tenants");
        this.cache = Objects.requireNonNull(cache, "cache");
        this.jobs = Objects.requireNonNull(jobs, "jobs");
        this.json = Objects.requireNonNull(json, "json");
    }

    /**
     * Stores a new order of {@code tenant}, caches it and queues its job.
     *
     * <p>Not atomic: if Redis fails after the insert, the order exists but no job was queued (it
     * stays {@code queued}); a production service would write the job to an outbox table in the
     * same transaction.
     *
     * @return the order's id
     */
    long create(String tenant, String item) throws SQLException {
        long id = tenants.call(tenant, connection -> {
            try (PreparedStatement insert = connection.prepareStatement(
                    "insert into orders (tenant_id, item) values (?, ?) returning id")) {
                insert.setString(1, tenant);
                insert.setString(2, item);
                try (ResultSet row = insert.executeQuery()) {
                    row.next();
                    return row.getLong(1);
                }
            }
        });
        cache.set(CACHE.key("order", Long.toString(id)),
                text(Map.of("id", id, "item", item, "tenant", tenant)), SetArgs.Builder.ex(CACHE_TTL));
        jobs.publish(bytes(Map.of("tenant", tenant, "orderId", id, "item", item)));
        return id;
    }

    /** The order {@code id} if {@code tenant} can see it (its own), else empty. */
    Optional<Order> find(String tenant, long id) throws SQLException {
        return tenants.call(tenant, connection -> {
            try (PreparedStatement select = connection.prepareStatement("select o.item,"
                    + " exists (select 1 from job_results r where r.order_id = o.id) from orders o where o.id = ?")) {
                select.setLong(1, id);
                try (ResultSet row = select.executeQuery()) {
                    return row.next() ? Optional.of(new Order(id, row.getString(1), row.getBoolean(2)))
                            : Optional.empty();
                }
            }
        });
    }

    /** {@code fields} as a JSON object, keys in alphabetical order. */
    private String text(Map<String, Object> fields) {
        try {
            return json.writeValueAsString(new TreeMap<>(fields));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot write " + fields.keySet() + " as JSON", e);
        }
    }

    private byte[] bytes(Map<String, Object> fields) {
        return text(fields).getBytes(StandardCharsets.UTF_8);
    }
}
