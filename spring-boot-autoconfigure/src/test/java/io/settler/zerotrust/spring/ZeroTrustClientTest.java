package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.audit.CoreAudit;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenSource;
import io.settler.zerotrust.trust.PeerVerificationException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.restclient.RestTemplateBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;

/**
 * The api as a Boot application calling the stock service (a real mutual-TLS server) through the
 * clients of {@code zerotrust.clients}: one application for the whole class, plus a server that
 * presents another identity than stock's.
 */
class ZeroTrustClientTest {

    @TempDir
    static Path certs;

    private static TestZone zone;
    private static final KeySet API_KEYS = KeySet.builder()
            .signingKey(TokenKey.generate(TokenAlgorithm.ES256, "api-1")).build();
    private static StockServer stock;
    private static StockServer impostor;
    private static ConfigurableApplicationContext app;
    private static ZeroTrustClients clients;
    private static RecordingAuditLog audit;

    /** The api's beans: the library's, its clients, its token source and a recording audit log. */
    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration({SslAutoConfiguration.class, ZeroTrustAutoConfiguration.class,
            ZeroTrustClientAutoConfiguration.class})
    static class Api {

        @Bean
        RecordingAuditLog auditLog() {
            return RecordingAuditLog.logging();
        }

        @Bean
        TokenSource tokenSource() {
            return TokenSource.builder(ServiceTokens.builder().identity(TestZone.API).keys(API_KEYS).build()).build();
        }
    }

    @BeforeAll
    static void start() {
        zone = new TestZone(certs);
        ServiceTokens verifier = ServiceTokens.builder().identity("spiffe://example.org/stock")
                .verificationKeys(API_KEYS.pinnedTo(TestZone.API)).trustIssuers(TestZone.API).build();
        stock = new StockServer(zone, serverCertificate("stock"), verifier);
        impostor = new StockServer(zone, serverCertificate("worker"), verifier);
        Map<String, Object> properties = zone.properties();
        properties.put("zerotrust.clients.stock.base-url", stock.url());
        properties.put("zerotrust.clients.stock.audience", "stock");
        properties.put("zerotrust.clients.stock.scopes", "stock:read");
        properties.put("zerotrust.clients.impostor.base-url", impostor.url());
        properties.put("zerotrust.clients.impostor.audience", "stock");
        app = new SpringApplicationBuilder(Api.class).web(WebApplicationType.NONE).properties(properties).run();
        clients = app.getBean(ZeroTrustClients.class);
        audit = app.getBean(RecordingAuditLog.class);
    }

    private static IssuedCertificate serverCertificate(String service) {
        return zone.ca.leaf(service).server().ipAddresses("127.0.0.1").issue();
    }

    @AfterAll
    static void stop() {
        app.close();
        stock.close();
        impostor.close();
    }

    private static RestClient stockClient() {
        return clients.client("stock").restClient().build();
    }

    private static String getStock() {
        return stockClient().get().uri("/stock").retrieve().body(String.class);
    }

    @Test
    void callsTheServerOverMutualTlsWithAScopedToken() {
        assertThat(getStock()).isEqualTo("stock for spiffe://example.org/api [stock:read]");
        assertThat(clients.names()).containsExactly("impostor", "stock");
        assertThat(clients.client("stock").audience()).hasToString("spiffe://example.org/stock");
    }

    @Test
    void restTemplatesCallTheSameWay() {
        assertThat(clients.client("stock").restTemplate().getForObject("/stock", String.class))
                .isEqualTo("stock for spiffe://example.org/api [stock:read]");
        assertThat(clients.client("stock").restTemplate(new RestTemplateBuilder()).build()
                .getForObject("/stock", String.class)).isEqualTo("stock for spiffe://example.org/api [stock:read]");
    }

