package io.settler.zerotrust.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.settler.zerotrust.spring.replay.ReplayCheckedApplication;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.token.TokenRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The WebFlux filter never waits on the event loop: a token only a replay guard that may block has
 * left to check is checked on Reactor's bounded elastic scheduler, and a replay is still refused.
 */
class ZeroTrustReactiveReplayTest {

    @TempDir
    Path certs;

    @Test
    void asksABlockingReplayGuardOffTheEventLoopAndStillRefusesAReplay() throws Exception {
        TestZone zone = new TestZone(certs);
        try (ConfigurableApplicationContext app = ZeroTrustReactiveServerTest.run(zone,
                ReplayCheckedApplication.class)) {
            int port = ((WebServerApplicationContext) app).getWebServer().getPort();
            HttpClient http = HttpClient.newBuilder()
                    .sslContext(TestZone.client(zone.gateway, zone.ca).build().sslContext()).build();
            String token = zone.gatewayTokens.mint(TokenRequest.to(TestZone.API).scopes("orders:read").build());
            HttpRequest hello = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/hello"))
                    .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).build();

            HttpResponse<String> first = http.send(hello, HttpResponse.BodyHandlers.ofString());
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.body()).isEqualTo("hello");

            HttpResponse<String> replayed = http.send(hello, HttpResponse.BodyHandlers.ofString());
            assertThat(replayed.statusCode()).isEqualTo(401);
            assertThat(replayed.body()).isEmpty();
            assertThat(app.getBean(RecordingAuditLog.class).last(SpringAudit.REQUEST_REFUSED).fields())
                    .containsEntry("reason", "REPLAYED");

            ReplayCheckedApplication.RecordingReplayGuard guard =
                    app.getBean(ReplayCheckedApplication.RecordingReplayGuard.class);
            assertThat(guard.threads()).hasSize(2)
                    .allSatisfy(thread -> assertThat(thread).startsWith("boundedElastic"));
        }
    }
}
