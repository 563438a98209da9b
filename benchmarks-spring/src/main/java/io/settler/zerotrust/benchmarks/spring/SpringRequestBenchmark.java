package io.settler.zerotrust.benchmarks.spring;

import io.settler.zerotrust.benchmarks.spring.bundle.BundleApplication;
import io.settler.zerotrust.benchmarks.spring.security.SecurityOnlyApplication;
import io.settler.zerotrust.benchmarks.spring.zerotrust.ZeroTrustApplication;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenSource;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * HTTP/1.1 {@code GET /hello} through Spring Boot 4's embedded Tomcat and Spring MVC on kept-alive mTLS 1.3
 * connections to 127.0.0.1 (handshakes happen in warm-up; Tomcat's keep-alive request limit is lifted so they
 * stay the only ones): what the starter costs per request.
 *
 * <p>Three applications, each in a JVM of its own ({@link ServerProcess}), are measured side by side in one
 * JMH group, two client threads each, so that all three share the same machine at the same moments: on a
 * virtual machine whose stolen CPU time varies from minute to minute, applications measured one after the
 * other differed by more than the starter's cost. Each method's score is that application's requests per
 * second while all three run, so a ratio of two scores compares whole requests, the client's share of the
 * CPUs included; the server CPU time per request printed after each iteration ({@link #reportServerCpu})
 * compares the servers alone.
 *
 * <p>{@code baseline}: {@link BundleApplication}, the controller on Boot's own {@code server.ssl.bundle} (a PEM
 * bundle of the same certificate, client certificates required against the same CA, TLS 1.3 only), no Spring
 * Security, no token check. {@code starter}: {@link ZeroTrustApplication}, the same controller with
 * {@code zerotrust-spring-boot-starter} configured by {@code zerotrust.*} properties: the policy's authorizer in
 * the handshake, the bearer service token (ES256, from a {@link TokenSource}, so reused) verified by
 * {@code ServiceTokens} against the connection's certificate identity, and a Spring Security rule needing
 * {@code SCOPE_orders:read}; audit to SLF4J at Boot's default level. One JDK {@link HttpClient} (its pool, its
 * TLS from the library's client context, which requires the server's SPIFFE identity) sends the same request,
 * with the same {@code Authorization} header, to all. Higher is better (requests per second).
 *
 * <p>{@code springSecurityOnly}: {@link SecurityOnlyApplication}, the baseline's server behind a stateless Spring
 * Security chain that permits every request (no token check): it splits the starter's cost into the
 * framework's (Spring Security's filters, which any token check in Boot runs through) and the library's.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SpringRequestBenchmark {

    private static final String POLICY = """
            {"trustDomain": "example.org", "services": {
              "api": {"scopes": [], "accepts": [{"service": "gateway"}]},
              "gateway": {"scopes": ["orders:read"]}}}""";

    private Path directory;
    /** Boot's bundle without the starter: its auto-configurations, which would require zerotrust.*, left out. */
    private static final String WITHOUT_STARTER = String.join(",",
            "io.settler.zerotrust.spring.ZeroTrustAutoConfiguration",
            "io.settler.zerotrust.spring.ZeroTrustServerAutoConfiguration",
            "io.settler.zerotrust.spring.ZeroTrustSecurityAutoConfiguration",
            "io.settler.zerotrust.spring.ZeroTrustClientAutoConfiguration",
            "io.settler.zerotrust.spring.ZeroTrustPostgresAutoConfiguration",
            "io.settler.zerotrust.spring.ZeroTrustRedisAutoConfiguration",
            "io.settler.zerotrust.spring.ZeroTrustHealthAutoConfiguration",
            "io.settler.zerotrust.spring.ZeroTrustServerGuardAutoConfiguration");

    /** The three applications' measurements share one JMH group: see the class comment. */
    private static final String SIDE_BY_SIDE = "requests";
    /** Client threads per application. */
    private static final int THREADS = 2;

    private Target toBundle;
    private Target toSecurity;
    private Target toStarter;

    /** Writes the certificates, policy and keys, starts the applications and checks that each answers 200. */
    @Setup
    public void setUp() throws Exception {
        directory = Files.createTempDirectory("zerotrust-spring-bench");
        DevCertificateAuthority ca = DevCertificateAuthority.create("example.org");
        ca.leaf("api").serverAndClient().dnsNames("localhost").ipAddresses("127.0.0.1")
                .validity(Duration.ofHours(12)).issue().writePem(directory, "api");
        IssuedCertificate gateway = ca.leaf("gateway").client().issue();
        KeySet gatewayKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "gw-1")).build();
        Files.writeString(directory.resolve("policy.json"), POLICY);
        Files.writeString(directory.resolve("gateway.jwks.json"), gatewayKeys.toJwks());
        SSLContext tls = MtlsContext.client(CredentialSource.fixed(
                        TlsIdentity.of(gateway.privateKey(), gateway.chain()),
                        TrustBundle.of(List.of(ca.rootCertificate()))))
                .expectedServer("spiffe://example.org/api").build().sslContext();
        String token = TokenSource.builder(ServiceTokens.builder().identity("spiffe://example.org/gateway")
                .keys(gatewayKeys).build()).build().token("spiffe://example.org/api", "orders:read");

        Map<String, Object> bundle = common();
        bundle.put("spring.ssl.bundle.pem.api.keystore.certificate", file("api.crt"));
        bundle.put("spring.ssl.bundle.pem.api.keystore.private-key", file("api.key"));
        bundle.put("spring.ssl.bundle.pem.api.truststore.certificate", file("ca.crt"));
        bundle.put("server.ssl.bundle", "api");
        bundle.put("server.ssl.client-auth", "need");
        bundle.put("server.ssl.enabled-protocols", "TLSv1.3");
        bundle.put("spring.autoconfigure.exclude", WITHOUT_STARTER);
        toBundle = new Target("baseline", bundle, tls, token);
        toSecurity = new Target("springSecurityOnly", bundle, tls, token);

        Map<String, Object> starter = common();
        starter.put("zerotrust.service", "api");
        starter.put("zerotrust.policy", file("policy.json"));
        starter.put("zerotrust.credentials.certificate", directory.resolve("api.crt").toString());
        starter.put("zerotrust.credentials.key", directory.resolve("api.key").toString());
        starter.put("zerotrust.credentials.trust", directory.resolve("ca.crt").toString());
        starter.put("zerotrust.tokens.issuers.gateway.jwks", file("gateway.jwks.json"));
        toStarter = new Target("starter", starter, tls, token);
        baseline();
        springSecurityOnly();
        starter(); // all must answer 200 before anything is measured
    }

    /** Stops the applications and deletes the files. */
    @TearDown
    public void tearDown() throws IOException, InterruptedException {
        toStarter.server.stop();
        toSecurity.server.stop();
        toBundle.server.stop();
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }

    /**
     * Prints each server's CPU time per request in the iteration that just ended (in the fork's output):
     * where requests per second cannot tell the applications apart, this still can.
     */
    @TearDown(Level.Iteration)
    public void reportServerCpu() {
        System.out.printf("server CPU per request: baseline %s, springSecurityOnly %s, starter %s%n",
                toBundle.cpuPerRequestSinceLastCall(), toSecurity.cpuPerRequestSinceLastCall(),
                toStarter.cpuPerRequestSinceLastCall());
    }

    /** A request to the application on Boot's own SSL bundle. */
    @Benchmark
    @Group(SIDE_BY_SIDE)
    @GroupThreads(THREADS)
    public int baseline() throws Exception {
        return toBundle.send();
    }

    /** The same request through Spring Security's filters, which let it through. */
    @Benchmark
    @Group(SIDE_BY_SIDE)
    @GroupThreads(THREADS)
    public int springSecurityOnly() throws Exception {
        return toSecurity.send();
    }

    /** The same request to the application with the starter. */
    @Benchmark
    @Group(SIDE_BY_SIDE)
    @GroupThreads(THREADS)
    public int starter() throws Exception {
        return toStarter.send();
    }

    private Map<String, Object> common() {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("server.port", "0");
        properties.put("server.address", "127.0.0.1");
        properties.put("server.tomcat.max-keep-alive-requests", "-1");
        properties.put("spring.main.banner-mode", "off");
        return properties;
    }

    private String file(String name) {
        return "file:" + directory.resolve(name);
    }

    /**
     * One application in its own JVM, its own client (its own connection pool and selector thread: no
     * application waits on another's) and request, and how many requests it answered.
     */
    private final class Target {

        private final String name;
        private final ServerProcess server;
        private final HttpClient client;
        private final HttpRequest request;
        private final LongAdder answered = new LongAdder();
        private long lastAnswered;
        private Duration lastCpu = Duration.ZERO;

        /** Starts {@code name} ({@link BenchmarkServer}) with these Spring properties. */
        Target(String name, Map<String, Object> properties, SSLContext tls, String token) throws Exception {
            this.name = name;
            this.server = ServerProcess.start(name, directory, properties);
            this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(tls).build();
            this.request = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.port() + "/hello"))
                    .header("Authorization", "Bearer " + token).GET().build();
        }

        int send() throws Exception {
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("status " + response.statusCode() + " from " + name + "; its output:\n"
                        + server.output());
            }
            answered.increment();
            return response.body().length();
        }

        /** The server's CPU time per answered request since the last call, e.g. {@code 85 us}. */
        String cpuPerRequestSinceLastCall() {
            Duration cpu = server.cpuTime();
            long count = answered.sum();
            long requests = count - lastAnswered;
            String perRequest = requests == 0 ? "-" : cpu.minus(lastCpu).toNanos() / requests / 1_000 + " us";
            lastCpu = cpu;
            lastAnswered = count;
            return perRequest;
        }
    }
}
