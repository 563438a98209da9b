package io.settler.zerotrust.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Clock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micrometer.registry.otlp.OtlpConfig;
import io.micrometer.registry.otlp.OtlpMeterRegistry;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.settler.zerotrust.audit.AuditLog;
import io.settler.zerotrust.audit.CoreAudit;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * The two ways out the README documents: a Prometheus scrape, and OTLP through Micrometer's OTLP
 * registry (how OpenTelemetry users get the metrics), here to a receiver on 127.0.0.1.
 */
class ExportTest {

    private static final DevCertificateAuthority CA = DevCertificateAuthority.create("example.org");
    private static final IssuedCertificate API = CA.leaf("api").issue();
    private static final CredentialSource CREDENTIALS = CredentialSource.fixed(
            TlsIdentity.of(API.privateKey(), API.chain()), TrustBundle.of(List.of(CA.rootCertificate())));

    /** A few decisions of each kind: accepted and refused peers, a timed check. */
    private static void decide(AuditLog audit) {
        audit.event(CoreAudit.PEER_ACCEPTED).field("role", "client").field("identity", "spiffe://example.org/web")
                .field("fingerprint", "ab12").field("remote", "127.0.0.1").field("rule", "web").record();
        audit.event(CoreAudit.PEER_REFUSED).field("role", "client").field("fingerprint", "none")
                .field("remote", "127.0.0.1").field("reason", "NO_CERTIFICATE").field("detail", "none sent").record();
        audit.event(TestAudit.CHECKED).field("audience", "orders").field("jti", "j-1").field("remote", "127.0.0.1")
                .elapsedSince(System.nanoTime() - 2_000_000).record();
    }

    @Test
    void prometheusScrapeShowsCountersTimersAndGaugesByTheirConventionalNames() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ZeroTrustMetrics metrics = ZeroTrustMetrics.builder(registry).build();
        ZeroTrustMetrics.Binding gauges = metrics.bindCredentials(CREDENTIALS);
        try {
            decide(metrics.auditLog());

            String scrape = registry.scrape();

            assertThat(scrape)
                    .contains("zerotrust_tls_peers_total{action=\"peer.accepted\",outcome=\"ALLOWED\",reason=\"none\","
                            + "role=\"client\",rule=\"web\"} 1.0")
                    .contains("zerotrust_tls_peers_total{action=\"peer.refused\",outcome=\"REFUSED\","
                            + "reason=\"NO_CERTIFICATE\",role=\"client\",rule=\"none\"} 1.0")
                    .contains("zerotrust_test_checks_duration_seconds_count{action=\"thing.checked\","
                            + "audience=\"orders\",outcome=\"ALLOWED\"} 1")
                    .contains("zerotrust_credentials_validity_remaining_seconds{identity=\"spiffe://example.org/api\"}")
                    .contains("zerotrust_credentials_staleness_seconds{identity=\"spiffe://example.org/api\"}")
                    .contains("zerotrust_trust_anchor_validity_remaining_seconds{anchor=")
                    .doesNotContain("127.0.0.1", "ab12", "j-1", "spiffe://example.org/web");
        } finally {
            gauges.close();
        }
    }

    @Test
    void otlpRegistryPublishesTheMetersToAnOpenTelemetryReceiver() throws Exception {
        List<byte[]> received = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/v1/metrics", exchange -> {
            try (InputStream body = exchange.getRequestBody()) {
                byte[] bytes = body.readAllBytes();
                received.add("gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))
                        ? gunzip(bytes) : bytes);
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        receiver.start();
        try {
            String url = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/v1/metrics";
            Map<String, String> settings = Map.of("otlp.url", url, "otlp.step", "1h");
            OtlpConfig config = settings::get;
            OtlpMeterRegistry registry = new OtlpMeterRegistry(config, Clock.SYSTEM);
            ZeroTrustMetrics metrics = ZeroTrustMetrics.builder(registry).build();
            ZeroTrustMetrics.Binding gauges = metrics.bindCredentials(CREDENTIALS);
            decide(metrics.auditLog());

            registry.close(); // publishes what it has, once
            gauges.close();

            assertThat(received).as("one export to the receiver").isNotEmpty();
            List<Metric> exported = received.stream().flatMap(ExportTest::metrics).toList();
            assertThat(exported.stream().map(Metric::getName)).contains("zerotrust.tls.peers",
                    "zerotrust.test.checks", "zerotrust.test.checks.duration",
                    "zerotrust.credentials.validity.remaining", "zerotrust.credentials.staleness",
                    "zerotrust.trust.anchor.validity.remaining");
            Metric peers = exported.stream().filter(m -> m.getName().equals("zerotrust.tls.peers")).findFirst()
                    .orElseThrow();
            assertThat(peers.getSum().getIsMonotonic()).isTrue();
            assertThat(peers.getSum().getDataPointsList().stream().map(ExportTest::attributes))
                    .contains(Map.of("action", "peer.accepted", "outcome", "ALLOWED", "reason", "none",
                                    "role", "client",
                                    "rule", "web"),
                            Map.of("action", "peer.refused", "outcome", "REFUSED", "role", "client",
                                    "reason", "NO_CERTIFICATE", "rule", "none"));
        } finally {
            receiver.stop(0);
        }
    }

    private static java.util.stream.Stream<Metric> metrics(byte[] body) {
        try {
            return ExportMetricsServiceRequest.parseFrom(body).getResourceMetricsList().stream()
                    .flatMap(r -> r.getScopeMetricsList().stream()).flatMap(s -> s.getMetricsList().stream());
        } catch (IOException e) {
            throw new IllegalStateException("not an OTLP metrics export", e);
        }
    }

    private static Map<String, String> attributes(NumberDataPoint point) {
        return point.getAttributesList().stream()
                .collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().getStringValue()));
    }

    private static byte[] gunzip(byte[] bytes) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
            return in.readAllBytes();
        }
    }
}
