package io.settler.zerotrust.examples.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.async.RedisStringAsyncCommands;
import io.settler.zerotrust.jdbc.TenantScope;
import io.settler.zerotrust.redis.KeyNamespace;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the API does with an order, for one tenant at a time: PostgreSQL under row-level security
 * (every statement inside a {@link TenantScope}, so another tenant's rows do not exist for it),
 * the order's job written to the outbox in the order's own transaction (the {@link OutboxRelay}
 * publishes it), and a best-effort copy in Redis under the api's own key namespace.
 * Thread-safe; the calls block (run them off the event loop).
 *
 * <p>Its statements are public ({@link #insert}, {@link #select}) for a server that runs them in a
 * tenant transaction of its own, e.g. the Spring Boot version of this API ({@code examples-spring-boot}),
 * whose transactions the starter scopes to the token's tenant.
 */
public final class Orders {

    private static final Logger LOG = LoggerFactory.getLogger(Orders.class);

    /** The api's Redis keys: {@code api:order:<id>}, the only keys its ACL user may write. */
    static final KeyNamespace CACHE = KeyNamespace.of(ApiServer.SERVICE);

    /** How long a cached order is kept. */
    public static final Duration CACHE_TTL = Duration.ofHours(1);

    /**
     * An order as its tenant sees it; {@code done} once a worker recorded its result.
     *
     * @param id the order's id
     * @param item what was ordered
     * @param done whether a worker recorded its job's result
     */
    public record Order(long id, String item, boolean done) {
    }

    /** What {@link #create} did with a request. */
    public enum Outcome {
        /** A new order, its job in the outbox. */
        CREATED,
        /** The idempotency key named an order with the same item: that order, nothing new. */
        REPLAYED,
        /** The idempotency key named an order with another item: nothing new. */
        KEY_REUSED
    }

    /**
     * The order a request created or named, and which.
     *
     * @param id the order's id
     * @param outcome whether it is new, or named by the request's idempotency key
     */
    public record Created(long id, Outcome outcome) {
    }

    private final TenantScope tenants;
    private final RedisStringAsyncCommands<String, String> cache;
    private final OutboxRelay relay;
    private final ObjectMapper json;

    Orders(TenantScope tenants, RedisStringAsyncCommands<String, String> cache, OutboxRelay relay, ObjectMapper json) {
        this.tenants = Objects.requireNonNull(tenants, "tenants");
        this.cache = Objects.requireNonNull(cache, "cache");
        this.relay = Objects.requireNonNull(relay, "relay");
        this.json = Objects.requireNonNull(json, "json");
    }

    /**
     * Stores a new order of {@code tenant} and its job, in one transaction: the order and its
     * outbox row commit together or not at all, so no order is ever without its job, whatever
     * Redis does. Then wakes the relay and caches the order (best effort: a Redis failure is only
     * logged; the job is published when Redis is back).
     *
     * <p>With an idempotency key, the unique constraint on (tenant, caller, key) decides: of two
     * requests with the same key, concurrent or not, one inserts and the other waits for it and
     * then finds its order ({@link Outcome#REPLAYED}, or {@link Outcome#KEY_REUSED} for another
     * item). No check-then-insert: the insert is the check.
     *
     * @param caller the calling service (the token's subject), part of the key's scope
     * @param idempotencyKey the client's key for this order, if it sent one
     */
    Created create(String tenant, String caller, Optional<String> idempotencyKey, String item) throws SQLException {
        Created created = tenants.call(tenant,
                connection -> insert(connection, tenant, caller, idempotencyKey, item));
        if (created.outcome() == Outcome.CREATED) {
            relay.wake();
            cache(cache, json, created.id(), item, tenant);
        }
        return created;
    }

    /**
     * Inserts a new order of {@code tenant} and its outbox row on {@code connection}, which must be in a
     * transaction scoped to {@code tenant} (row-level security checks the rows against it); with an
     * idempotency key that already names an order, finds that order instead. The caller commits, then
     * wakes the outbox relay.
     *
     * @param caller the calling service (the token's subject), part of the key's scope
     * @param idempotencyKey the client's key for this order, if it sent one
     */
    public static Created insert(Connection connection, String tenant, String caller, Optional<String> idempotencyKey,
                                 String item) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement("insert into orders"
                + " (tenant_id, item, caller, idempotency_key) values (?, ?, ?, ?)"
                + " on conflict (tenant_id, caller, idempotency_key) do nothing returning id")) {
            insert.setString(1, tenant);
            insert.setString(2, item);
            insert.setString(3, caller);
            insert.setString(4, idempotencyKey.orElse(null));
            try (ResultSet row = insert.executeQuery()) {
                if (!row.next()) { // only with a key: its order exists (committed, as the insert waited for it)
                    return existing(connection, tenant, caller, idempotencyKey.orElseThrow(), item);
                }
                long id = row.getLong(1);
                try (PreparedStatement outbox = connection.prepareStatement(
                        "insert into outbox (tenant_id, order_id) values (?, ?)")) {
                    outbox.setString(1, tenant);
                    outbox.setLong(2, id);
                    outbox.executeUpdate();
                }
                return new Created(id, Outcome.CREATED);
            }
        }
    }

    /** The order an idempotency key already names. */
    private static Created existing(Connection connection, String tenant, String caller, String idempotencyKey,
                                    String item) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(
                "select id, item from orders where tenant_id = ? and caller = ? and idempotency_key = ?")) {
            select.setString(1, tenant);
            select.setString(2, caller);
            select.setString(3, idempotencyKey);
            try (ResultSet row = select.executeQuery()) {
                if (!row.next()) {
                    throw new SQLException("the insert conflicted on an idempotency key whose order is not visible");
                }
                Outcome outcome = row.getString(2).equals(item) ? Outcome.REPLAYED : Outcome.KEY_REUSED;
                return new Created(row.getLong(1), outcome);
            }
        }
    }

    /** The order {@code id} if {@code tenant} can see it (its own), else empty. */
    Optional<Order> find(String tenant, long id) throws SQLException {
        return tenants.call(tenant, connection -> select(connection, id));
    }

    /**
     * The order {@code id} if the tenant of {@code connection}'s transaction can see it (its own), else empty.
     */
    public static Optional<Order> select(Connection connection, long id) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("select o.item,"
                + " exists (select 1 from job_results r where r.order_id = o.id) from orders o where o.id = ?")) {
            select.setLong(1, id);
            try (ResultSet row = select.executeQuery()) {
                return row.next() ? Optional.of(new Order(id, row.getString(1), row.getBoolean(2)))
                        : Optional.empty();
            }
        }
    }

    /**
     * Caches a new order under {@code api:order:<id>} for {@link #CACHE_TTL}, best effort: a failure is only
     * logged, and the call does not wait for Redis.
     *
     * @param cache the api's Redis connection (its ACL user may write only the api's key namespace)
     */
    public static void cache(RedisStringAsyncCommands<String, String> cache, ObjectMapper json, long id, String item,
                             String tenant) {
        cache.set(CACHE.key("order", Long.toString(id)), text(json, Map.of("id", id, "item", item, "tenant", tenant)),
                        SetArgs.Builder.ex(CACHE_TTL))
                .exceptionally(failure -> {
                    LOG.warn("order {} not cached: {}", id, failure.toString());
                    return null;
                });
    }

    /** {@code fields} as a JSON object, keys in alphabetical order. */
    private static String text(ObjectMapper json, Map<String, Object> fields) {
        try {
            return json.writeValueAsString(new TreeMap<>(fields));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot write " + fields.keySet() + " as JSON", e);
        }
    }
}
