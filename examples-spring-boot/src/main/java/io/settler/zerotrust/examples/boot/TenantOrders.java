package io.settler.zerotrust.examples.boot;

import io.settler.zerotrust.examples.api.Orders;
import java.util.Objects;
import java.util.Optional;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * The hand-wired api's statements ({@link Orders#insert}, {@link Orders#select}) in Spring transactions:
 * the starter's transaction manager runs each method inside a {@code TenantScope} for the caller's token's
 * tenant claim, so row-level security shows and accepts that tenant's rows only. No tenant code here.
 */
@Service
public class TenantOrders {

    private final JdbcTemplate jdbc;

    TenantOrders(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * A new order and its outbox row, or the order the idempotency key names; committed on return.
     *
     * @param tenant the token's tenant claim, written to {@code tenant_id} (the policies check it is the
     *     transaction's)
     * @param caller the calling service, the idempotency key's scope
     */
    @Transactional
    public Orders.Created create(String tenant, String caller, Optional<String> idempotencyKey, String item) {
        return Objects.requireNonNull(jdbc.execute((ConnectionCallback<Orders.Created>) connection ->
                Orders.insert(connection, tenant, caller, idempotencyKey, item)));
    }

    /** The order {@code id} if it is the caller's tenant's, else empty. */
    @Transactional(readOnly = true)
    public Optional<Orders.Order> find(long id) {
        return Objects.requireNonNull(jdbc.execute((ConnectionCallback<Optional<Orders.Order>>) connection ->
                Orders.select(connection, id)));
    }
}
