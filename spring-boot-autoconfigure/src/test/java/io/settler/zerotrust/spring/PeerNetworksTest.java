package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.spring.plain.PlainApplication;
import io.settler.zerotrust.spring.reactive.ReactiveOrdersApplication;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * A policy whose rules name source networks, on both servers: the handshake cannot see the
 * caller's address, so it admits by identity and each request is checked with its address. The
 * gateway may call from loopback (where the test runs); the worker only from 10.0.0.0/8.
 */
class PeerNetworksTest {

    private static final String POLICY = """
            {"trustDomain": "example.org", "services": {
              "api": {"scopes": [], "accepts": [
                {"service": "gateway", "networks": ["127.0.0.0/8", "::1/128"]},
                {"service": "worker", "networks": ["10.0.0.0/8"]}]},
              "gateway": {"scopes": ["orders:read", "orders:write"]},
              "worker": {"scopes": ["orders:read"]}}}""";

    @TempDir
    Path certs;

    /** The plain application, with the audit log recorded. */
    @Configuration(proxyBeanMethods = false)
    @Import(PlainApplication.class)
    static class RecordedPlainApplication {
        @Bean
        RecordingAuditLog auditLog() {
            return RecordingAuditLog.logging();
        }
    }

    @Test
    void tomcatChecksEachRequestsAddressAgainstThePolicysNetworks() throws Exception {
        TestZone zone = zone();
        SpringApplication application = new SpringApplication(RecordedPlainApplication.class);
        application.setDefaultProperties(zone.properties());
        try (ConfigurableApplicationContext app = application.run()) {
            assertCallersFromLoopback(zone, app, "/hello");
        }
    }

    @Test
    void reactorNettyChecksEachExchangesAddressAgainstThePolicysNetworks() throws Exception {
        TestZone zone = zone();
        try (ConfigurableApplicationContext app = ZeroTrustReactiveServerTest.run(zone,
                ReactiveOrdersApplication.class, ZeroTrustReactiveServerTest.NO_TOMCAT, Map.of())) {
            assertCallersFromLoopback(zone, app, "/orders");
        }
    }

    private TestZone zone() throws Exception {
        TestZone zone = new TestZone(certs);
        Files.writeString(certs.resolve("policy.json"), POLICY);
        return zone;
    }

    private static void assertCallersFromLoopback(TestZone zone, ConfigurableApplicationContext app, String path)
            throws Exception {
        int port = ((WebServerApplicationContext) app).getWebServer().getPort();
        RecordingAuditLog audit = app.getBean(RecordingAuditLog.class);

        HttpResponse<String> gateway = send(zone, zone.gateway, zone.gatewayTokens, port, path);
        assertThat(gateway.statusCode()).as("the gateway, from a network of its rule").isEqualTo(200);

        HttpResponse<String> worker = send(zone, zone.worker, zone.workerTokens, port, path);
        assertThat(worker.statusCode()).as("the worker, admitted by identity in the handshake").isEqualTo(403);
        assertThat(worker.body()).isEmpty();
        assertThat(audit.withAction(SpringAudit.REQUEST_REFUSED)).anySatisfy(event -> {
            assertThat(event.fields()).containsEntry("reason", PeerNetworks.NOT_ALLOWED)
                    .containsEntry("peer", "spiffe://example.org/worker");
            assertThat(String.valueOf(event.fields().get("detail"))).contains("127.0.0.1");
        });
    }

    private static HttpResponse<String> send(TestZone zone, IssuedCertificate client,
                                             ServiceTokens tokens, int port, String path) throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(TestZone.client(client, zone.ca).build().sslContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
        String token = tokens.mint(TokenRequest.to(TestZone.API).scopes("orders:read").build());
        return http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
