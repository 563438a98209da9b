package io.settler.zerotrust.examples.api;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.lettuce.core.api.StatefulRedisConnection;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.examples.Deployment;
import io.settler.zerotrust.examples.JobQueue;
import io.settler.zerotrust.examples.LocalZone;
import io.settler.zerotrust.examples.Resources;
import io.settler.zerotrust.examples.ServiceEndpoint;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.jdbc.TenantScope;
import io.settler.zerotrust.netty.RouteScopes;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.token.ServiceTokens;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The example API server: the gateway's way into Zone 1, and the api's way into Zone 2.
 *
 * <p>Every request passes, in this order: a source-network allow-list (loopback; refused before
 * any TLS byte), mutual TLS 1.3 admitting only the identities the policy lets call {@code api}
 * (the gateway, from loopback), a check that closes connections whose certificate expired or whose
 * identity the policy revoked, a rate limit per caller, and a service token (audience {@code api},
 * issued by the gateway with its published keys, its {@code sub} equal to the connection's
 * identity) carrying the route's scope:
 *
 * <pre>
 * POST /orders       orders:write   {"item": "..."}  -&gt; 201 {"id": N}; 422 for a reused Idempotency-Key
 * GET  /orders/{id}  orders:read                     -&gt; 200 {"id", "item", "status": "queued" | "done"}, or 404
 * </pre>
 *
 * <p>The tenant is the token's {@value #TENANT_CLAIM} claim. A new order is inserted as
 * PostgreSQL role {@code api} inside a {@link TenantScope} (row-level security: another tenant's
 * orders are a 404) together with its job in the {@code outbox} table, in one transaction; it is
 * then cached in Redis as ACL user {@code api} under {@code api:order:<id>} (best effort). The
 * {@link OutboxRelay} publishes the job as a signed envelope ({@code {"tenant", "orderId", "item"}})
 * on queue {@value LocalZone#QUEUE}, at least once: a queue outage delays jobs, it loses none. The
 * queue is the api's own stream on Redis, or RabbitMQ's quorum queue, as the deployment's
 * {@value Deployment#QUEUE_TRANSPORT} says ({@link JobQueue}). A client that retries sends an
 * {@code Idempotency-Key} header ({@link OrderRequests#IDEMPOTENCY_KEY}): the retry gets the first
 * order back instead of a second one. Everything comes from the {@link Deployment}: policy, certificate
 * (re-read when it rotates), Redis password, endpoints; the token signing key is generated at start
 * and only its public half published.
 *
 * <pre>{@code
 * try (ApiServer api = ApiServer.start(deployment)) {
 *     int port = api.port();   // https://127.0.0.1:<port>
 * }
 * }</pre>
 */
public final class ApiServer implements AutoCloseable {

    /** This service's name in the policy. */
    public static final String SERVICE = "api";
    /** The service whose tokens it accepts. */
    public static final String CALLER = "gateway";
    /** The token claim naming the end user's tenant. */
    public static final String TENANT_CLAIM = "tenant";
    /** The scope {@code GET /orders/{id}} needs. */
    public static final String READ_SCOPE = "orders:read";
    /** The scope {@code POST /orders} needs. */
    public static final String WRITE_SCOPE = "orders:write";
    /** The endpoint setting of the port; 0 or missing means a free port. */
    public static final String PORT_ENDPOINT = "api.port";

    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
    /** Threads for the blocking database and Redis calls, and as many database connections (plus the relay's). */
    private static final int WORKERS = 4;
    /** How often the outbox relay looks for jobs it was not woken for, and retries after a failure. */
    private static final Duration RELAY_INTERVAL = Duration.ofSeconds(1);
    private static final int MAX_REQUEST_BYTES = 64 * 1024;

    private final Resources resources;
    private final ServiceEndpoint endpoint;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ApiServer(Deployment deployment, Resources resources) {
        this.resources = resources;
        AuditLog audit = deployment.auditLog();
        FileCredentialSource credentials = resources.add(deployment.credentials(SERVICE));

        // Zone 2: PostgreSQL as role api, Redis as ACL user api, jobs signed with the api's own key.
        PostgresMtlsDataSource database = resources.add(deployment.postgres(SERVICE, credentials)
                .maximumPoolSize(WORKERS + 1).build());
        HardenedRedis redis = resources.add(deployment.redis(SERVICE, credentials).ioThreads(1).build());
        StatefulRedisConnection<String, String> cache = resources.add(redis.connect());
        ServiceTokens ownTokens = ServiceTokens.builder()
                .identity(deployment.identity(SERVICE))
                .keys(deployment.newTokenKeys(SERVICE))
                .policy(deployment.policy())                  // it cannot mint a scope the policy does not grant it
                .auditLog(audit)
                .build();
        ObjectMapper json = JsonMapper.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
        // Jobs go to the outbox with their order; the relay publishes them, signed, once the queue takes them
        // (Redis Streams or RabbitMQ, as the deployment's queue.transport says).
        QueuePublisher jobs = JobQueue.publisher(deployment, SERVICE,
                EnvelopeSigner.builder(ownTokens, LocalZone.QUEUE).build(), cache, credentials, resources);
        OutboxRelay relay = resources.add(new OutboxRelay(database, jobs, json, RELAY_INTERVAL)).start();
        Orders orders = new Orders(TenantScope.of(database), cache.async(), relay, json);

        ExecutorService work = Executors.newFixedThreadPool(WORKERS, new DefaultThreadFactory("api-work", true));
        resources.add(() -> {
            work.shutdown();
            work.awaitTermination(5, TimeUnit.SECONDS);
        });

        // Zone 1: loopback only, mTLS with the policy's callers (the gateway), a token per route.
        endpoint = resources.add(ServiceEndpoint.builder(deployment, SERVICE, CALLER, credentials)
                .routes(RouteScopes.builder()
                        .route(HttpMethod.POST, OrdersHandler.ORDERS, WRITE_SCOPE)
                        .route(HttpMethod.GET, OrdersHandler.ORDERS, READ_SCOPE)
                        .build())
                .application(new OrdersHandler(orders, json, work, audit))
                .maxRequestBytes(MAX_REQUEST_BYTES)
                .start());
        LOG.info("api listening on https://127.0.0.1:{}", port());
    }

    /**
     * Starts the server as the deployment says: connects to PostgreSQL and Redis (proving TLS 1.3
     * and its identity on each), publishes its token keys, and listens on 127.0.0.1 at
     * {@value #PORT_ENDPOINT} (a free port when 0 or missing).
     *
     * @throws RuntimeException what the failing step threw (e.g. {@code InsecureDataSourceException},
     *     {@code RedisTlsException}, {@code IllegalStateException} when the port is taken);
     *     everything started before it is stopped again
     */
    public static ApiServer start(Deployment deployment) {
        Resources resources = new Resources();
        try {
            return new ApiServer(deployment, resources);
        } catch (RuntimeException | Error e) {
            resources.close();
            throw e;
        }
    }

    /**
     * Runs the server until Ctrl-C.
     *
     * @param args the deployment directory (as {@link LocalZone} or an orchestrator writes it)
     */
    public static void main(String[] args) throws InterruptedException {
        if (args.length != 1) {
            System.err.println("usage: ApiServer <deployment directory>");
            System.exit(2);
        }
        ApiServer server = start(Deployment.at(Path.of(args[0])));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "api-shutdown"));
        System.out.println("api listening on https://127.0.0.1:" + server.port() + "; Ctrl-C stops it");
        server.endpoint.closeFuture().await();
    }

    /** The port it listens on (on 127.0.0.1). */
    public int port() {
        return endpoint.port();
    }

    /** Stops listening, finishes or abandons requests in flight, and closes every connection it opened; idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            resources.close();
            LOG.info("api stopped");
        }
    }

    @Override
    public String toString() {
        return "ApiServer[https://127.0.0.1:" + port() + "]";
    }
}