    @Test
    void refusesAServerOfAnotherIdentityFromTheSameCa() {
        int refusedBefore = audit.withAction(CoreAudit.PEER_REFUSED).size();
        RestClient client = clients.client("impostor").restClient().build();
        assertThatThrownBy(() -> client.get().uri("/stock").retrieve().body(String.class))
                .isInstanceOf(ResourceAccessException.class).hasRootCauseInstanceOf(PeerVerificationException.class);
        assertThat(impostor.clientCertificates).isEmpty();
        assertThat(audit.withAction(CoreAudit.PEER_REFUSED)).hasSizeGreaterThan(refusedBefore);
        assertThat(audit.last(CoreAudit.PEER_REFUSED).fields()).containsEntry("reason", "NAME_MISMATCH")
                .containsEntry("role", "server");
    }

    @Test
    void refusesAPlaintextUrlBeforeSendingAnything() {
        int seen = stock.clientCertificates.size();
        assertThatThrownBy(() -> stockClient().get().uri(stock.url().replace("https:", "http:") + "/stock")
                .retrieve().body(String.class))
                .isInstanceOf(ResourceAccessException.class).hasCauseInstanceOf(ZeroTrustClientException.class);
        assertThat(stock.clientCertificates).hasSize(seen);
        assertThat(audit.last(SpringAudit.CLIENT_REFUSED).fields()).containsEntry("client", "stock")
                .containsEntry("reason", "PLAINTEXT_URL");
    }

    @Test
    void requestsAfterARotationPresentTheNewCertificate() throws Exception {
        X509Certificate before = presented();
        assertThat(presented()).as("a pooled connection").isEqualTo(before);
        IssuedCertificate renewed = zone.issueApi();
        X509Certificate after = before;
        for (int i = 0; i < 100 && after.equals(before); i++) {
            Thread.sleep(100); // the files are watched: the rotation comes within a second or two
            after = presented();
        }
        assertThat(after).isEqualTo(renewed.certificate()).isNotEqualTo(before);
        assertThat(presented()).isEqualTo(renewed.certificate());
        assertThat(audit.withAction(CoreAudit.CREDENTIALS_ROTATED)).isNotEmpty();
    }

    /** The client certificate of a successful request as the server saw it. */
    private static X509Certificate presented() {
        assertThat(getStock()).startsWith("stock for");
        return stock.clientCertificates.get(stock.clientCertificates.size() - 1);
    }

    @Test
    void refusesAPlaintextBaseUrlAtStartup() {
        assertThat(refusedClients(Map.of("zerotrust.clients.stock.base-url", "http://127.0.0.1:8080",
                "zerotrust.clients.stock.audience", "stock")))
                .satisfies(refusal -> assertThat(refusal.reason())
                        .isEqualTo(ZeroTrustConfigurationException.Reason.PLAINTEXT_CLIENT))
                .satisfies(refusal -> assertThat(refusal.setting()).isEqualTo("zerotrust.clients.stock.base-url"));
    }

    @Test
    void refusesAnAudienceThePolicyDoesNotKnowAtStartup() {
        assertThat(refusedClients(Map.of("zerotrust.clients.stock.base-url", "https://127.0.0.1:8443",
                "zerotrust.clients.stock.audience", "stocks")).reason())
                .isEqualTo(ZeroTrustConfigurationException.Reason.UNKNOWN_SERVICE);
    }

    @Test
    void refusesClientsWithoutATokenSourceAtStartup() {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        zone.runner(Map.of("zerotrust.clients.stock.base-url", "https://127.0.0.1:8443",
                        "zerotrust.clients.stock.audience", "stock"))
                .withBean(RecordingAuditLog.class, RecordingAuditLog::new)
                .run(context -> failure.set(context.getStartupFailure()));
        ZeroTrustConfigurationException refusal = ZeroTrustStartupTest.refusal(failure.get());
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.MISSING_SETTING);
        assertThat(refusal.getMessage()).contains("TokenSource");
    }

    private static ZeroTrustConfigurationException refusedClients(Map<String, String> changes) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        zone.runner(changes).withBean(RecordingAuditLog.class, RecordingAuditLog::new)
                .withBean(TokenSource.class, () -> new Api().tokenSource())
                .run(context -> failure.set(context.getStartupFailure()));
        return ZeroTrustStartupTest.refusal(failure.get());
    }
}
