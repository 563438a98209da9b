package io.settler.zerotrust.token;

import static io.settler.zerotrust.token.TestKeys.API;
import static io.settler.zerotrust.token.TestKeys.PROXY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.authz.PeerRule;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.MutableClock;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class JwksSourceTest {

    private final MutableClock clock = new MutableClock();
    private final RecordingAuditLog audit = new RecordingAuditLog();
    private final TokenKey first = TestKeys.es256("api-1");
    private final TokenKey second = TestKeys.ed25519("api-2");
    private final AtomicReference<String> published = new AtomicReference<>(KeySet.of(first.verifyOnly()).toJwks());
    private final AtomicInteger fetches = new AtomicInteger();
    private final JwksSource source = JwksSource.builder(() -> {
        fetches.incrementAndGet();
        return published.get();
    }).pinnedTo(API).cooldown(Duration.ofSeconds(30)).clock(clock).auditLog(audit)
            .executor(Runnable::run) // background fetches run inline here, so the counts are exact
            .build();
    private final ServiceTokens proxy = ServiceTokens.builder().identity(PROXY).trustIssuers(API)
            .verificationKeys(source).clock(clock).auditLog(audit).build();

    private String mint(TokenKey key) {
        return ServiceTokens.builder().identity(API).signingKey(key).clock(clock).build()
                .mint(PROXY, List.of("db:read"));
    }

    @Test
    void fetchesOnFirstUseAndRefreshesOnAnUnknownKid() {
        assertThat(proxy.verify(mint(first)).keyId()).isEqualTo("api-1");
        assertThat(fetches).hasValue(1);

        published.set(KeySet.of(first.verifyOnly(), second.verifyOnly()).toJwks()); // the issuer rotated
        clock.advance(Duration.ofSeconds(31));
        assertThat(proxy.verify(mint(second)).keyId()).isEqualTo("api-2");
        assertThat(fetches).hasValue(2);
        assertThat(source.keys().orElseThrow().keys())
                .allSatisfy(key -> assertThat(key.issuers()).containsExactly(ServiceIdentity.parse(API)));
    }

    @Test
    void randomKidSprayCannotCauseAFetchStorm() {
        proxy.verify(mint(first));
        TokenKey attacker = TestKeys.hs256("x");
        for (int i = 0; i < 1_000; i++) {
            String sprayed = TestKeys.forge(attacker, "{\"alg\":\"ES256\",\"kid\":\"" + UUID.randomUUID()
                    + "\",\"typ\":\"svc+jwt\"}", "{}");
            assertThatThrownBy(() -> proxy.verify(sprayed)).isInstanceOfSatisfying(TokenRejectedException.class,
                    e -> assertThat(e.reason()).isEqualTo(TokenRejectedException.Reason.UNKNOWN_KEY));
        }
        assertThat(fetches).hasValue(1);
        clock.advance(Duration.ofSeconds(31));
        assertThatThrownBy(() -> proxy.verify(TestKeys.forge(attacker,
                "{\"alg\":\"ES256\",\"kid\":\"y\",\"typ\":\"svc+jwt\"}",
                "{}"))).isInstanceOf(TokenRejectedException.class);
        assertThat(fetches).hasValue(2);
    }

    @Test
    void failedFetchKeepsTheLastGoodKeys() {
        proxy.verify(mint(first));
        published.set("{\"keys\": not json");
        clock.advance(Duration.ofMinutes(20)); // older than maxAge: refetch, fail, keep
        assertThat(proxy.verify(mint(first)).keyId()).isEqualTo("api-1");
        assertThat(fetches).hasValue(2);
        assertThat(audit.events())
                .anySatisfy(event -> assertThat(event.action()).isEqualTo("token.keys_refresh_failed"));
        clock.advance(Duration.ofSeconds(31));
        assertThatThrownBy(source::refresh).isInstanceOf(ServiceTokenException.class);
    }

    @Test
    void fetchesOverMutualTlsFromALoopbackServer() throws Exception {
        HttpsServer https = jwksServer("api");
        try {
            JwksSource remote = JwksSource.builder(JwksSource.https(jwksUri(https), client(API))).pinnedTo(API).build();
            remote.refresh();
            assertThat(remote.key("api-1")).isPresent();
            assertThatThrownBy(() -> JwksSource.https(URI.create("http://127.0.0.1/jwks"), client(API)))
                    .isInstanceOf(ServiceTokenException.class);
        } finally {
            https.stop(0);
        }
    }

    @Test
    void refusesJwksFromAServerWithAnotherIdentity() throws Exception {
        HttpsServer impostor = jwksServer("intruder"); // same CA, but not spiffe://example.org/api
        try {
            JwksSource remote = JwksSource.builder(JwksSource.https(jwksUri(impostor), client(API))).pinnedTo(API)
                    .auditLog(audit).build();
            assertThatThrownBy(remote::refresh).isInstanceOfSatisfying(ServiceTokenException.class,
                    e -> assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.KEY_SOURCE_FAILED));
            assertThat(remote.key("api-1")).isEmpty();
        } finally {
            impostor.stop(0);
        }
    }

    /** Issue 14, finding 11b: an endless body; reading must stop at the limit, not at the end. */
    @Test
    void stopsReadingAnEndlessJwksBodyAtTheLimit() throws Exception {
        CompletableFuture<Long> written = new CompletableFuture<>();
        HttpsServer endless = jwksServer("api", exchange -> {
            exchange.sendResponseHeaders(200, 0); // chunked, no end
            byte[] chunk = "{\"keys\":[".repeat(1_000).getBytes(StandardCharsets.US_ASCII);
            long total = 0;
            try (OutputStream body = exchange.getResponseBody()) {
                while (total < 1L << 32) { // 4 GiB: far beyond any buffer, so only the client can end this
                    body.write(chunk);
                    total += chunk.length;
                }
            } catch (IOException e) {
                written.complete(total); // the client closed the connection
                return;
            }
            written.complete(total);
        });
        try {
            JwksSource remote = JwksSource.builder(JwksSource.https(jwksUri(endless), client(API))).pinnedTo(API)
                    .auditLog(audit).build();
            assertThatThrownBy(remote::refresh).isInstanceOfSatisfying(ServiceTokenException.class, e -> {
                assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.KEY_SOURCE_FAILED);
                assertThat(e.getMessage()).contains("larger than 262144 bytes").contains("stopped reading");
            });
            assertThat(written.get(60, TimeUnit.SECONDS)).as("bytes the server wrote before the client hung up")
                    .isLessThan(262_144L + 16L * 1024 * 1024); // the limit plus at most what socket buffers held
            assertThat(audit.events())
                .anySatisfy(event -> assertThat(event.action()).isEqualTo("token.keys_refresh_failed"));
            assertThat(remote.keys()).isEmpty();
        } finally {
            endless.stop(0);
        }
    }

    @Test
    void refusesAnOversizedJwksWithAContentLengthAfterReadingOnlyTheLimit() throws Exception {
        HttpsServer oversized = jwksServer("api", exchange -> {
            byte[] body = (" ".repeat(300 * 1024) + published.get()).getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            } catch (IOException e) {
                // the client stopped reading
            }
        });
        try {
            JwksSource remote = JwksSource.builder(JwksSource.https(jwksUri(oversized), client(API))).pinnedTo(API)
                    .auditLog(audit).build();
            assertThatThrownBy(remote::refresh).isInstanceOfSatisfying(ServiceTokenException.class,
                    e -> assertThat(e.getMessage()).contains("larger than 262144 bytes"));
        } finally {
            oversized.stop(0);
        }
    }

    /**
     * Issue 14, finding 11c: the JWKS endpoint accepts the connection and never answers. Verifying
     * without waiting returns while that fetch is still under way; verify waits only as long as
     * {@code awaitFetch} says; both are refusals or "not yet", audited, never a blocked thread.
     */
    @Test
    void aHangingJwksEndpointNeverBlocksVerification() throws Exception {
        CountDownLatch answer = new CountDownLatch(1);
        HttpsServer hanging = jwksServer("api", exchange -> {
            try {
                answer.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = published.get().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        try {
            JwksSource remote = JwksSource.builder(JwksSource.https(jwksUri(hanging), client(API))).pinnedTo(API)
                    .awaitFetch(Duration.ofMillis(200)).auditLog(audit).build();
            ServiceTokens verifier = ServiceTokens.builder().identity(PROXY).trustIssuers(API).verificationKeys(remote)
                    .auditLog(audit).build();
            String token = ServiceTokens.builder().identity(API).signingKey(first).build()
                    .mint(PROXY, List.of("db:read"));

            assertThat(verifier.verifyWithoutWaiting(token, "db:read")).as("not decided: its key is being fetched")
                    .isEmpty();
            assertThat(remote.fetching()).as("the fetch still hangs, and verification did not wait for it").isTrue();
            assertThat(remote.heldKey("api-1")).isEmpty();
            assertThat(audit.events()).noneMatch(event -> event.action().equals("token.rejected"));

            assertThatThrownBy(() -> verifier.verify(token, "db:read")).isInstanceOfSatisfying(
                    TokenRejectedException.class,
                    e -> assertThat(e.reason()).isEqualTo(TokenRejectedException.Reason.UNKNOWN_KEY));
            assertThat(remote.fetching()).as("verify gave up waiting; the fetch goes on").isTrue();
            assertThat(audit.events())
                    .anySatisfy(event -> assertThat(event.fields()).containsEntry("reason", "UNKNOWN_KEY"));

            answer.countDown();
            remote.refresh(); // joins the fetch under way
            assertThat(verifier.verifyWithoutWaiting(token, "db:read")).get()
                    .satisfies(verified -> assertThat(verified.service()).hasToString(API));
        } finally {
            answer.countDown();
            hanging.stop(0);
        }
    }

    @Test
    void keysOlderThanMaxAgeServeWhileTheyAreRefetchedInTheBackground() {
        List<Runnable> fetches = new ArrayList<>();
        JwksSource background = JwksSource.builder(published::get).pinnedTo(API).clock(clock).auditLog(audit)
                .executor(fetches::add).build();
        background.refresh();
        clock.advance(Duration.ofMinutes(20));
        assertThat(background.heldKey("api-1")).as("held, though stale").isPresent();
        assertThat(fetches).hasSize(1);
        assertThat(background.fetching()).isTrue();
        assertThat(background.heldKey("api-1")).isPresent();
        assertThat(fetches).as("one fetch at a time").hasSize(1);
        published.set(KeySet.of(second.verifyOnly()).toJwks()); // the issuer dropped api-1
        fetches.get(0).run();
        assertThat(background.fetching()).isFalse();
        assertThat(background.heldKey("api-1")).isEmpty();
        assertThat(background.heldKey("api-2")).isPresent();
    }

    @Test
    void aRefusingExecutorIsAFailedFetchNotAnException() {
        JwksSource refusing = JwksSource.builder(published::get).pinnedTo(API).clock(clock).auditLog(audit)
                .executor(command -> {
                    throw new RejectedExecutionException("full");
                }).build();
        assertThat(refusing.key("api-1")).isEmpty();
        assertThat(refusing.fetching()).isFalse();
        assertThat(audit.events())
                .anySatisfy(event -> assertThat(event.action()).isEqualTo("token.keys_refresh_failed"));
        clock.advance(Duration.ofSeconds(31));
        refusing.refresh(); // on the caller's thread
        assertThat(refusing.key("api-1")).isPresent();
    }

    private static TrustBundle trust() {
        return TrustBundle.of(List.of(TestKeys.CA.rootCertificate()));
    }

    private static MtlsContext client(String expectedServer) {
        IssuedCertificate clientCert = TestKeys.CA.leaf("db-proxy").serverAndClient().issue();
        return MtlsContext.client(CredentialSource.fixed(TlsIdentity.of(clientCert.privateKey(), clientCert.chain()),
                trust())).expectedServer(expectedServer).build();
    }

    private static URI jwksUri(HttpsServer https) {
        return URI.create("https://127.0.0.1:" + https.getAddress().getPort() + "/jwks");
    }

    /** A loopback HTTPS server (core's MtlsContext, client certificate required) serving the published JWKS. */
    private HttpsServer jwksServer(String service) throws Exception {
        return jwksServer(service, exchange -> {
            byte[] body = published.get().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
    }

    /** The same server with another handler for /jwks. */
    private HttpsServer jwksServer(String service, HttpHandler handler) throws Exception {
        IssuedCertificate serverCert = TestKeys.CA.leaf(service).serverAndClient().ipAddresses("127.0.0.1").issue();
        MtlsContext server = MtlsContext.server(CredentialSource.fixed(TlsIdentity.of(serverCert.privateKey(),
                serverCert.chain()), trust()), PeerAuthorizer.builder()
                .allow(PeerRule.identity(io.settler.zerotrust.identity.ServiceIdentity.parse(PROXY))).build()).build();
        HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(server.sslContext()) {
            @Override
            public void configure(HttpsParameters params) {
                params.setSSLParameters(server.sslParameters());
            }
        });
        https.createContext("/jwks", handler);
        https.setExecutor(Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "jwks-test-server");
            thread.setDaemon(true);
            return thread;
        }));
        https.start();
        return https;
    }
}
