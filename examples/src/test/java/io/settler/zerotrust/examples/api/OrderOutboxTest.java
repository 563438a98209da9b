package io.settler.zerotrust.examples.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.examples.Deployment;
import io.settler.zerotrust.examples.LocalZone;
import io.settler.zerotrust.examples.webhook.WebhookReceiver;
import io.settler.zerotrust.examples.webhook.WebhookService;
import io.settler.zerotrust.examples.worker.JobWorker;
import io.settler.zerotrust.netty.MtlsHttpClient;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 item 8, against the whole chain on a real {@link LocalZone}: gateway → api (outbox) →
 * Redis queue → worker → webhook → receiver. No order is lost when the queue fails after the
 * order committed, a retry with the same idempotency key creates no second order, and a job
 * published twice is handled once.
 *
 * <p>Every job the api ever published stays on its stream: a consumer group of the test's that
 * never reads ({@value #WITNESS}) keeps the worker's acknowledged entries from being trimmed.
 */
class OrderOutboxTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String WITNESS = "test-witness";
    private static final String STREAM = RedisAcl.streamKey(LocalZone.QUEUE, ApiServer.SERVICE);

    @TempDir
    static Path directory;
    static LocalZone zone;
    static WebhookReceiver receiver;
    static WebhookService webhook;
    static JobWorker worker;
    static ApiServer api;
    static Deployment deployment;
    static ServiceTokens gateway;
    static FileCredentialSource gatewayCredentials;
    static MtlsHttpClient asGateway;

    @BeforeAll
    static void start() {
        zone = LocalZone.start(directory, line -> { });
        zone.redis().executeAsAdmin("XGROUP", "CREATE", STREAM, WITNESS, "0");
        receiver = WebhookReceiver.start(zone.deployment());
        deployment = zone.deployment().withEndpoint("receiver.url", receiver.url());
        webhook = WebhookService.start(deployment);
        deployment = deployment.withEndpoint("webhook.port", Integer.toString(webhook.port()));
        worker = JobWorker.start(deployment);
        api = ApiServer.start(deployment);
        gateway = ServiceTokens.builder().identity(deployment.identity("gateway"))
                .keys(deployment.newTokenKeys("gateway")).policy(deployment.policy()).build();
        gatewayCredentials = deployment.credentials("gateway");
        asGateway = MtlsHttpClient.builder(NettyMtls.builder(MtlsContext.client(gatewayCredentials)
                .expectedServer(deployment.identity(ApiServer.SERVICE)).build()).build()).build();
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable running : new AutoCloseable[] {asGateway, gatewayCredentials, api, worker, webhook, receiver,
                zone}) {
            if (running != null) {
                running.close();
            }
        }
    }

    @Test
    void queueDownWhenAnOrderCommitsLosesNoOrderAndPublishesItsJobOnceItIsBack() throws Exception {
        String key = UUID.randomUUID().toString();
        zone.redis().executeAsAdmin("ACL", "SETUSER", "api", "off");      // the api can no longer reach the queue
        zone.redis().executeAsAdmin("CLIENT", "KILL", "USER", "api");
        MtlsHttpClient.Response created;
        MtlsHttpClient.Response retried;
        try {
            created = post("tenant-down", key, "{\"item\":\"while Redis is down\"}");
            retried = post("tenant-down", key, "{\"item\":\"while Redis is down\"}"); // the caller's retry

            assertThat(created.status()).as(created.bodyText()).isEqualTo(201);
            Thread.sleep(1_500); // the relay tries (and fails) at least once more
            assertThat(jobsOnStreamFor(id(created))).as("no job while the queue is down").isZero();
            assertThat(sql("select count(*) from outbox where published_at is null and order_id = " + id(created)))
                    .as("the job waits in the outbox").isEqualTo("1");
        } finally {
            zone.redis().executeAsAdmin("ACL", "SETUSER", "api", "on");
        }
        long id = id(created);

        assertThat(retried.status()).isEqualTo(201);
        assertThat(id(retried)).as("the retry gets the first order").isEqualTo(id);
        await(() -> deliveriesOf(id) == 1, "the order's webhook once the queue is back");
        assertThat(sql("select count(*) from orders where tenant_id = 'tenant-down'")).as("orders").isEqualTo("1");
        assertThat(sql("select count(*) from outbox where published_at is not null and order_id = " + id))
                .isEqualTo("1");
        assertThat(sql("select tenant_id || '|' || result from job_results where order_id = " + id))
                .isEqualTo("tenant-down|processed");
        Thread.sleep(1_500); // another relay pass: nothing more to publish
        assertThat(jobsOnStreamFor(id)).as("jobs published for the order").isEqualTo(1);
        assertThat(deliveriesOf(id)).isEqualTo(1);
    }

    @Test
    void aRetryWithTheSameIdempotencyKeyCreatesNoSecondOrder() throws Exception {
        String key = UUID.randomUUID().toString();
        String body = "{\"item\":\"exactly one\"}";

        // The first request and four retries racing it: the unique constraint lets one insert.
        List<CompletableFuture<MtlsHttpClient.Response>> racing = IntStream.range(0, 5)
                .mapToObj(i -> send(HttpMethod.POST, "/orders", body, token("tenant-retry", ApiServer.WRITE_SCOPE),
                        Map.of(OrderRequests.IDEMPOTENCY_KEY, key)))
                .toList();
        List<MtlsHttpClient.Response> responses = racing.stream().map(CompletableFuture::join).toList();
        MtlsHttpClient.Response later = post("tenant-retry", key, "{ \"item\" : \"exactly one\" }"); // same JSON

        assertThat(responses).allSatisfy(response -> assertThat(response.status()).isEqualTo(201));
        long id = id(responses.get(0));
        assertThat(responses).allSatisfy(response -> assertThat(id(response)).isEqualTo(id));
        assertThat(responses.stream().filter(response -> response.headers().contains(OrderRequests.REPLAYED)))
                .as("answered with the first order").hasSize(4);
        assertThat(later.status()).isEqualTo(201);
        assertThat(id(later)).isEqualTo(id);
        assertThat(later.headers().get(OrderRequests.REPLAYED)).isEqualTo("true");
        assertThat(sql("select count(*) from orders where tenant_id = 'tenant-retry'")).isEqualTo("1");
        assertThat(sql("select count(*) from outbox where tenant_id = 'tenant-retry'")).isEqualTo("1");
        await(() -> deliveriesOf(id) == 1, "the order's webhook");
        assertThat(jobsOnStreamFor(id)).isEqualTo(1);
    }

    @Test
    void theSameIdempotencyKeyWithAnotherItemIsA422AndCreatesNothing() throws Exception {
        String key = UUID.randomUUID().toString();
        long id = id(post("tenant-reuse", key, "{\"item\":\"first\"}"));

        MtlsHttpClient.Response reused = post("tenant-reuse", key, "{\"item\":\"second\"}");

        assertThat(reused.status()).isEqualTo(422);
        assertThat(reused.bodyText()).contains(OrderRequests.IDEMPOTENCY_KEY).doesNotContain("first");
        assertThat(sql("select string_agg(id || ' ' || item, ',') from orders where tenant_id = 'tenant-reuse'"))
                .isEqualTo(id + " first");
    }

    @Test
    void anIdempotencyKeyIsScopedToItsTenant() throws Exception {
        String key = UUID.randomUUID().toString();

        long ours = id(post("tenant-k1", key, "{\"item\":\"same\"}"));
        MtlsHttpClient.Response theirs = post("tenant-k2", key, "{\"item\":\"same\"}");

        assertThat(theirs.status()).isEqualTo(201);
        assertThat(theirs.headers().contains(OrderRequests.REPLAYED)).isFalse();
        assertThat(id(theirs)).as("another tenant's key never answers with our order").isNotEqualTo(ours);
    }

    @Test
    void refusesABadIdempotencyKeyWith400() throws Exception {
        for (String key : List.of("", "with space", "x".repeat(OrderRequests.MAX_KEY_LENGTH + 1), "caf\u00e9")) {
            MtlsHttpClient.Response response = post("tenant-bad-key", key, "{\"item\":\"x\"}");

            assertThat(response.status()).as(key).isEqualTo(400);
        }
        assertThat(sql("select count(*) from orders where tenant_id = 'tenant-bad-key'")).isEqualTo("0");
    }

    @Test
    void theRelayFailingBetweenPublishAndMarkRepublishesAndTheWorkerHandlesTheOrderOnce() throws Exception {
        // The relay publishes, then its transaction dies before it records the publish: what a crash
        // of the api between XADD and COMMIT leaves behind, made here by the server refusing the mark.
        sql("create function refuse_mark() returns trigger language plpgsql as"
                + " $$ begin raise exception 'the relay crashed'; end $$;"
                + " create trigger refuse_mark before update on outbox for each row execute function refuse_mark()");
        long id;
        try {
            id = id(post("tenant-crash", UUID.randomUUID().toString(), "{\"item\":\"published twice\"}"));
            await(() -> jobsOnStreamFor(id) >= 2, "the job published again after the failed mark");
        } finally {
            sql("drop trigger refuse_mark on outbox; drop function refuse_mark()");
        }
        await(() -> sql("select count(*) from outbox where published_at is not null and order_id = " + id).equals("1"),
                "the relay records the publish once it can");
        // One more order behind the copies: once the worker handled it, it has seen every copy.
        long after = id(post("tenant-crash", UUID.randomUUID().toString(), "{\"item\":\"after\"}"));
        await(() -> deliveriesOf(after) == 1, "the next order's webhook");

        assertThat(deliveriesOf(id)).as("webhooks for the order published " + jobsOnStreamFor(id) + " times")
                .isEqualTo(1);
        assertThat(sql("select count(*) from job_results where order_id = " + id)).isEqualTo("1");
    }

    private static MtlsHttpClient.Response post(String tenant, String idempotencyKey, String body) {
        return send(HttpMethod.POST, "/orders", body, token(tenant, ApiServer.WRITE_SCOPE),
                Map.of(OrderRequests.IDEMPOTENCY_KEY, idempotencyKey)).join();
    }

    private static CompletableFuture<MtlsHttpClient.Response> send(HttpMethod method, String path, String body,
                                                                   String token, Map<String, String> headers) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        request.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .set(HttpHeaderNames.AUTHORIZATION, "Bearer " + token);
        headers.forEach(request.headers()::set);
        return asGateway.send("127.0.0.1", api.port(), request).orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    /** A gateway token for the api, for the end user's tenant. */
    private static String token(String tenant, String... scopes) {
        return gateway.mint(TokenRequest.to(deployment.identity(ApiServer.SERVICE))
                .scopes(scopes).claim(ApiServer.TENANT_CLAIM, tenant).build());
    }

    private static long id(MtlsHttpClient.Response created) {
        try {
            JsonNode body = JSON.readTree(created.body());
            assertThat(body.path("id").isIntegralNumber()).as(created.bodyText()).isTrue();
            return body.path("id").asLong();
        } catch (java.io.IOException e) {
            throw new AssertionError(created.bodyText(), e);
        }
    }

    /** Runs SQL as the superuser (no row-level security); returns its output. */
    private static String sql(String statements) {
        return zone.postgres().executeAsSuperuser(LocalZone.DATABASE, statements).strip();
    }

    /** How many jobs for the order the api's stream holds: every publish of it. */
    private static long jobsOnStreamFor(long orderId) {
        // One line each: an entry ID, then field, value, field, value, ...
        List<String> lines = zone.redis().executeAsAdmin("XRANGE", STREAM, "-", "+").lines().toList();
        long jobs = 0;
        for (int i = 0; i + 1 < lines.size(); i++) {
            if (lines.get(i).equals("pld")) {
                byte[] payload = Base64.getUrlDecoder().decode(lines.get(i + 1));
                JsonNode job = parse(new String(payload, StandardCharsets.UTF_8));
                jobs += job.path("orderId").asLong() == orderId ? 1 : 0;
            }
        }
        return jobs;
    }

    private static long deliveriesOf(long orderId) {
        return receiver.deliveries().stream().map(OrderOutboxTest::parse)
                .filter(json -> json.path("orderId").asLong() == orderId).count();
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Instant deadline = Instant.now().plus(WAIT);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("within " + WAIT + ": " + what);
            }
            Thread.sleep(50);
        }
    }
}
