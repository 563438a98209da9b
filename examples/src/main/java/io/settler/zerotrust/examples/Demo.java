package io.settler.zerotrust.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.api.StatefulRedisConnection;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.cli.render.RenderException;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.examples.api.ApiServer;
import io.settler.zerotrust.examples.webhook.WebhookReceiver;
import io.settler.zerotrust.examples.webhook.WebhookService;
import io.settler.zerotrust.examples.worker.JobWorker;
import io.settler.zerotrust.jdbc.PostgresMtlsDataSource;
import io.settler.zerotrust.jdbc.ServerConfigException;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.policy.PolicyException;
import io.settler.zerotrust.queue.EnvelopeSigner;
import io.settler.zerotrust.queue.QueuePublisher;
import io.settler.zerotrust.redis.HardenedRedis;
import io.settler.zerotrust.redis.RedisAcl;
import io.settler.zerotrust.redis.RedisTlsException;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The demo behind {@code bin/demo}: the architecture of the design running on one machine.
 *
 * <ol>
 *   <li>Zone 2: a development CA, then TLS PostgreSQL and TLS Redis on loopback, whose
 *       {@code pg_hba.conf}, GRANTs, row-level security and ACL users come from {@code policy.json}
 *       ({@link LocalZone}).</li>
 *   <li>Zone 1: the webhook receiver (a customer's endpoint), the webhook service, the job worker
 *       and the API server, each wired from the same deployment directory.</li>
 *   <li>The scenario: the gateway creates an order; the API server stores it for its tenant,
 *       caches it and publishes a signed job; the worker verifies the job, records the result and
 *       calls the webhook service with a certificate-bound token; the webhook reaches the receiver
 *       signed.</li>
 *   <li>The attacks, each of which must be refused.</li>
 * </ol>
 *
 * Exits 1 if any expectation fails. Everything it started stops at the end, also on Ctrl-C.
 */
public final class Demo implements AutoCloseable {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Report report;
    private final Resources started = new Resources();
    private volatile @Nullable Path temporaryDirectory;

    private Demo(PrintStream out) {
        this.report = new Report(out);
    }

    /**
     * Runs the demo; exit status 0 when every expectation held.
     *
     * @param args none, to start PostgreSQL and Redis on loopback; {@code --prepare <dir>
     *     [--database-service <name>]} to write the files for servers of your own, rendered from
     *     {@code <dir>/policy.json} (the example policy if there is none; {@link LocalZone#prepare});
     *     or {@code --deployment <dir>} to run against those servers, configured with the files in
     *     {@code <dir>/rendered/}
     */
    public static void main(String[] args) {
        Optional<Path> deployment = Optional.empty();
        if (args.length == 2 && args[0].equals("--deployment")) {
            deployment = Optional.of(Path.of(args[1]));
        } else if ((args.length == 2 || (args.length == 4 && args[2].equals("--database-service")))
                && args[0].equals("--prepare")) {
            System.exit(prepare(Path.of(args[1]), Optional.ofNullable(args.length == 4 ? args[3] : null)));
        } else if (args.length != 0) {
            System.err.println("usage: demo [--prepare <directory> [--database-service <name>]"
                    + " | --deployment <prepared directory>]");
            System.exit(2);
        }
        Demo demo = new Demo(System.out);
        Runtime.getRuntime().addShutdownHook(new Thread(demo::close, "demo-shutdown")); // Ctrl-C
        List<String> failures;
        try {
            failures = demo.run(deployment);
        } catch (Exception e) {
            System.out.println("\nThe demo could not run: " + Report.describe(e));
            failures = List.of("setup");
        } finally {
            demo.close();
        }
        System.exit(failures.isEmpty() ? 0 : 1);
    }

    /**
     * {@code --prepare}: the exit status, 0 when prepared; otherwise 1, after one line on standard
     * error saying what to fix (an invalid policy, a path that is a file), never a stack trace.
     */
    static int prepare(Path directory, Optional<String> databaseService) {
        try {
            LocalZone.prepare(directory, databaseService, System.out::println);
            return 0;
        } catch (PolicyException | ServerConfigException | RedisTlsException | RenderException
                 | UncheckedIOException e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            System.err.println("demo --prepare: " + message.replaceAll("\\s+", " ").strip());
            return 1;
        }
    }

    /**
     * Runs the whole scenario, printing the report to {@code out}.
     *
     * @param deployment a deployment directory of external servers, or empty to start them on loopback
     * @return the expectations that failed (empty when all held)
     */
    public static List<String> runScenario(PrintStream out, Optional<Path> deployment) throws Exception {
        try (Demo demo = new Demo(out)) {
            return demo.run(deployment);
        }
    }

    private List<String> run(Optional<Path> external) throws Exception {
        Deployment zone2;
        if (external.isPresent()) {
            report.section("Settler Zero Trust demo (servers and files of " + external.get() + ")");
            zone2 = Deployment.at(external.get()).withAuditLog(report);
        } else {
            temporaryDirectory = Files.createTempDirectory("settler-demo-");
            report.section("Settler Zero Trust demo (deployment files in " + temporaryDirectory + ")");
            zone2 = start(LocalZone.start(temporaryDirectory, report::progress)).deployment().withAuditLog(report);
        }

        Deployment deployment = zone2;
        report.progress("starting the webhook receiver (a customer's HTTPS endpoint)");
        WebhookReceiver receiver = start(WebhookReceiver.start(deployment));
        deployment = deployment.withEndpoint("receiver.url", "https://localhost:" + receiver.port() + "/hooks");
        report.progress("starting the webhook service (mTLS; accepts the worker only, scope webhook:send)");
        WebhookService webhook = start(WebhookService.start(deployment));
        deployment = deployment.withEndpoint("webhook.port", Integer.toString(webhook.port()));
        report.progress("starting the job worker (verified envelopes only)");
        JobWorker worker = start(JobWorker.start(deployment));
        report.progress("starting the API server (mTLS; accepts the gateway only, rate-limited, loopback only)");
        ApiServer api = start(ApiServer.start(deployment));
        deployment = deployment.withEndpoint("api.port", Integer.toString(api.port()));
        Gateway gateway = start(new Gateway(deployment));

        report.section(
                "What works: gateway -> API server -> PostgreSQL, Redis, queue -> worker -> webhook -> receiver");
        String[] order = new String[1];
        report.expectAccepted("the gateway creates an order for tenant acme", () -> {
            order[0] = gateway.createOrder("acme", "{\"item\":\"anvil\"}");
            return "order " + order[0];
        });
        report.expectAccepted("the worker verifies the job and records its result", () ->
                awaitOrFail(() -> worker.handled() >= 1, () -> "the worker handled " + worker.handled() + " jobs"));
        report.expectAccepted("the webhook reaches the receiver with a valid signature", () -> {
            awaitOrFail(() -> deliveryFor(receiver, order[0]).isPresent(),
                    () -> "the receiver has no delivery for order " + order[0] + " among " + receiver.deliveries());
            return deliveryFor(receiver, order[0]).orElseThrow();
        });
        report.expectAccepted("the gateway reads the order back for acme", () -> gateway.readOrder("acme", order[0]));

        report.section("Attacks on the API server (each must be refused)");
        Intruder intruder = new Intruder(TrustBundle.fromPem(zone2.directory().resolve("ca.crt")));
        int apiPort = api.port();
        report.expectRefused("plaintext HTTP client", () -> intruder.plaintextHttp(apiPort));
        report.expectRefused("TLS 1.2 client (with the gateway's certificate)",
                () -> intruder.https(apiPort, certificateOf(zone2, "gateway"), "TLSv1.2"));
        report.expectRefused("client without a certificate", () -> intruder.https(apiPort, null, "TLSv1.3"));
        report.expectRefused("wrong identity: the worker's valid certificate calling the API",
                () -> intruder.https(apiPort, certificateOf(zone2, "worker"), "TLSv1.3"));
        report.expectRefused("a certificate for the gateway's name from another CA", () -> {
            IssuedCertificate forged =
                    DevCertificateAuthority.create(zone2.policy().trustDomain()).leaf("gateway").issue();
            return intruder.https(apiPort, TlsIdentity.of(forged.privateKey(), forged.chain()), "TLSv1.3");
        });
        report.expectRefused("missing service token", () -> gateway.createOrderWithoutToken("{\"item\":\"x\"}"));
        report.expectRefused("insufficient scope: an orders:read token creating an order",
                () -> gateway.createOrderWithScope("acme", "orders:read", "{\"item\":\"x\"}"));
        report.expectRefused("cross-tenant read: tenant globex reading acme's order",
                () -> gateway.readOrder("globex", order[0]));

        report.section("Attacks on Zone 2 (each must be refused)");
        report.expectRefused("forged queue message: the api's stolen Redis password, but not its signing key",
                () -> forgeJob(zone2, worker));
        report.expectRefused("the worker's Redis user publishing a job", () -> publishAs(zone2, "worker"));
        report.expectRefused("plaintext Redis client", () -> intruder.plaintextRedis(zone2.address("redis").getPort()));
        report.expectRefused("plaintext PostgreSQL client (sslmode=disable)", () -> {
            Properties plain = new Properties();
            plain.setProperty("user", "api");
            plain.setProperty("sslmode", "disable");
            InetSocketAddress postgres = zone2.address("postgres");
            try (var db = DriverManager.getConnection("jdbc:postgresql://" + postgres.getHostString() + ":"
                    + postgres.getPort() + "/" + zone2.endpoint("postgres.database"), plain)) {
                return "connected as " + db.getMetaData().getUserName();
            }
        });
        report.expectRefused("the api's certificate logging in to PostgreSQL as the worker", () -> {
            try (FileCredentialSource apiCertificate = zone2.credentials("api");
                 PostgresMtlsDataSource asWorker = zone2.postgres("worker", apiCertificate).build()) {
                return "connected as " + asWorker.role();
            }
        });

        report.metrics();
        report.summary();
        return report.failures();
    }

    /** The receiver's verified delivery about {@code orderId}, if it has one. */
    private static Optional<String> deliveryFor(WebhookReceiver receiver, String orderId) {
        return receiver.deliveries().stream().filter(body -> {
            try {
                return JSON.readTree(body).path("orderId").asText().equals(orderId);
            } catch (IOException notJson) {
                return false;
            }
        }).findFirst();
    }

    private static TlsIdentity certificateOf(Deployment deployment, String service) {
        return TlsIdentity.fromPem(deployment.directory().resolve(service + ".crt"),
                deployment.directory().resolve(service + ".key"));
    }

    /**
     * An attacker who stole the api's Redis password and certificate (but not its token signing
     * key, which never leaves the api's memory) writes a job signed with a key of their own.
     * Refused when the worker dead-letters it (its audit event, which the report shows, gives the
     * reason) instead of running it.
     */
    private String forgeJob(Deployment deployment, JobWorker worker) throws Exception {
        ServiceTokens forger = ServiceTokens.builder().identity(deployment.identity("api"))
                .keys(KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ED25519, "stolen")).build())
                .build();
        long handled = worker.handled();
        try (FileCredentialSource apiCertificate = deployment.credentials("api");
             HardenedRedis apiRedis = redis(deployment, "api", apiCertificate);
             StatefulRedisConnection<String, String> stolen = apiRedis.connect()) {
            QueuePublisher.of(stolen.sync(), EnvelopeSigner.builder(forger, LocalZone.QUEUE).build())
                    .publish("{\"tenant\":\"acme\",\"orderId\":\"1\",\"item\":\"free money\"}"
                            .getBytes(StandardCharsets.UTF_8));
        }
        if (!await(() -> report.lastRefusal().map(AuditEvent::action).filter("queue.dead_lettered"::equals)
                .isPresent())) {
            return "the forged job was not dead-lettered within " + WAIT.toSeconds() + " s";
        }
        if (worker.handled() != handled) {
            return "the worker ran the forged job";
        }
        throw new IOException("dead-lettered, never handled");
    }

    /** A Zone 1 service's Redis user tries to publish to its own stream key. */
    private String publishAs(Deployment deployment, String service) throws Exception {
        try (FileCredentialSource credentials = deployment.credentials(service);
             HardenedRedis redis = redis(deployment, service, credentials);
             StatefulRedisConnection<String, String> connection = redis.connect()) {
            return connection.sync().xadd(RedisAcl.streamKey(LocalZone.QUEUE, service), "payload", "x");
        }
    }

    private static HardenedRedis redis(Deployment deployment, String service, FileCredentialSource credentials) {
        return deployment.redis(service, credentials).build();
    }

    /** Waits up to {@link #WAIT} for {@code condition}; whether it came true. */
    private static boolean await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }

    private static String awaitOrFail(BooleanSupplier condition, Supplier<String> otherwise) throws Exception {
        if (!await(condition)) {
            throw new IOException("after " + WAIT.toSeconds() + " s, " + otherwise.get());
        }
        return "";
    }

    private <T extends AutoCloseable> T start(T resource) {
        return started.add(resource);
    }

    /** Stops everything started, newest first, and deletes the deployment directory. Idempotent. */
    @Override
    public void close() {
        started.close();
        Path directory = temporaryDirectory;
        if (directory != null) {
            deleteRecursively(directory);
            temporaryDirectory = null;
        }
    }

    private static void deleteRecursively(Path directory) {
        try (var paths = Files.walk(directory)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            System.err.println("could not delete " + directory + ": " + Report.describe(e));
        }
    }
}
