package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.audit.CoreAudit;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.spring.app.OrdersApplication;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A real Boot application (Tomcat on a loopback port, Spring Security, the starter's
 * auto-configuration) attacked and used through the JDK's HttpClient and SSLSocket: one
 * application for the whole class.
 */
class ZeroTrustServerTest {

    @TempDir
    static Path certs;

    private static TestZone zone;
    private static ConfigurableApplicationContext app;
    private static int port;
    private static RecordingAuditLog audit;

    @BeforeAll
    static void start() {
        zone = new TestZone(certs);
        SpringApplication application = new SpringApplication(OrdersApplication.class);
        Map<String, Object> properties = zone.properties();
        properties.put("management.endpoint.health.show-details", "always");
        application.setDefaultProperties(properties);
        app = application.run();
        port = ((WebServerApplicationContext) app).getWebServer().getPort();
        audit = app.getBean(RecordingAuditLog.class);
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    private static SSLContext gateway() {
        return TestZone.client(zone.gateway, zone.ca).build().sslContext();
    }

    private static HttpResponse<String> send(SSLContext client, HttpRequest.Builder request) throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(client).connectTimeout(Duration.ofSeconds(5)).build();
        return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder get(String path, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path));
        return token == null ? request : request.header("Authorization", "Bearer " + token);
    }

    private static String gatewayToken(String... scopes) {
        return zone.gatewayTokens.mint(TokenRequest.to(TestZone.API).scopes(scopes).build());
    }

    /**
     * Connects, handshakes, sends a request and returns the first line of the answer. A TLS 1.3 client
     * finishes its side of the handshake before the server has judged its certificate, so a refused
     * certificate shows on the first read.
     */
    private static String rawRequest(SSLContext client, String... protocols) throws IOException {
        try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(5000);
            if (protocols.length > 0) {
                socket.setEnabledProtocols(protocols);
            }
            socket.startHandshake();
            socket.getOutputStream().write("GET /orders HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int c = in.read(); c != -1 && c != '\r'; c = in.read()) {
                line.append((char) c);
            }
            if (line.length() == 0) {
                throw new IOException("closed without an answer");
            }
            return line.toString();
        }
    }

    /**
     * The connection ends without an HTTP answer: with the server's alert ({@code SSLException}) or,
     * in TLS 1.3, where the client finishes its handshake before the server checked its certificate,
     * torn down while the client writes its request (a {@code SocketException} such as "Broken pipe").
     */
    private static void assertRefusedAtHandshake(SSLContext client, String... protocols) {
        assertThatThrownBy(() -> rawRequest(client, protocols)).isInstanceOfAny(SSLException.class,
                SocketException.class);
    }

    @Test
    void theRawClientOfTheHandshakeTestsIsAnsweredWhenItsCertificateIsAllowed() throws Exception {
        assertThat(rawRequest(gateway())).isEqualTo("HTTP/1.1 401 ");
    }

    @Test
    void allowsTheGatewayWithAValidToken() throws Exception {
        HttpResponse<String> response = send(gateway(), get("/orders", gatewayToken("orders:read")));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("orders for spiffe://example.org/gateway");
        assertThat(response.sslSession().orElseThrow().getProtocol()).isEqualTo("TLSv1.3");
        assertThat(audit.withAction(SpringAudit.REQUEST_AUTHENTICATED)).isNotEmpty();
        assertThat(audit.withAction(SpringAudit.SERVER_TLS)).hasSize(1);
    }

    @Test
    void scopesBecomeAuthoritiesForFilterChainRules() throws Exception {
        HttpResponse<String> created = send(gateway(), get("/orders", gatewayToken("orders:write"))
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(created.statusCode()).isEqualTo(200);
        assertThat(created.body()).isEqualTo("created by spiffe://example.org/gateway [orders:write]");

        HttpResponse<String> refused = send(gateway(), get("/orders", gatewayToken("orders:read"))
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).isEmpty();
        assertThat(audit.last(SpringAudit.REQUEST_REFUSED).fields()).containsEntry("reason", "ACCESS_DENIED");
    }

    @Test
    void refusesInsufficientScopeOnPreAuthorize() throws Exception {
        HttpResponse<String> response = send(gateway(), get("/admin", gatewayToken("orders:read", "orders:write")));
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(response.body()).isEmpty();
    }

    @Test
    void refusesAMissingTokenWith401() throws Exception {
        HttpResponse<String> response = send(gateway(), get("/orders", null));
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.body()).isEmpty();
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(audit.last(SpringAudit.REQUEST_REFUSED).fields()).containsEntry("reason", "MISSING_TOKEN");
    }

    @Test
    void refusesAnotherSchemeAndTwoAuthorizationHeaders() throws Exception {
        HttpResponse<String> basic = send(gateway(), get("/orders", null).header("Authorization", "Basic Z3c6cHc="));
        assertThat(basic.statusCode()).isEqualTo(401);
        assertThat(audit.last(SpringAudit.REQUEST_REFUSED).fields()).containsEntry("reason", "MALFORMED_AUTHORIZATION");

        String token = gatewayToken("orders:read");
        HttpResponse<String> twice = send(gateway(), get("/orders", token).header("Authorization", "Bearer " + token));
        assertThat(twice.statusCode()).isEqualTo(401);
        assertThat(twice.body()).isEmpty();
        assertThat(audit.last(SpringAudit.REQUEST_REFUSED).fields()).containsEntry("reason", "MALFORMED_AUTHORIZATION");
    }

    @Test
    void refusesAForgedToken() throws Exception {
        ServiceTokens forger = ServiceTokens.builder().identity("spiffe://example.org/gateway")
                .keys(KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "gw-1")).build()).build();
        String forged = forger.mint(TokenRequest.to(TestZone.API).scopes("orders:read").build());
        HttpResponse<String> response = send(gateway(), get("/orders", forged));
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.body()).isEmpty();
        assertThat(audit.last(SpringAudit.REQUEST_REFUSED).fields()).containsEntry("reason", "BAD_SIGNATURE");
    }

    @Test
    void refusesAnExpiredToken() throws Exception {
        ServiceTokens past = ServiceTokens.builder().identity("spiffe://example.org/gateway").keys(zone.gatewayKeys)
                .clock(Clock.fixed(Instant.now().minus(Duration.ofHours(2)), ZoneOffset.UTC)).build();
        String expired = past.mint(TokenRequest.to(TestZone.API).scopes("orders:read").build());
        HttpResponse<String> response = send(gateway(), get("/orders", expired));
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(audit.last(SpringAudit.REQUEST_REFUSED).fields()).containsEntry("reason", "EXPIRED");
    }

    @Test
    void refusesATokenOfAnotherIdentityThanTheCertificate() throws Exception {
        String workerToken = zone.workerTokens.mint(TokenRequest.to(TestZone.API).scopes("orders:read").build());
        HttpResponse<String> response = send(gateway(), get("/orders", workerToken));
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(response.body()).isEmpty();
        assertThat(audit.last(SpringAudit.REQUEST_REFUSED).fields()).containsEntry("reason", "IDENTITY_MISMATCH");
    }

    @Test
    void checksBoundTokensAgainstTheConnectionsCertificate() throws Exception {
        String bound = zone.gatewayTokens.mint(TokenRequest.to(TestZone.API).scopes("orders:read")
                .boundTo(zone.gateway.certificate()).build());
        assertThat(send(gateway(), get("/orders", bound)).statusCode()).isEqualTo(200);

        IssuedCertificate otherGateway = zone.ca.leaf("gateway").client().issue();
        String boundElsewhere = zone.gatewayTokens.mint(TokenRequest.to(TestZone.API).scopes("orders:read")
                .boundTo(otherGateway.certificate()).build());
        HttpResponse<String> response = send(gateway(), get("/orders", boundElsewhere));
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(audit.last(SpringAudit.REQUEST_REFUSED).fields()).containsEntry("reason", "CERTIFICATE_MISMATCH");
    }

    @Test
    void refusesAClientWithoutCertificate() throws Exception {
        SSLContext anonymous = SSLContext.getInstance("TLSv1.3");
        anonymous.init(null, new javax.net.ssl.TrustManager[] {
            TestZone.client(zone.gateway, zone.ca).build().trustManager()}, null);
        assertRefusedAtHandshake(anonymous);
        assertThat(TestZone.assertRefusalAuditedOnce(audit, "NO_CERTIFICATE").fields())
                .containsEntry("remote", "unknown"); // Tomcat creates engines without the peer's address
    }

    @Test
    void refusesACertificateFromAnotherCa() {
        DevCertificateAuthority other = DevCertificateAuthority.create(TestZone.DOMAIN);
        IssuedCertificate impostor = other.leaf("gateway").client().issue();
        int refusedBefore = audit.withAction(CoreAudit.PEER_REFUSED).size();
        assertRefusedAtHandshake(TestZone.client(impostor, zone.ca).build().sslContext());
        assertThat(audit.withAction(CoreAudit.PEER_REFUSED)).hasSizeGreaterThan(refusedBefore);
    }

    @Test
    void refusesAnIdentityThePolicyDisallows() {
        int refusedBefore = audit.withAction(CoreAudit.PEER_REFUSED).size();
        assertRefusedAtHandshake(TestZone.client(zone.worker, zone.ca).build().sslContext());
        assertThat(audit.withAction(CoreAudit.PEER_REFUSED)).hasSizeGreaterThan(refusedBefore);
        assertThat(audit.last(CoreAudit.PEER_REFUSED).fields()).containsValue("spiffe://example.org/worker");
    }

    @Test
    void refusesTls12Client() {
        assertRefusedAtHandshake(TestZone.client(zone.gateway, zone.ca).allowTls12().build().sslContext(), "TLSv1.2");
        assertThat(TestZone.assertRefusalAuditedOnce(audit, "PROTOCOL_VERSION").fields())
                .containsEntry("remote", "unknown"); // Tomcat creates engines without the peer's address
    }

    @Test
    void servesARotatedCertificateWithoutRestartWhileRequestsGoOn() throws Exception {
        X509Certificate before = served();
        AtomicBoolean rotating = new AtomicBoolean(true);
        List<Integer> statuses = new ArrayList<>();
        Thread load = new Thread(() -> {
            for (int i = 0; i < 200 && rotating.get(); i++) {
                try {
                    statuses.add(send(gateway(), get("/orders", gatewayToken("orders:read"))).statusCode());
                } catch (Exception e) {
                    statuses.add(-1);
                }
            }
        });
        load.start();
        IssuedCertificate renewed = zone.issueApi();
        X509Certificate after = before;
        for (int i = 0; i < 100 && after.equals(before); i++) {
            Thread.sleep(100);
            after = served();
        }
        rotating.set(false);
        load.join();
        assertThat(after).isEqualTo(renewed.certificate()).isNotEqualTo(before);
        assertThat(statuses).isNotEmpty().containsOnly(200);
        X509Certificate inBundle = (X509Certificate) app.getBean(SslBundles.class).getBundle("zerotrust")
                .getStores().getKeyStore().getCertificate("zerotrust");
        assertThat(inBundle).isEqualTo(renewed.certificate());
    }

    @Test
    void servesTheCertificatesHealthOverMutualTlsToAuthenticatedCallersOnly() throws Exception {
        HttpResponse<String> health = send(gateway(), get("/actuator/health/zerotrust", gatewayToken("orders:read")));
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"status\":\"UP\"", "\"identity\":\"spiffe://example.org/api\"",
                "\"daysLeft\":0", "\"renewalDue\":false").doesNotContain("BEGIN", certs.toString());
        assertThat(send(gateway(), get("/actuator/health/zerotrust", null)).statusCode()).isEqualTo(401);
    }

    private static X509Certificate served() throws Exception {
        HttpResponse<String> response = send(gateway(), get("/orders", gatewayToken("orders:read")));
        assertThat(response.statusCode()).isEqualTo(200);
        return (X509Certificate) response.sslSession().orElseThrow().getPeerCertificates()[0];
    }

}
