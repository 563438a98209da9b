package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.settler.zerotrust.spring.plain.PlainApplication;
import io.settler.zerotrust.token.TokenRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.security.core.userdetails.ReactiveUserDetailsService;

/**
 * A WebFlux application without a security configuration of its own gets the starter's (a token on
 * every exchange); {@code server.ssl.*} and a reactive server the starter does not secure stop the
 * start.
 */
class ZeroTrustReactiveDefaultChainTest {

    @TempDir
    Path certs;

    @Test
    void theDefaultChainNeedsATokenOnEveryExchange() throws Exception {
        TestZone zone = new TestZone(certs);
        try (ConfigurableApplicationContext app = ZeroTrustReactiveServerTest.run(zone, PlainApplication.class)) {
            assertThat(app.getBeanProvider(ReactiveUserDetailsService.class).getIfAvailable())
                    .as("no generated in-memory user").isNull();
            int port = ((WebServerApplicationContext) app).getWebServer().getPort();
            HttpClient http = HttpClient.newBuilder()
                    .sslContext(TestZone.client(zone.gateway, zone.ca).build().sslContext()).build();
            HttpRequest.Builder hello = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/hello"))
                    .timeout(Duration.ofSeconds(10));
            String token = zone.gatewayTokens.mint(TokenRequest.to(TestZone.API).scopes("orders:read").build());

            HttpResponse<String> allowed = http.send(hello.copy().header("Authorization", "Bearer " + token).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(allowed.statusCode()).isEqualTo(200);
            assertThat(allowed.body()).isEqualTo("hello");

            HttpResponse<String> refused = http.send(hello.copy().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(401);
            assertThat(refused.body()).isEmpty();
            assertThat(refused.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
            assertThat(refused.headers().firstValue("Set-Cookie")).as("stateless: no session").isEmpty();
        }
    }

    @Test
    void refusesServerSslSettingsAsForTomcat() {
        TestZone zone = new TestZone(certs);
        Throwable failure = catchThrowable(() -> ZeroTrustReactiveServerTest.run(zone, PlainApplication.class,
                ZeroTrustReactiveServerTest.NO_TOMCAT, Map.of("server.ssl.client-auth", "want")).close());
        ZeroTrustConfigurationException refusal = ZeroTrustStartupTest.refusal(failure);
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.CLIENT_AUTH_NOT_REQUIRED);
        assertThat(refusal.setting()).isEqualTo("server.ssl.client-auth");
    }

    @Test
    void refusesAReactiveServerItDoesNotSecure() {
        TestZone zone = new TestZone(certs);
        Throwable failure = catchThrowable(() -> ZeroTrustReactiveServerTest.run(zone, PlainApplication.class,
                "org.springframework.boot.reactor.netty.autoconfigure.NettyReactiveWebServerAutoConfiguration",
                Map.of()).close());
        ZeroTrustConfigurationException refusal = ZeroTrustStartupTest.refusal(failure);
        assertThat(refusal.reason()).isEqualTo(ZeroTrustConfigurationException.Reason.PLAINTEXT_SERVER);
        assertThat(refusal.getMessage()).contains("Tomcat", "not a server the starter has put on mutual TLS");
    }
}
