package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.audit.CoreAudit;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.MutableClock;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenSource;
import io.settler.zerotrust.trust.PeerVerificationException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;

/**
 * The api as a Boot application calling the stock service (a real mutual-TLS server) through the
 * {@code WebClient}s of {@code zerotrust.clients} (Reactor Netty on netty-mtls's SslContext): one
 * application for the whole class, plus a server that presents another identity than stock's and
 * one whose certificate comes from another CA. The api's tokens and stock's verifier share a
 * clock the tests move, to see a token reused and renewed.
 */
class ZeroTrustWebClientTest {

    @TempDir
    static Path certs;

    private static final MutableClock CLOCK = new MutableClock();
    private static final KeySet API_KEYS = KeySet.builder()
            .signingKey(TokenKey.generate(TokenAlgorithm.ES256, "api-1")).build();
    private static final String STOCK_FOR_API = "stock for spiffe://example.org/api [stock:read]";
    private static TestZone zone;
    private static StockServer stock;
    private static StockServer impostor;
    private static StockServer foreign;
    private static ConfigurableApplicationContext app;
    private static ZeroTrustClients clients;
    private static RecordingAuditLog audit;

    /** The api's beans: the library's, its clients, its token source on the tests' clock and a recording audit log. */
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
            return TokenSource.builder(ServiceTokens.builder().identity(TestZone.API).keys(API_KEYS).clock(CLOCK)
                    .build()).build();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        zone = new TestZone(certs);
        TestZone other = new TestZone(Files.createDirectories(certs.resolve("other-ca")));
        ServiceTokens verifier = ServiceTokens.builder().identity("spiffe://example.org/stock").clock(CLOCK)
                .verificationKeys(API_KEYS.pinnedTo(TestZone.API)).trustIssuers(TestZone.API).build();
        stock = new StockServer(zone, serverCertificate(zone, "stock"), verifier);
        impostor = new StockServer(zone, serverCertificate(zone, "worker"), verifier);
        foreign = new StockServer(other, serverCertificate(other, "stock"), verifier);
        Map<String, Object> properties = zone.properties();
        properties.put("zerotrust.clients.stock.base-url", stock.url());
        properties.put("zerotrust.clients.stock.audience", "stock");
        properties.put("zerotrust.clients.stock.scopes", "stock:read");
        properties.put("zerotrust.clients.impostor.base-url", impostor.url());
        properties.put("zerotrust.clients.impostor.audience", "stock");
        properties.put("zerotrust.clients.foreign.base-url", foreign.url());
        properties.put("zerotrust.clients.foreign.audience", "stock");
        app = new SpringApplicationBuilder(Api.class).web(WebApplicationType.NONE).properties(properties).run();
        clients = app.getBean(ZeroTrustClients.class);
        audit = app.getBean(RecordingAuditLog.class);
    }

    private static IssuedCertificate serverCertificate(TestZone zone, String service) {
        return zone.ca.leaf(service).server().ipAddresses("127.0.0.1").issue();
    }

    @AfterAll
    static void stop() {
        app.close();
        stock.close();
        impostor.close();
        foreign.close();
    }

    private static WebClient stockClient() {
        return clients.client("stock").webClient().build();
    }

    private static String getStock() {
        return stockClient().get().uri("/stock").retrieve().bodyToMono(String.class).block();
    }

    @Test
    void callsTheServerOverMutualTlsWithAScopedToken() {
        assertThat(getStock()).isEqualTo(STOCK_FOR_API);
        X509Certificate presented = stock.clientCertificates.get(stock.clientCertificates.size() - 1);
        assertThat(ServiceIdentity.fromCertificate(presented)).hasValueSatisfying(identity ->
                assertThat(identity).hasToString(TestZone.API));
        assertThat(stock.tokens.get(stock.tokens.size() - 1)).startsWith("Bearer ey");
    }

    @Test
    void theConnectorAndFilterWorkOnABuilderOfTheApplications() {
        ZeroTrustClient client = clients.client("stock");
        assertThat(client.customizeWebClient(WebClient.builder()).build().get().uri("/stock").retrieve()
                .bodyToMono(String.class).block()).isEqualTo(STOCK_FOR_API);
        assertThat(WebClient.builder().baseUrl(stock.url()).clientConnector(client.webClientConnector())
                .filter(client.exchangeFilter()).build().get().uri("/stock").retrieve().bodyToMono(String.class)
                .block()).isEqualTo(STOCK_FOR_API);
    }

    @Test
    void followsNoRedirect() {
        int requests = stock.tokens.size();
        assertThat(stockClient().get().uri("/moved").retrieve().toBodilessEntity().block().getStatusCode().value())
                .isEqualTo(302);
        assertThat(stock.tokens).hasSize(requests + 1);
    }

    @Test
    void reusesTheTokenUntilItIsDueThenRenewsIt() {
        getStock();
        String first = lastToken();
        assertThat(getStock()).isEqualTo(STOCK_FOR_API);
        assertThat(lastToken()).as("reused").isEqualTo(first);
        CLOCK.advance(Duration.ofMinutes(4).plusSeconds(1)); // past 80 % of the default 5 minutes
        assertThat(getStock()).isEqualTo(STOCK_FOR_API);
        String renewed = lastToken();
        assertThat(renewed).as("renewed").isNotEqualTo(first);
        assertThat(getStock()).isEqualTo(STOCK_FOR_API);
        assertThat(lastToken()).as("the renewed one reused").isEqualTo(renewed);
    }

    private static String lastToken() {
        return stock.tokens.get(stock.tokens.size() - 1);
    }

    @Test
    void refusesAServerOfAnotherIdentityFromTheSameCa() {
        int refusedBefore = audit.withAction(CoreAudit.PEER_REFUSED).size();
        WebClient client = clients.client("impostor").webClient().build();
        assertThatThrownBy(() -> client.get().uri("/stock").retrieve().bodyToMono(String.class).block())
                .isInstanceOf(WebClientRequestException.class)
                .hasRootCauseInstanceOf(PeerVerificationException.class);
        assertThat(impostor.clientCertificates).isEmpty();
        assertThat(impostor.tokens).isEmpty();
        assertThat(audit.withAction(CoreAudit.PEER_REFUSED)).hasSizeGreaterThan(refusedBefore);
        assertThat(audit.last(CoreAudit.PEER_REFUSED).fields()).containsEntry("reason", "NAME_MISMATCH")
                .containsEntry("role", "server");
    }

    @Test
    void refusesAServerOfAnotherCa() {
        int refusedBefore = audit.withAction(CoreAudit.PEER_REFUSED).size();
        WebClient client = clients.client("foreign").webClient().build();
        assertThatThrownBy(() -> client.get().uri("/stock").retrieve().bodyToMono(String.class).block())
                .isInstanceOf(WebClientRequestException.class)
                .hasRootCauseInstanceOf(PeerVerificationException.class);
        assertThat(foreign.clientCertificates).isEmpty();
        assertThat(foreign.tokens).isEmpty();
        assertThat(audit.withAction(CoreAudit.PEER_REFUSED)).hasSizeGreaterThan(refusedBefore);
        assertThat(audit.last(CoreAudit.PEER_REFUSED).fields()).containsEntry("role", "server")
                .doesNotContainEntry("reason", "NAME_MISMATCH");
    }

    @Test
    void refusesAPlaintextUrlBeforeSendingAnything() {
        int seen = stock.clientCertificates.size();
        int tokens = stock.tokens.size();
        assertThatThrownBy(() -> stockClient().get().uri(stock.url().replace("https:", "http:") + "/stock")
                .retrieve().bodyToMono(String.class).block())
                .isInstanceOf(WebClientRequestException.class).hasCauseInstanceOf(ZeroTrustClientException.class);
        assertThat(stock.clientCertificates).hasSize(seen);
        assertThat(stock.tokens).hasSize(tokens);
        assertThat(audit.last(SpringAudit.CLIENT_REFUSED).fields()).containsEntry("client", "stock")
                .containsEntry("reason", "PLAINTEXT_URL");
    }

    @Test
    void requestsAfterARotationPresentTheNewCertificateWithNoRequestFailingMeanwhile() throws Exception {
        WebClient client = stockClient();
        X509Certificate before = presented(client);
        assertThat(presented(client)).as("a pooled connection").isEqualTo(before);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger served = new AtomicInteger();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> callers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Thread caller = new Thread(() -> {
                while (running.get()) {
                    try {
                        String body = client.get().uri("/stock").retrieve().bodyToMono(String.class).block();
                        if (STOCK_FOR_API.equals(body)) {
                            served.incrementAndGet();
                        } else {
                            failures.add(new AssertionError("answered " + body));
                        }
                    } catch (RuntimeException e) {
                        failures.add(e);
                    }
                }
            }, "caller-" + i);
            caller.start();
            callers.add(caller);
        }
        IssuedCertificate renewed = zone.issueApi();
        try {
            for (int i = 0; i < 100 && !stock.clientCertificates.contains(renewed.certificate()); i++) {
                Thread.sleep(100); // the files are watched: the rotation comes within a second or two
            }
            int servedAtRotation = served.get();
            for (int i = 0; i < 100 && served.get() < servedAtRotation + 10; i++) {
                Thread.sleep(20); // and requests keep running on the new certificate
            }
        } finally {
            running.set(false);
            for (Thread caller : callers) {
                caller.join();
            }
        }
        assertThat(failures).as("failed requests").isEmpty();
        assertThat(served.get()).isPositive();
        assertThat(stock.clientCertificates).contains(renewed.certificate());
        assertThat(presented(client)).isEqualTo(renewed.certificate()).isNotEqualTo(before);
        assertThat(presented(client)).as("pooled, on the new certificate").isEqualTo(renewed.certificate());
        assertThat(audit.withAction(CoreAudit.CREDENTIALS_ROTATED)).isNotEmpty();
    }

    /** The client certificate of a successful request as the server saw it. */
    private static X509Certificate presented(WebClient client) {
        assertThat(client.get().uri("/stock").retrieve().bodyToMono(String.class).block()).isEqualTo(STOCK_FOR_API);
        return stock.clientCertificates.get(stock.clientCertificates.size() - 1);
    }

    @Test
    void withoutWebFluxTheClientsWorkAndOnlyTheWebClientIsMissing() {
        AtomicReference<ZeroTrustClient> client = new AtomicReference<>();
        zone.runner(Map.of("zerotrust.clients.stock.base-url", stock.url(), "zerotrust.clients.stock.audience", "stock",
                        "zerotrust.clients.stock.scopes", "stock:read"))
                .withClassLoader(new FilteredClassLoader(WebClient.class))
                .withBean(RecordingAuditLog.class, RecordingAuditLog::new)
                .withBean(TokenSource.class, () -> new Api().tokenSource())
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    client.set(context.getBean(ZeroTrustClients.class).client("stock"));
                    assertThat(client.get().restClient().build().get().uri("/stock").retrieve().body(String.class))
                            .isEqualTo(STOCK_FOR_API);
                });
        assertThatThrownBy(() -> client.get().webClient()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("spring-webflux");
    }
}
