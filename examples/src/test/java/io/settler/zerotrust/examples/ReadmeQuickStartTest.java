package io.settler.zerotrust.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.api.StatefulRedisConnection;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.jdbc.TenantScope;
import io.settler.zerotrust.netty.BearerTokens;
import io.settler.zerotrust.netty.MtlsHttpClient;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.EnvelopeVerifier;
import io.settler.zerotrust.queue.QueueConsumer;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.queue.VerifiedMessage;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.KeyNamespace;
import io.settler.zerotrust.redis.PasswordSource;
import io.settler.zerotrust.redis.RedisReplayGuard;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenRequest;
import io.settler.zerotrust.token.TokenSource;
import io.settler.zerotrust.token.VerifiedToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The root README's quick start per module, run against the real servers of a {@link LocalZone}.
 * The code between {@code // README:<name>} and {@code // README:end} is what the README shows,
 * character for character after removing the common indentation ({@link #theReadmeShowsThisCode});
 * the server program is {@link QuickStartServer}, shown whole without its package line.
 */
class ReadmeQuickStartTest {

    private static final Pattern SNIPPET = Pattern.compile(
            "(?sm)^[ \\t]*// README:([\\w-]+)\\n(.*?)\\n[ \\t]*// README:end$");

    @TempDir
    static Path certs;
    static LocalZone zone;
    static int postgresPort;
    static int redisPort;

    @BeforeAll
    static void start() {
        zone = LocalZone.start(certs, line -> { });
        postgresPort = zone.postgres().port();
        redisPort = zone.redis().tlsPort();
    }

    @AfterAll
    static void stop() {
        zone.close();
    }

    @Test
    void serviceTokenQuickStart() {
        // README:service-token
        Policy policy = Policy.fromJson(certs.resolve("policy.json"));
        KeySet gatewayKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "gw-1")).build();
        ServiceTokens gateway = ServiceTokens.builder().identity("spiffe://demo.settler.test/gateway")
                .keys(gatewayKeys).policy(policy).build();          // may mint orders:read / orders:write only
        String token = gateway.mint(TokenRequest.to("spiffe://demo.settler.test/api")
                .scopes("orders:write").claim("tenant", "acme").build());
        ServiceTokens api = ServiceTokens.builder().identity("spiffe://demo.settler.test/api") // the audience
                .verificationKeys(KeySet.fromJwks(gatewayKeys.toJwks()).pinnedTo("spiffe://demo.settler.test/gateway"))
                .trustIssuers("spiffe://demo.settler.test/gateway").build();
        VerifiedToken verified = api.verify(token, "orders:write"); // else TokenRejectedException.reason()
        // README:end
        assertThat(verified.service()).hasToString("spiffe://demo.settler.test/gateway");
        assertThat(verified.claims()).containsEntry("tenant", "acme");
    }

    /**
     * The README's server, {@link QuickStartServer} as a program of its own (its own JVM, an SLF4J
     * provider logging to its standard output), called by the README's gateway; then refused: a
     * valid certificate of another service, no certificate, plaintext. Each refusal leaves the
     * library's audit event and no Netty "reached at the tail of the pipeline" warning, no stack
     * trace; Ctrl-C (SIGINT) shuts it down gracefully.
     */
    @Test
    void theServerProgramServesTheGatewayAndRefusesOthersQuietly(@TempDir Path logs) throws Exception {
        KeySet gatewayKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "gw-2")).build();
        ServiceTokens gateway = ServiceTokens.builder().identity("spiffe://demo.settler.test/gateway")
                .keys(gatewayKeys).build();
        Files.createDirectories(certs.resolve("jwks"));
        Files.writeString(certs.resolve("jwks/gateway.json"), gatewayKeys.toJwks());
        Path logback = Files.writeString(logs.resolve("logback.xml"), """
                <configuration>
                  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%level %logger %kvp %msg%n%ex</pattern></encoder>
                  </appender>
                  <root level="INFO"><appender-ref ref="OUT"/></root>
                </configuration>
                """);
        Path output = logs.resolve("server.out");
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process program = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dlogback.configurationFile=" + logback, "-cp", classPath, QuickStartServer.class.getName(),
                certs.toString(), "0").redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            int port = listeningPort(program, output);
            // README:core
            FileCredentialSource gatewayCerts = FileCredentialSource.builder(certs.resolve("gateway.crt"),
                    certs.resolve("gateway.key"), certs.resolve("ca.crt")).start();
            MtlsContext client = MtlsContext.client(gatewayCerts)            // TLS 1.3 only, our certificate
                    .expectedServer("spiffe://demo.settler.test/api").build(); // the server must prove this name
            MtlsHttpClient http = MtlsHttpClient.builder(NettyMtls.builder(client).build())
                    .requestHeaders(BearerTokens.from(TokenSource.builder(gateway).build(), // fresh scoped tokens
                            "spiffe://demo.settler.test/api", "orders:write")) // sent only to a server proving it
                    .build();
            MtlsHttpClient.Response created = http.send("localhost", port,
                    new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/orders")).join();
            // README:end
            assertThat(created.status()).isEqualTo(201);
            assertThat(http.get("localhost", port, "/orders").join().status())
                    .as("no route covers GET /orders").isEqualTo(403);
            http.close();
            gatewayCerts.close();

            Intruder intruder = new Intruder(TrustBundle.fromPem(certs.resolve("ca.crt")));
            TlsIdentity worker = TlsIdentity.fromPem(certs.resolve("worker.crt"), certs.resolve("worker.key"));
            for (int attempt = 0; attempt < 3; attempt++) {
                assertThatThrownBy(() -> intruder.https(port, worker, "TLSv1.3")).as("the worker's certificate");
                assertThatThrownBy(() -> intruder.https(port, null, "TLSv1.3")).as("no certificate");
                assertThatThrownBy(() -> intruder.plaintextHttp(port)).as("plaintext");
            }
        } finally {
            try {
                new ProcessBuilder("kill", "-INT", Long.toString(program.pid())).start().waitFor(); // Ctrl-C
                assertThat(program.waitFor(30, TimeUnit.SECONDS))
                        .as("the program stops on Ctrl-C (unless this test runs with SIGINT ignored, as a shell's"
                                + " background job without job control does)").isTrue();
            } finally {
                program.destroyForcibly();
            }
        }
        String log = Files.readString(output);
        assertThat(log).as(log)
                .contains("io.settler.zerotrust.audit")                     // the refusals, audited
                .doesNotContain("reached at the tail of the pipeline", "\tat ", "closing the connection from");
        assertThat(log.lines().filter(line -> line.startsWith("WARN io.settler.zerotrust.audit")).count())
                .as("a refusal audited per refused handshake: %n%s", log).isGreaterThanOrEqualTo(9);
    }

    /** The port the program prints ("listening on /127.0.0.1:PORT") once it listens. */
    private static int listeningPort(Process program, Path output) throws Exception {
        Pattern listening = Pattern.compile("listening on \\S*:(\\d+)");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Matcher found = listening.matcher(Files.readString(output));
            if (found.find()) {
                return Integer.parseInt(found.group(1));
            }
            assertThat(program.isAlive()).as("the program runs; it printed:%n%s", Files.readString(output)).isTrue();
            Thread.sleep(100);
        }
        throw new AssertionError("the program did not listen within 60 s; it printed:\n" + Files.readString(output));
    }

    @Test
    void jdbcAndRedisQuickStart() throws Exception {
        // README:jdbc-mtls
        FileCredentialSource apiCerts = FileCredentialSource.builder(certs.resolve("api.crt"),
                certs.resolve("api.key"), certs.resolve("ca.crt")).start();
        PostgresMtlsDataSource orders = PostgresMtlsDataSource.builder()
                .host("localhost").port(postgresPort).database("orders").role("api")
                .credentials(apiCerts).build();       // verify-full, TLS 1.3; proves the role on start
        TenantScope tenants = TenantScope.of(orders);
        tenants.run("acme", db -> db.createStatement()
                .executeUpdate("insert into orders (tenant_id, item) values ('acme', 'anvil')"));
        int seenByGlobex = tenants.call("globex", db -> count(db.createStatement()
                .executeQuery("select count(*) from orders")));   // 0: row-level security
        // README:end
        assertThat(seenByGlobex).isZero();
        int seenByAcme = tenants.call("acme", db -> count(db.createStatement()
                .executeQuery("select count(*) from orders where item = 'anvil'")));
        assertThat(seenByAcme).isEqualTo(1);
        orders.close();

        // README:redis-tls
        try (HardenedRedis redis = HardenedRedis.builder().host("localhost").port(redisPort)
                .user("api").password(PasswordSource.fromFile(certs.resolve("api.redis-password")))
                .credentials(apiCerts).build();           // rediss only, TLS 1.3, full verification
             StatefulRedisConnection<String, String> cache = redis.connect()) {  // proves TLS and ACL WHOAMI
            cache.sync().set(KeyNamespace.of("api").key("order", "42"), "{\"item\":\"anvil\"}");
        }
        // README:end
        assertThat(zone.redis().executeAsAdmin("GET", "api:order:42")).isEqualTo("{\"item\":\"anvil\"}");
        apiCerts.close();
    }

    @Test
    void queueQuickStart() throws Exception {
        Deployment deployment = Deployment.at(certs);
        Policy policy = deployment.policy();
        KeySet apiKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "api-1")).build();
        ServiceTokens apiTokens = ServiceTokens.builder().identity("spiffe://demo.settler.test/api")
                .keys(apiKeys).policy(policy).build();
        List<String> handled = new ArrayList<>();
        try (FileCredentialSource apiCerts = deployment.credentials("api");
             FileCredentialSource workerCerts = deployment.credentials("worker");
             HardenedRedis apiRedis = redis("api", apiCerts);
             HardenedRedis workerRedis = redis("worker", workerCerts);
             StatefulRedisConnection<String, String> apiConnection = apiRedis.connect();
             StatefulRedisConnection<String, String> workerConnection = workerRedis.connect()) {
            // README:queue
            // Once, as the operator: QueueConsumer.createGroup(operatorRedis, verifier, "workers") creates the
            // stream and its group. A publisher never creates a stream: one Redis lost is refused, not re-made.
            QueuePublisher jobs = QueuePublisher.of(apiConnection.sync(),   // XADD to queue:{jobs}:api only
                    EnvelopeSigner.builder(apiTokens, "jobs").build());     // a one-time token per message
            jobs.publish("{\"orderId\":42}".getBytes(StandardCharsets.UTF_8));

            ServiceTokens queueTokens = ServiceTokens.builder().identity("spiffe://demo.settler.test/queue/jobs")
                    .verificationKeys(KeySet.fromJwks(apiKeys.toJwks()).pinnedTo("spiffe://demo.settler.test/api"))
                    .trustIssuers("spiffe://demo.settler.test/api").build();
            EnvelopeVerifier verifier = EnvelopeVerifier.builder(queueTokens, "jobs").policy(policy)
                    .replayGuard(RedisReplayGuard.builder(workerConnection.sync(), KeyNamespace.of("worker")).build())
                    .build();
            QueueConsumer worker = QueueConsumer.builder(workerConnection.sync(), verifier,
                    (VerifiedMessage job) -> handled.add(new String(job.payload(), StandardCharsets.UTF_8)))
                    .group("workers").consumer("worker-1").build();
            worker.poll();                                  // verified, handled, acknowledged; or dead-lettered
            // README:end
        }
        assertThat(handled).containsExactly("{\"orderId\":42}");
    }

    @Test
    void theReadmeShowsThisCode() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        String source = Files.readString(Path.of("src", "test", "java", "io", "settler", "zerotrust", "examples",
                "ReadmeQuickStartTest.java"));
        Matcher snippet = SNIPPET.matcher(source);
        List<String> names = new ArrayList<>();
        while (snippet.find()) {
            names.add(snippet.group(1));
            assertThat(readme).as("README.md shows the %s quick start as in this test", snippet.group(1))
                    .contains("```java\n" + dedent(snippet.group(2)) + "\n```");
        }
        assertThat(names).containsExactlyInAnyOrder("service-token", "core", "jdbc-mtls", "redis-tls", "queue");
        String program = Files.readString(Path.of("src", "test", "java", "io", "settler", "zerotrust", "examples",
                "QuickStartServer.java"));
        assertThat(program).startsWith("package io.settler.zerotrust.examples;\n\n");
        assertThat(readme).as("README.md shows QuickStartServer.java whole, without its package line")
                .contains("```java\n" + program.substring(program.indexOf("import ")) + "```");
    }

    private static HardenedRedis redis(String user, FileCredentialSource credentials) {
        return HardenedRedis.builder().host("localhost").port(redisPort).user(user)
                .password(PasswordSource.fromFile(certs.resolve(user + ".redis-password")))
                .credentials(credentials).build();
    }

    private static int count(ResultSet rows) throws java.sql.SQLException {
        try (rows) {
            rows.next();
            return rows.getInt(1);
        }
    }

    /** Removes the indentation common to all non-blank lines. */
    static String dedent(String code) {
        List<String> lines = List.of(code.split("\n"));
        int indent = lines.stream().filter(line -> !line.isBlank())
                .mapToInt(line -> line.length() - line.stripLeading().length()).min().orElse(0);
        return String.join("\n", lines.stream().map(line -> line.isBlank() ? "" : line.substring(indent)).toList());
    }
}
