package io.settler.zerotrust.examples.webhook;

import static io.settler.zerotrust.testkit.RecordingAuditLog.field;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.FileCredentialSource;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.examples.Deployment;
import io.settler.zerotrust.examples.LocalZone;
import io.settler.zerotrust.netty.MtlsHttpClient;
import io.settler.zerotrust.netty.NettyMtls;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The webhook service and the receiver against a real {@link LocalZone} deployment: only the
 * worker's certificate with a token bound to it and carrying webhook:send gets a payload delivered,
 * signed, to the receiver.
 */
class WebhookServiceTest {

    @TempDir
    static Path directory;
    static LocalZone zone;
    static Deployment deployment;
    static WebhookReceiver receiver;
    static WebhookService webhook;
    static ServiceTokens worker;
    static FileCredentialSource workerCredentials;
    static final RecordingAuditLog audit = RecordingAuditLog.logging();

    @BeforeAll
    static void start() {
        zone = LocalZone.start(directory, line -> { });
        receiver = WebhookReceiver.start(zone.deployment());
        deployment = zone.deployment().withEndpoint("receiver.url", receiver.url())
                .withAuditLog(audit);
        // The test plays the worker: it publishes its token keys as the worker does at start.
        worker = ServiceTokens.builder().identity(deployment.identity("worker"))
                .keys(deployment.newTokenKeys("worker")).build();
        webhook = WebhookService.start(deployment);
        workerCredentials = deployment.credentials("worker");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable running : new AutoCloseable[] {workerCredentials, webhook, receiver, zone}) {
            try {
                if (running != null) {
                    running.close();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void deliversTheWorkersEventSignedToTheReceiver() throws Exception {
        String body = "{\"tenant\":\"tenant-a\",\"orderId\":7,\"event\":\"order.processed\"}";
        int before = receiver.deliveries().size();

        MtlsHttpClient.Response response = post(workerCredentials, body, "Bearer " + boundToken(workerCertificate()));

        assertThat(response.status()).isEqualTo(202);
        assertThat(receiver.deliveries()).hasSize(before + 1).last().isEqualTo(body);
    }

    @Test
    void refusesAnotherIdentitysCertificateInTheHandshake() throws Exception {
        int before = receiver.deliveries().size();
        try (FileCredentialSource api = deployment.credentials("api")) {
            // A token cannot help: the api's certificate never gets past the handshake.
            assertThatThrownBy(() -> post(api, "{}", "Bearer " + boundToken(workerCertificate())))
                    .isInstanceOf(CompletionException.class);
        }
        audit.await("peer.refused", field("reason", "NOT_AUTHORIZED"), Duration.ofSeconds(5));
        assertThat(receiver.deliveries()).hasSize(before);
    }

    @Test
    void refusesRequestWithoutTokenWith401() {
        assertThat(post(workerCredentials, "{}", null).status()).isEqualTo(401);
    }

    @Test
    void refusesTokenWithoutWebhookSendWith403() {
        String token = worker.mint(TokenRequest.to(deployment.identity("webhook")).scopes("db:write")
                .boundTo(workerCertificate()).build());
        assertThat(post(workerCredentials, "{}", "Bearer " + token).status()).isEqualTo(403);
    }

    @Test
    void refusesUnboundTokenBecauseTheWebhookRequiresBinding() throws Exception {
        String unbound = worker.mint(deployment.identity("webhook"), List.of(WebhookService.SCOPE));
        assertThat(post(workerCredentials, "{}", "Bearer " + unbound).status()).isEqualTo(403);
        audit.await("request.refused", field("reason", "CERTIFICATE_MISMATCH"), Duration.ofSeconds(5));
    }

    @Test
    void refusesTokenBoundToAnotherCertificate() {
        X509Certificate another = zone.certificateAuthority().leaf("worker").serverAndClient().issue().certificate();
        assertThat(post(workerCredentials, "{}", "Bearer " + boundToken(another)).status()).isEqualTo(403);
    }

    @Test
    void refusesBodyThatIsNotAJsonObjectWith400() {
        int before = receiver.deliveries().size();
        assertThat(post(workerCredentials, "not json", "Bearer " + boundToken(workerCertificate())).status())
                .isEqualTo(400);
        assertThat(receiver.deliveries()).hasSize(before);
    }

    @Test
    @SuppressWarnings("try") // closes the receiver early on purpose
    void answers502WhenTheReceiverCannotBeReached() {
        try (WebhookReceiver gone = WebhookReceiver.start(deployment)) {
            Deployment unreachable = deployment.withEndpoint("receiver.url", gone.url());
            gone.close();
            WebhookService service = WebhookService.start(unreachable);
            try {
                assertThat(post(workerCredentials, service.port(), "{}", "Bearer " + boundToken(workerCertificate()))
                        .status()).isEqualTo(502);
            } finally {
                service.close();
                service.close(); // idempotent
            }
        }
    }

    @Test
    void refusesToStartWithAPlaintextReceiverUrl() {
        assertThatThrownBy(
                () -> WebhookService.start(deployment.withEndpoint("receiver.url", "http://127.0.0.1:9/hooks")))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("https");
    }

    @Test
    void receiverRejectsUnsignedTamperedAndForeignSignedPayloads() throws Exception {
        byte[] body = "{\"tenant\":\"tenant-a\",\"orderId\":8,\"event\":\"order.processed\"}"
                .getBytes(StandardCharsets.UTF_8);
        byte[] tampered = "{\"tenant\":\"tenant-b\",\"orderId\":8,\"event\":\"order.processed\"}"
                .getBytes(StandardCharsets.UTF_8);
        WebhookSignature sharedSecret = WebhookSignature.of(Clock.systemUTC(), deployment.webhookSigningSecret());
        WebhookSignature otherSecret = WebhookSignature.of(Clock.systemUTC(), new byte[32]);
        int rejected = receiver.rejected();
        int delivered = receiver.deliveries().size();

        assertThat(postToReceiver(body, null)).as("unsigned").isEqualTo(401);
        assertThat(postToReceiver(tampered, sharedSecret.sign(body))).as("tampered").isEqualTo(401);
        assertThat(postToReceiver(body, otherSecret.sign(body))).as("another secret").isEqualTo(401);
        assertThat(receiver.rejected()).isEqualTo(rejected + 3);
        assertThat(receiver.deliveries()).hasSize(delivered);

        assertThat(postToReceiver(body, sharedSecret.sign(body))).as("correctly signed").isEqualTo(204);
        assertThat(receiver.deliveries()).hasSize(delivered + 1);
    }

    private static X509Certificate workerCertificate() {
        return workerCredentials.current().identity().certificate();
    }

    private static String boundToken(X509Certificate certificate) {
        return worker.mint(TokenRequest.to(deployment.identity("webhook")).scopes(WebhookService.SCOPE)
                .boundTo(certificate).build());
    }

    /** POST /send over mTLS as the holder of {@code credentials}, with this Authorization header (or none). */
    private static MtlsHttpClient.Response post(CredentialSource credentials, String body, String authorization) {
        return post(credentials, webhook.port(), body, authorization);
    }

    private static MtlsHttpClient.Response post(CredentialSource credentials, int port, String body,
                                                String authorization) {
        NettyMtls tls = NettyMtls.builder(MtlsContext.client(credentials).expectedServer(deployment.identity("webhook"))
                .build()).provider(NettyMtls.Provider.JDK).build();
        try (MtlsHttpClient http = MtlsHttpClient.builder(tls).requestHeaders((request, headers) -> {
            if (authorization != null) {
                headers.set(HttpHeaderNames.AUTHORIZATION, authorization);
            }
        }).build()) {
            return http.send("127.0.0.1", port, new DefaultFullHttpRequest(HttpVersion.HTTP_1_1,
                    HttpMethod.POST, WebhookService.PATH, Unpooled.copiedBuffer(body, StandardCharsets.UTF_8))).join();
        }
    }

    /** POST straight to the receiver over TLS (as anyone on the internet could), with this signature header. */
    private static int postToReceiver(byte[] body, String signature) throws Exception {
        HttpClient client = HttpClient.newBuilder()
                .sslContext(WebhookTls.client(TrustBundle.fromPem(directory.resolve("ca.crt"))))
                .sslParameters(WebhookTls.clientParameters()).build();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(receiver.url()))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (signature != null) {
            request.header(WebhookSignature.HEADER, signature);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
