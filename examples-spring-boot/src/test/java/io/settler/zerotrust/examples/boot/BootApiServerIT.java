package io.settler.zerotrust.examples.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.examples.Deployment;
import io.settler.zerotrust.examples.LocalZone;
import io.settler.zerotrust.examples.api.ApiServer;
import io.settler.zerotrust.examples.webhook.WebhookReceiver;
import io.settler.zerotrust.examples.webhook.WebhookService;
import io.settler.zerotrust.examples.worker.JobWorker;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.queue.Envelope;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.VerifiedMessage;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.InMemoryReplayGuard;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The Spring Boot api ({@link BootApiServer}) started from its {@code zerotrust.*} properties on the examples'
 * Zone 2 ({@link LocalZone}: TLS PostgreSQL and Redis configured from the same {@code policy.json}), called
 * from outside over real mutual TLS as the gateway, with tokens the gateway mints; its jobs handled by the
 * hand-wired {@link JobWorker}.
 */
class BootApiServerIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path directory;
    static LocalZone zone;
    static Deployment deployment;
    static ServiceTokens gateway;
    static FileCredentialSource gatewayCredentials;
    static HttpClient asGateway;
    static ConfigurableApplicationContext app;
    static int port;
    static RecordingAuditLog audit;

    /** The audit log the starter uses instead of its own (it backs off): recorded, and logged. */
    @Configuration(proxyBeanMethods = false)
    static class RecordAudit {
        @Bean
        RecordingAuditLog auditLog() {
            return RecordingAuditLog.logging();
        }
    }

    @BeforeAll
    static void start() {
        zone = LocalZone.start(directory, line -> { });
        deployment = zone.deployment();
        // The gateway publishes its token keys (jwks/gateway.json, zerotrust.tokens.issuers.gateway.jwks) first.
        gateway = ServiceTokens.builder()
                .identity(deployment.identity("gateway"))
                .keys(deployment.newTokenKeys("gateway"))
                .policy(deployment.policy())
                .build();
        app = new SpringApplication(BootApiServer.class, RecordAudit.class)
                .run("--" + BootApiServer.DEPLOYMENT_PROPERTY + "=" + directory);
        audit = app.getBean(RecordingAuditLog.class);
        port = ((WebServerApplicationContext) app).getWebServer().getPort();
        gatewayCredentials = deployment.credentials("gateway");
        asGateway = client(gatewayCredentials);
    }

    @AfterAll
    static void stop() {
        try {
            if (app != null) {
                app.close();
            }
            if (gatewayCredentials != null) {
                gatewayCredentials.close();
            }
        } finally {
            if (zone != null) {
                zone.close();
            }
        }
    }

    @Test
    void anOrderIsVisibleToItsTenantOnly() throws Exception {
        long id = createOrder("tenant-a", "a book");

        HttpResponse<String> own = send(asGateway, "GET", "/orders/" + id, null, token("tenant-a",
                ApiServer.READ_SCOPE));
        assertThat(own.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(own.body()))
                .isEqualTo(JSON.readTree("{\"id\":" + id + ",\"item\":\"a book\",\"status\":\"queued\"}"));

        HttpResponse<String> other = send(asGateway, "GET", "/orders/" + id, null, token("tenant-b",
                ApiServer.READ_SCOPE));
        assertThat(other.statusCode()).as("row-level security hides another tenant's order").isEqualTo(404);
        assertThat(other.body()).doesNotContain("a book");
        assertThat(zone.postgres().executeAsSuperuser(LocalZone.DATABASE,
                "select tenant_id || ' ' || item from orders where id = " + id).strip()).isEqualTo("tenant-a a book");
    }

    @Test
    void theJobIsASignedEnvelopeOnTheApisOwnStreamThatAWorkerVerifies() throws Exception {
        String stream = RedisAcl.streamKey(LocalZone.QUEUE, ApiServer.SERVICE);
        long before = Long.parseLong(zone.redis().executeAsAdmin("XLEN", stream));

        long id = createOrder("tenant-d", "queued work");

        // The examples' outbox relay publishes it with the starter's QueuePublisher after the order commits.
        await(() -> Long.parseLong(zone.redis().executeAsAdmin("XLEN", stream)) == before + 1, "the job is published");
        Envelope envelope = Envelope.fromFields(newestEntry(stream));
        // Verified as the example job worker does: the queue's audience, the keys the api published, the policy.
        EnvelopeVerifier verifier = EnvelopeVerifier.builder(ServiceTokens.builder()
                        .identity("spiffe://" + deployment.policy().trustDomain() + "/queue/" + LocalZone.QUEUE)
                        .verificationKeys(deployment.publishedKeysOf(ApiServer.SERVICE))
                        .trustIssuers(deployment.identity(ApiServer.SERVICE))
                        .build(), LocalZone.QUEUE)
                .policy(deployment.policy()).replayGuard(InMemoryReplayGuard.create(10)).build();
        VerifiedMessage message = verifier.verify(envelope);
        assertThat(message.publisherService()).isEqualTo(ApiServer.SERVICE);
        assertThat(JSON.readTree(message.payload()))
                .isEqualTo(JSON.readTree("{\"tenant\":\"tenant-d\",\"orderId\":" + id + ",\"item\":\"queued work\"}"));
        assertThat(zone.redis().executeAsAdmin("XINFO", "GROUPS", stream)).as("the workers' group reads it")
                .contains(LocalZone.GROUP);
    }

    @Test
    void theExampleJobWorkerHandlesTheJobAndTheOrderIsDone() throws Exception {
        long id = createOrder("tenant-w", "for the worker");

        // The hand-wired worker, webhook service and receiver, on the same deployment: the worker verifies the
        // job with the keys the Boot api published (jwks/api.json), records the result under RLS as role
        // worker, and calls the webhook service. Started here only, so no other test races its stream trims.
        try (WebhookReceiver receiver = WebhookReceiver.start(deployment)) {
            Deployment withReceiver = deployment.withEndpoint("receiver.url", receiver.url());
            try (WebhookService webhook = WebhookService.start(withReceiver);
                 JobWorker worker = JobWorker.start(
                         withReceiver.withEndpoint("webhook.port", Integer.toString(webhook.port())))) {
                await(() -> status("tenant-w", id).equals("done"), "the worker handled the job");
                assertThat(worker.handled()).isPositive();
            }
        }
        assertThat(zone.postgres().executeAsSuperuser(LocalZone.DATABASE,
                "select tenant_id || ' ' || result from job_results where order_id = " + id).strip())
                .isEqualTo("tenant-w processed");
    }

    @Test
    void theOrderIsCachedUnderTheApisNamespace() throws Exception {
        long id = createOrder("tenant-c", "cached");

        String key = "api:order:" + id;
        await(() -> zone.redis().executeAsAdmin("EXISTS", key).equals("1"), "the order is cached");
        assertThat(JSON.readTree(zone.redis().executeAsAdmin("GET", key)))
                .isEqualTo(JSON.readTree("{\"id\":" + id + ",\"item\":\"cached\",\"tenant\":\"tenant-c\"}"));
    }

    @Test
    void aRetryWithTheSameIdempotencyKeyGetsTheFirstOrder() throws Exception {
        String write = token("tenant-e", ApiServer.WRITE_SCOPE);
        HttpResponse<String> first = send(asGateway, "POST", "/orders", "{\"item\":\"once\"}", write, "key-1");
        HttpResponse<String> retry = send(asGateway, "POST", "/orders", "{\"item\":\"once\"}", write, "key-1");
        HttpResponse<String> reused = send(asGateway, "POST", "/orders", "{\"item\":\"other\"}", write, "key-1");

        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(retry.statusCode()).isEqualTo(201);
        assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(JSON.readTree(retry.body())).isEqualTo(JSON.readTree(first.body()));
        assertThat(reused.statusCode()).isEqualTo(422);
    }

    @Test
    void refusesARequestWithoutATokenWith401() throws Exception {
        HttpResponse<String> response = send(asGateway, "POST", "/orders", "{\"item\":\"x\"}", null);

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(value ->
                assertThat(value).startsWith("Bearer"));
    }

    @Test
    void refusesInsufficientScopesWith403() throws Exception {
        HttpResponse<String> post = send(asGateway, "POST", "/orders", "{\"item\":\"x\"}",
                token("tenant-a", ApiServer.READ_SCOPE));
        HttpResponse<String> get = send(asGateway, "GET", "/orders/1", null, token("tenant-a", ApiServer.WRITE_SCOPE));

        assertThat(post.statusCode()).isEqualTo(403);
        assertThat(get.statusCode()).isEqualTo(403);
        assertThat(zone.postgres().executeAsSuperuser(LocalZone.DATABASE,
                "select count(*) from orders where item = 'x'").strip()).isEqualTo("0");
    }

    @Test
    void refusesATokenWithoutATenantWith403() throws Exception {
        String noTenant = gateway.mint(TokenRequest.to(deployment.identity(ApiServer.SERVICE))
                .scopes(ApiServer.WRITE_SCOPE).build());

        HttpResponse<String> response = send(asGateway, "POST", "/orders", "{\"item\":\"untenanted\"}", noTenant);

        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(response.body()).isEmpty();
        assertThat(audit.withAction("spring.tenant.refused")).anySatisfy(event ->
                assertThat(event.fields()).containsEntry("reason", "NO_TENANT_CLAIM"));
    }

    @Test
    void refusesATenantTheDatabaseCannotScopeWith403() throws Exception {
        String tooLong = "t".repeat(201); // TenantScope takes at most 200 characters

        HttpResponse<String> response = send(asGateway, "POST", "/orders", "{\"item\":\"too long\"}",
                token(tooLong, ApiServer.WRITE_SCOPE));

        assertThat(response.statusCode()).isEqualTo(403);
    }

    @Test
    void refusesBadRequestsWith400() throws Exception {
        for (String body : List.of("", "not json", "[]", "{\"item\":1}", "{\"item\":\"\"}",
                "{\"item\":\"x\",\"item\":\"y\"}", "{\"item\":\"x\"} trailing")) {
            HttpResponse<String> response = send(asGateway, "POST", "/orders", body,
                    token("tenant-a", ApiServer.WRITE_SCOPE));
            assertThat(response.statusCode()).as(body).isEqualTo(400);
            assertThat(JSON.readTree(response.body()).path("error").isTextual()).as(body).isTrue();
        }
        assertThat(send(asGateway, "GET", "/orders/abc", null, token("tenant-a", ApiServer.READ_SCOPE))
                .statusCode()).isEqualTo(400);
    }

    @Test
    void refusesACertificateFromAnotherCaInTheHandshake() {
        DevCertificateAuthority other = DevCertificateAuthority.create(deployment.policy().trustDomain().toString());
        IssuedCertificate impostor = other.leaf("gateway").client().issue();
        HttpClient asImpostor = client(CredentialSource.fixed(TlsIdentity.of(impostor.privateKey(), impostor.chain()),
                TrustBundle.of(List.of(zone.certificateAuthority().rootCertificate()))));
        String validGatewayToken = token("tenant-a", ApiServer.WRITE_SCOPE);

        assertThatThrownBy(() -> send(asImpostor, "POST", "/orders", "{\"item\":\"impostor\"}", validGatewayToken))
                .isInstanceOf(IOException.class);
        assertThat(audit.withAction("peer.refused")).anySatisfy(event ->
                assertThat(event.fields()).containsEntry("role", "client").containsEntry("reason", "BAD_SIGNATURE"));
        assertThat(zone.postgres().executeAsSuperuser(LocalZone.DATABASE,
                "select count(*) from orders where item = 'impostor'").strip()).isEqualTo("0");
    }

    @Test
    void refusesAServiceThePolicyDoesNotLetCallTheApiInTheHandshake() {
        try (FileCredentialSource worker = deployment.credentials("worker")) {
            String validGatewayToken = token("tenant-a", ApiServer.WRITE_SCOPE);

            assertThatThrownBy(() -> send(client(worker), "POST", "/orders", "{\"item\":\"x\"}", validGatewayToken))
                    .isInstanceOf(IOException.class);
        }
        assertThat(audit.withAction("peer.refused")).anySatisfy(event -> {
            assertThat(event.fields()).containsEntry("role", "client").containsEntry("reason", "NOT_AUTHORIZED");
            assertThat(event.fields().get("detail")).contains(deployment.identity("worker"));
        });
    }

    private static long createOrder(String tenant, String item) throws Exception {
        HttpResponse<String> created = send(asGateway, "POST", "/orders", "{\"item\":\"" + item + "\"}",
                token(tenant, ApiServer.WRITE_SCOPE));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode id = JSON.readTree(created.body()).path("id");
        assertThat(id.isIntegralNumber()).as(created.body()).isTrue();
        return id.longValue();
    }

    /** The order's status as its tenant reads it through the Boot api. */
    private static String status(String tenant, long id) {
        try {
            HttpResponse<String> read = send(asGateway, "GET", "/orders/" + id, null,
                    token(tenant, ApiServer.READ_SCOPE));
            return JSON.readTree(read.body()).path("status").asText();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String token(String tenant, String scope) {
        return gateway.mint(TokenRequest.to(deployment.identity(ApiServer.SERVICE)).scopes(scope)
                .claim(ApiServer.TENANT_CLAIM, tenant).build());
    }

    /** A client presenting {@code credentials}'s certificate, requiring the api's identity of the server. */
    private static HttpClient client(CredentialSource credentials) {
        SSLContext tls = MtlsContext.client(credentials).expectedServer(deployment.identity(ApiServer.SERVICE))
                .build().sslContext();
        return HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build();
    }

    private static HttpResponse<String> send(HttpClient http, String method, String path, @Nullable String body,
                                             @Nullable String token) throws Exception {
        return send(http, method, path, body, token, null);
    }

    private static HttpResponse<String> send(HttpClient http, String method, String path, @Nullable String body,
                                             @Nullable String token, @Nullable String idempotencyKey)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (idempotencyKey != null) {
            request.header("Idempotency-Key", idempotencyKey);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("within 30 s: " + what).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static Map<String, String> newestEntry(String stream) {
        // One line each: the entry ID, then field, value, field, value, ...
        String[] lines = zone.redis().executeAsAdmin("XREVRANGE", stream, "+", "-", "COUNT", "1").split("\n");
        Map<String, String> fields = new HashMap<>();
        for (int i = 1; i + 1 < lines.length; i += 2) {
            fields.put(lines[i], lines[i + 1]);
        }
        return fields;
    }
}
