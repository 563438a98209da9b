package io.settler.zerotrust.examples.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.settler.zerotrust.examples.ExampleAudit;
import io.settler.zerotrust.examples.LocalZone;
import io.settler.zerotrust.netty.MtlsHttpClient;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.queue.Envelope;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.VerifiedMessage;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.InMemoryReplayGuard;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRequest;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API server wired to a real Zone 2 ({@link LocalZone}: TLS PostgreSQL and Redis configured
 * from the policy), called over mTLS as the gateway with tokens the gateway mints.
 */
class ApiServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path directory;
    static LocalZone zone;
    static Deployment deployment;
    static final RecordingAuditLog audit = RecordingAuditLog.logging();
    static ApiServer api;
    static ServiceTokens gateway;
    static FileCredentialSource gatewayCredentials;
    static MtlsHttpClient asGateway;

    @BeforeAll
    static void start() {
        zone = LocalZone.start(directory, line -> { });
        deployment = zone.deployment().withAuditLog(audit);
        api = ApiServer.start(deployment);
        gateway = ServiceTokens.builder()
                .identity(deployment.identity("gateway"))
                .keys(deployment.newTokenKeys("gateway"))
                .policy(deployment.policy())
                .build();
        gatewayCredentials = deployment.credentials("gateway");
        asGateway = client(gatewayCredentials);
    }

    @AfterAll
    static void stop() {
        try {
            asGateway.close();
            gatewayCredentials.close();
            api.close();
            api.close(); // idempotent
        } finally {
            zone.close();
        }
    }

    @Test
    void theGatewayCreatesAnOrderAndReadsItBack() throws Exception {
        long id = createOrder("tenant-a", "a book");

        MtlsHttpClient.Response read = call(asGateway, HttpMethod.GET, "/orders/" + id, null,
                token("tenant-a", ApiServer.READ_SCOPE));

        assertThat(read.status()).isEqualTo(200);
        assertThat(json(read))
                .isEqualTo(JSON.readTree("{\"id\":" + id + ",\"item\":\"a book\",\"status\":\"queued\"}"));
        assertThat(zone.postgres().executeAsSuperuser(LocalZone.DATABASE,
                "select tenant_id || ' ' || item from orders where id = " + id).strip()).isEqualTo("tenant-a a book");
    }

    @Test
    void anOrderWithAJobResultIsDone() throws Exception {
        long id = createOrder("tenant-f", "to be processed");
        // What the worker writes when it has handled the job.
        zone.postgres().executeAsSuperuser(LocalZone.DATABASE,
                "insert into job_results (order_id, tenant_id, result) values (" + id + ", 'tenant-f', 'ok')");

        MtlsHttpClient.Response read = call(asGateway, HttpMethod.GET, "/orders/" + id, null,
                token("tenant-f", ApiServer.READ_SCOPE));

        assertThat(read.status()).isEqualTo(200);
        assertThat(json(read).path("status").asText()).isEqualTo("done");
    }

    @Test
    void anotherTenantsTokenDoesNotSeeTheOrder() throws Exception {
        long id = createOrder("tenant-a", "private");

        MtlsHttpClient.Response other = call(asGateway, HttpMethod.GET, "/orders/" + id, null,
                token("tenant-b", ApiServer.READ_SCOPE));

        assertThat(other.status()).isEqualTo(404);
        assertThat(other.bodyText()).doesNotContain("private");
        assertThat(call(asGateway, HttpMethod.GET, "/orders/" + id, null, token("tenant-a", ApiServer.READ_SCOPE))
                .status()).as("the owner still sees it").isEqualTo(200);
    }

    @Test
    void theOrderIsCachedUnderTheApisNamespace() throws Exception {
        long id = createOrder("tenant-c", "cached");

        String key = "api:order:" + id;
        await(() -> zone.redis().executeAsAdmin("EXISTS", key).equals("1"), "the order is cached"); // after the 201
        assertThat(JSON.readTree(zone.redis().executeAsAdmin("GET", key)))
                .isEqualTo(JSON.readTree("{\"id\":" + id + ",\"item\":\"cached\",\"tenant\":\"tenant-c\"}"));
        assertThat(Long.parseLong(zone.redis().executeAsAdmin("TTL", key))).isPositive();
    }

    @Test
    void theJobIsASignedEnvelopeOnTheApisOwnStream() throws Exception {
        String stream = RedisAcl.streamKey(LocalZone.QUEUE, ApiServer.SERVICE);
        long before = Long.parseLong(zone.redis().executeAsAdmin("XLEN", stream));

        long id = createOrder("tenant-d", "queued work");

        // The outbox relay publishes it right after the order's transaction commits.
        await(() -> Long.parseLong(zone.redis().executeAsAdmin("XLEN", stream)) == before + 1, "the job is published");
        Envelope envelope = Envelope.fromFields(newestEntry(stream));
        // Verified as a worker would: the queue's audience, the keys the api published, the policy.
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
    }

    @Test
    void refusesARequestWithoutATokenWith401() throws Exception {
        MtlsHttpClient.Response response = call(asGateway, HttpMethod.POST, "/orders", "{\"item\":\"x\"}", null);

        assertThat(response.status()).isEqualTo(401);
        assertThat(audit.withAction("request.refused")).anySatisfy(event ->
                assertThat(event.fields()).containsEntry("reason", "MISSING_TOKEN"));
    }

    @Test
    void refusesAReadTokenThatPostsWith403() throws Exception {
        MtlsHttpClient.Response response = call(asGateway, HttpMethod.POST, "/orders", "{\"item\":\"x\"}",
                token("tenant-a", ApiServer.READ_SCOPE));

        assertThat(response.status()).isEqualTo(403);
        assertThat(audit.withAction("request.refused")).anySatisfy(event ->
                assertThat(event.fields()).containsEntry("reason", "INSUFFICIENT_SCOPE"));
    }

    @Test
    void refusesATokenWithoutATenantWith403() throws Exception {
        String noTenant = gateway.mint(TokenRequest.to(deployment.identity(ApiServer.SERVICE))
                .scopes(ApiServer.WRITE_SCOPE).build());

        MtlsHttpClient.Response response = call(asGateway, HttpMethod.POST, "/orders", "{\"item\":\"x\"}", noTenant);

        assertThat(response.status()).isEqualTo(403);
        assertThat(audit.withAction(ExampleAudit.TENANT_REFUSED)).anySatisfy(event ->
                assertThat(event.fields()).containsEntry("reason", "MISSING_TENANT")
                        .containsEntry("peer", deployment.identity("gateway").toString())
                        .containsEntry("method", "POST").containsEntry("status", "403"));
    }

    @Test
    void refusesATenantTheDatabaseCannotScopeWith403() throws Exception {
        String tooLong = "t".repeat(201); // TenantScope takes at most 200 characters

        MtlsHttpClient.Response response = call(asGateway, HttpMethod.POST, "/orders", "{\"item\":\"x\"}",
                token(tooLong, ApiServer.WRITE_SCOPE));

        assertThat(response.status()).isEqualTo(403);
        assertThat(audit.withAction(ExampleAudit.TENANT_REFUSED)).anySatisfy(event ->
                assertThat(event.fields()).containsEntry("reason", "INVALID_TENANT").containsEntry("path", "/orders"));
    }

    @Test
    void refusesAnotherServicesCertificateInTheHandshake() {
        try (FileCredentialSource worker = deployment.credentials("worker");
             MtlsHttpClient asWorker = client(worker)) {
            String validGatewayToken = token("tenant-a", ApiServer.WRITE_SCOPE);

            assertThatThrownBy(() -> call(asWorker, HttpMethod.POST, "/orders", "{\"item\":\"x\"}", validGatewayToken))
                    .isInstanceOf(ExecutionException.class);
        }
        assertThat(audit.withAction("peer.refused")).anySatisfy(event -> {
            assertThat(event.fields()).containsEntry("role", "client").containsEntry("reason", "NOT_AUTHORIZED");
            assertThat(event.fields().get("detail")).contains(deployment.identity("worker"));
        });
    }

    @Test
    void refusesBadJsonWith400() throws Exception {
        List<String> bodies = List.of("", "not json", "[]", "{\"item\":1}", "{\"item\":\"\"}", "{\"thing\":\"x\"}",
                "{\"item\":\"x\",\"more\":1}", "{\"item\":\"x\",\"item\":\"y\"}", "{\"item\":\"x\"} trailing",
                "{\"item\":\"" + "x".repeat(OrderRequests.MAX_ITEM_LENGTH + 1) + "\"}");
        for (String body : bodies) {
            MtlsHttpClient.Response response = call(asGateway, HttpMethod.POST, "/orders", body,
                    token("tenant-a", ApiServer.WRITE_SCOPE));

            assertThat(response.status()).as(body).isEqualTo(400);
            assertThat(json(response).path("error").isTextual()).as(body).isTrue();
            assertThat(response.bodyText()).as(body).doesNotContain("Exception", "at io.");
        }
    }

    @Test
    void refusesABadOrderIdWith400() throws Exception {
        for (String id : List.of("abc", "0", "-1", "1.5", "12345678901234567890", "1%20")) {
            MtlsHttpClient.Response response = call(asGateway, HttpMethod.GET, "/orders/" + id, null,
                    token("tenant-a", ApiServer.READ_SCOPE));

            assertThat(response.status()).as(id).isEqualTo(400);
        }
    }

    @Test
    void answersAnUnknownOrderWith404() throws Exception {
        MtlsHttpClient.Response response = call(asGateway, HttpMethod.GET, "/orders/" + Long.MAX_VALUE / 1000, null,
                token("tenant-a", ApiServer.READ_SCOPE));

        assertThat(response.status()).isEqualTo(404);
    }

    @Test
    void answersPipelinedRequestsInOrder() throws Exception {
        String slow = "POST /orders HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer "
                + token("tenant-e", ApiServer.WRITE_SCOPE)
                + "\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"item\":\"slow\"}";
        String fast = "GET /orders/not-an-id HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer "
                + token("tenant-e", ApiServer.READ_SCOPE) + "\r\nConnection: close\r\n\r\n";
        String responses;
        try (SSLSocket socket = (SSLSocket) MtlsContext.client(gatewayCredentials)
                .expectedServer(deployment.identity(ApiServer.SERVICE)).build()
                .socketFactory().createSocket("127.0.0.1", api.port())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write((slow + fast).getBytes(StandardCharsets.UTF_8)); // one write: pipelined
            socket.getOutputStream().flush();
            responses = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }

        assertThat(responses).contains("HTTP/1.1 201 ", "HTTP/1.1 400 ");
        assertThat(responses.indexOf("HTTP/1.1 201 ")).isLessThan(responses.indexOf("HTTP/1.1 400 "));
    }

    @Test
    void listensOnTheConfiguredPortOrAFreeOne() {
        assertThat(deployment.listenPort(ApiServer.SERVICE)).as("api.port missing").isZero();
        assertThat(deployment.withEndpoint(ApiServer.PORT_ENDPOINT, "8443").listenPort(ApiServer.SERVICE))
                .isEqualTo(8443);
        assertThatThrownBy(
                () -> deployment.withEndpoint(ApiServer.PORT_ENDPOINT, "https").listenPort(ApiServer.SERVICE))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("api.port")
                .hasMessageContaining("https");
    }

    @Test
    void aStartThatFailsStopsWhatItStarted(@TempDir Path copy) throws Exception {
        // A copy of the deployment, so the failed start's published keys do not replace the running api's.
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Files.copy(file, copy.resolve(file.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        String apiConnections = "select count(*) from pg_stat_activity where usename = 'api'";
        String postgresBefore = zone.postgres().executeAsSuperuser(LocalZone.DATABASE, apiConnections).strip();
        long redisBefore = redisConnectionsOfApi();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Deployment portTaken = Deployment.at(copy).withAuditLog(deployment.auditLog())
                    .withEndpoint(ApiServer.PORT_ENDPOINT, Integer.toString(taken.getLocalPort()));

            assertThatThrownBy(() -> ApiServer.start(portTaken))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("cannot listen on 127.0.0.1:" + taken.getLocalPort());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((!zone.postgres().executeAsSuperuser(LocalZone.DATABASE, apiConnections).strip().equals(postgresBefore)
                || redisConnectionsOfApi() != redisBefore) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(zone.postgres().executeAsSuperuser(LocalZone.DATABASE, apiConnections).strip())
                .as("PostgreSQL connections of role api").isEqualTo(postgresBefore);
        assertThat(redisConnectionsOfApi()).as("Redis connections of user api").isEqualTo(redisBefore);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("within 10 s: " + what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /** Creates an order as the gateway for {@code tenant}; returns its id. */
    private static long createOrder(String tenant, String item) throws Exception {
        MtlsHttpClient.Response created = call(asGateway, HttpMethod.POST, "/orders",
                JSON.writeValueAsString(Map.of("item", item)), token(tenant, ApiServer.WRITE_SCOPE));
        assertThat(created.status()).as(created.bodyText()).isEqualTo(201);
        assertThat(json(created).size()).isEqualTo(1);
        return json(created).path("id").asLong();
    }

    /** A gateway token for the api, for the end user's tenant. */
    private static String token(String tenant, String... scopes) {
        return gateway.mint(TokenRequest.to(deployment.identity(ApiServer.SERVICE))
                .scopes(scopes).claim(ApiServer.TENANT_CLAIM, tenant).build());
    }

    /** A client presenting {@code credentials}' certificate that insists on the api's identity. */
    private static MtlsHttpClient client(FileCredentialSource credentials) {
        return MtlsHttpClient.builder(NettyMtls.builder(MtlsContext.client(credentials)
                .expectedServer(deployment.identity(ApiServer.SERVICE)).build()).build()).build();
    }

    private static MtlsHttpClient.Response call(MtlsHttpClient client, HttpMethod method, String path, String body,
                                                String token) throws Exception {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path,
                body == null ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        if (body != null) {
            request.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        }
        if (token != null) {
            request.headers().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + token);
        }
        return client.send("127.0.0.1", api.port(), request).get(20, TimeUnit.SECONDS);
    }

    private static JsonNode json(MtlsHttpClient.Response response) throws Exception {
        assertThat(response.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/json");
        return JSON.readTree(response.body());
    }

    private static long redisConnectionsOfApi() {
        return zone.redis().executeAsAdmin("CLIENT", "LIST").lines()
                .filter(line -> line.contains(" user=api ")).count();
    }

    /** The fields of the newest entry of {@code stream}, read as the Redis administrator. */
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
