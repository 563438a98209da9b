package io.settler.zerotrust.examples.boot;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.examples.api.ApiServer;
import io.settler.zerotrust.examples.api.OrderRequests;
import io.settler.zerotrust.examples.api.Orders;
import io.settler.zerotrust.examples.api.OutboxRelay;
import io.settler.zerotrust.jdbc.TenantScopeException;
import io.settler.zerotrust.spring.ZeroTrustAuthentication;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.access.prepost.PreAuthorize;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * The hand-wired api's routes ({@code OrdersHandler}) as a controller: the same bodies, headers and answers.
 * The caller is the {@link ZeroTrustAuthentication} the starter made of its token (a request without a valid
 * one never gets here: {@code 401}); the scopes are checked by the filter chain and again here; a token
 * without a {@code tenant} claim is refused by the starter's tenant transactions ({@code 403}, empty body).
 */
@RestController
public class OrdersController {

    private static final Logger LOG = LoggerFactory.getLogger(OrdersController.class);

    /** The collection; an order is {@code /orders/<id>}. */
    static final String ORDERS = "/orders";
    /** The authority of {@value ApiServer#WRITE_SCOPE}. */
    static final String WRITE_AUTHORITY = ZeroTrustAuthentication.SCOPE_PREFIX + ApiServer.WRITE_SCOPE;
    /** The authority of {@value ApiServer#READ_SCOPE}. */
    static final String READ_AUTHORITY = ZeroTrustAuthentication.SCOPE_PREFIX + ApiServer.READ_SCOPE;

    private final TenantOrders orders;
    private final OutboxRelay relay;
    private final StatefulRedisConnection<String, String> cache;
    private final ObjectMapper json;

    OrdersController(TenantOrders orders, OutboxRelay relay, StatefulRedisConnection<String, String> cache,
                     ObjectMapper orderJson) {
        this.orders = orders;
        this.relay = relay;
        this.cache = cache;
        this.json = orderJson;
    }

    /** {@code POST /orders {"item": "..."}}: {@code 201 {"id": N}}, its job in the outbox. */
    @PostMapping(ORDERS)
    @PreAuthorize("hasAuthority('" + WRITE_AUTHORITY + "')")
    ResponseEntity<Map<String, Object>> create(ZeroTrustAuthentication caller,
                                               @RequestBody(required = false) byte @Nullable [] body,
                                               @RequestHeader(name = OrderRequests.IDEMPOTENCY_KEY, required = false)
                                               @Nullable List<String> idempotencyKeys) {
        Optional<String> key = OrderRequests.idempotencyKey(idempotencyKeys == null ? List.of() : idempotencyKeys);
        String item = OrderRequests.item(json, body == null ? new byte[0] : body);
        String tenant = Objects.requireNonNullElse(caller.token().claims().get(ApiServer.TENANT_CLAIM), "");
        Orders.Created created = orders.create(tenant, caller.token().service().toString(), key, item);
        return switch (created.outcome()) {
            case CREATED -> {
                relay.wake(); // committed: publish its job now
                Orders.cache(cache.async(), json, created.id(), item, tenant);
                yield reply(HttpStatus.CREATED, Map.of("id", created.id()));
            }
            case REPLAYED -> ResponseEntity.status(HttpStatus.CREATED).header(OrderRequests.REPLAYED, "true")
                    .cacheControl(CacheControl.noStore()).body(Map.of("id", created.id()));
            case KEY_REUSED -> reply(HttpStatus.UNPROCESSABLE_CONTENT, Map.of("error", OrderRequests.KEY_REUSED));
        };
    }

    /** {@code GET /orders/<id>}: {@code 200 {"id", "item", "status"}}, or {@code 404} (also for another tenant's). */
    @GetMapping(ORDERS + "/{id}")
    @PreAuthorize("hasAuthority('" + READ_AUTHORITY + "')")
    ResponseEntity<Map<String, Object>> read(@PathVariable("id") String id) {
        long number = OrderRequests.id(id);
        return orders.find(number)
                .map(order -> reply(HttpStatus.OK, Map.<String, Object>of("id", order.id(), "item", order.item(),
                        "status", order.done() ? "done" : "queued")))
                .orElseGet(() -> reply(HttpStatus.NOT_FOUND, Map.of("error", "no order " + number)));
    }

    @ExceptionHandler(OrderRequests.BadRequest.class)
    ResponseEntity<Map<String, Object>> badRequest(OrderRequests.BadRequest e) {
        return reply(HttpStatus.BAD_REQUEST,
                Map.of("error", Objects.requireNonNullElse(e.getMessage(), "bad request")));
    }

    /**
     * A tenant claim {@code TenantScope} cannot apply (e.g. longer than 200 characters): {@code 403}, as
     * {@code ApiServer}; any other failure of the scope is the {@code 500} it is.
     */
    @ExceptionHandler(TenantScopeException.class)
    ResponseEntity<Map<String, Object>> tenantRefused(TenantScopeException e) throws TenantScopeException {
        if (e.reason() != TenantScopeException.Reason.INVALID_TENANT) {
            throw e;
        }
        LOG.warn("refused a tenant claim: {}", e.getMessage());
        return reply(HttpStatus.FORBIDDEN, Map.of("error", "this token may not act for a tenant"));
    }

    private static ResponseEntity<Map<String, Object>> reply(HttpStatus status, Map<String, Object> body) {
        return ResponseEntity.status(status).cacheControl(CacheControl.noStore()).body(body);
    }
}
