package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.spring.headers.TrimmedHeadersApplication;
import io.settler.zerotrust.spring.plain.PlainApplication;
import io.settler.zerotrust.spring.sessions.SessionfulApplication;
import io.settler.zerotrust.token.TokenRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * An application without a security configuration of its own gets the starter's: a token on every request,
 * with Spring Security's default response headers. One with a chain of its own keeps the token check.
 */
class ZeroTrustDefaultChainTest {

    /** Spring Security's default headers that only a browser acts on (HSTS: on a TLS request). */
    private static final String[] BROWSER_HEADERS = {"x-content-type-options", "x-xss-protection", "x-frame-options",
        "strict-transport-security"};
    /** Its cache headers, which a caching client or proxy obeys too. */
    private static final String[] CACHE_HEADERS = {"cache-control", "pragma", "expires"};

    @TempDir
    Path certs;

    @Test
    void theDefaultChainNeedsATokenOnEveryRequest() throws Exception {
        TestZone zone = new TestZone(certs);
        try (ConfigurableApplicationContext app = start(PlainApplication.class, zone)) {
            HttpResponse<String> allowed = hello(app, zone, "Authorization", "Bearer " + token(zone));
            assertThat(allowed.statusCode()).isEqualTo(200);
            assertThat(allowed.body()).isEqualTo("hello");
            assertThat(allowed.headers().firstValue("Set-Cookie")).as("stateless: no session").isEmpty();
            assertThat(allowed.headers().map()).as("Spring Security's default headers are kept")
                    .containsKeys(BROWSER_HEADERS).containsKeys(CACHE_HEADERS);

            HttpResponse<String> refused = hello(app, zone);
            assertThat(refused.statusCode()).isEqualTo(401);
            assertThat(refused.body()).isEmpty();
            assertThat(refused.headers().firstValue("Set-Cookie")).as("stateless: no session").isEmpty();
        }
    }

    @Test
    void aSessionCookieNeverStandsInForTheTokenEvenWhenTheApplicationTurnsSessionsOn() throws Exception {
        TestZone zone = new TestZone(certs);
        try (ConfigurableApplicationContext app = start(SessionfulApplication.class, zone)) {
            HttpResponse<String> allowed = hello(app, zone, "Authorization", "Bearer " + token(zone));
            assertThat(allowed.statusCode()).isEqualTo(200);
            String cookie = allowed.headers().firstValue("Set-Cookie").orElseThrow(() -> new AssertionError(
                    "the application's chain turned sessions on, so the first answer carries one"));

            HttpResponse<String> cookieOnly = hello(app, zone, "Cookie", cookie.substring(0, cookie.indexOf(';')));
            assertThat(cookieOnly.statusCode()).as("the session's authentication is not reused").isEqualTo(401);
            assertThat(cookieOnly.body()).isEmpty();
        }
    }

    @Test
    void thereIsNoLogoutToAnswerForTheApplication() throws Exception {
        TestZone zone = new TestZone(certs);
        try (ConfigurableApplicationContext app = start(PlainApplication.class, zone)) {
            HttpResponse<String> anonymous = send(app, zone, "POST", "/logout");
            assertThat(anonymous.statusCode()).as("refused like any request without a token, not redirected")
                    .isEqualTo(401);
            assertThat(anonymous.headers().firstValue("Location")).isEmpty();

            HttpResponse<String> caller = send(app, zone, "POST", "/logout", "Authorization", "Bearer " + token(zone));
            assertThat(caller.statusCode()).as("the application's, which maps no /logout").isEqualTo(404);
        }
    }

    @Test
    void anApplicationChainMayKeepOnlyTheCacheHeadersAndStillNeedsTokens() throws Exception {
        TestZone zone = new TestZone(certs);
        try (ConfigurableApplicationContext app = start(TrimmedHeadersApplication.class, zone)) {
            HttpResponse<String> allowed = hello(app, zone, "Authorization", "Bearer " + token(zone));
            assertThat(allowed.statusCode()).isEqualTo(200);
            assertThat(allowed.headers().map()).containsKeys(CACHE_HEADERS).doesNotContainKeys(BROWSER_HEADERS);
            assertThat(hello(app, zone).statusCode()).as("no token").isEqualTo(401);
        }
    }

    private static ConfigurableApplicationContext start(Class<?> application, TestZone zone) {
        SpringApplication spring = new SpringApplication(application);
        spring.setDefaultProperties(zone.properties());
        return spring.run();
    }

    private static String token(TestZone zone) {
        return zone.gatewayTokens.mint(TokenRequest.to(TestZone.API).scopes("orders:read").build());
    }

    /** {@code GET /hello} as the gateway, over mutual TLS, with the headers given as name, value pairs. */
    private static HttpResponse<String> hello(ConfigurableApplicationContext app, TestZone zone, String... headers)
            throws Exception {
        return send(app, zone, "GET", "/hello", headers);
    }

    private static HttpResponse<String> send(ConfigurableApplicationContext app, TestZone zone, String method,
                                             String path, String... headers) throws Exception {
        int port = ((WebServerApplicationContext) app).getWebServer().getPort();
        HttpClient http = HttpClient.newBuilder()
                .sslContext(TestZone.client(zone.gateway, zone.ca).build().sslContext()).build();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
