package io.settler.zerotrust.netty;

import static io.settler.zerotrust.netty.TestPki.field;
import static org.assertj.core.api.Assertions.assertThat;

import io.jsonwebtoken.Jwts;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.authz.PeerAuthorizer;
import io.settler.zerotrust.credentials.CredentialSnapshot;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.tls.MtlsContext;
import io.settler.zerotrust.token.InMemoryReplayGuard;
import io.settler.zerotrust.token.JwksSource;
import io.settler.zerotrust.token.KeySet;
import io.settler.zerotrust.token.ReplayGuard;
import io.settler.zerotrust.token.ServiceTokens;
import io.settler.zerotrust.token.TokenAlgorithm;
import io.settler.zerotrust.token.TokenKey;
import io.settler.zerotrust.token.TokenRequest;
import io.settler.zerotrust.token.TokenSource;
import io.settler.zerotrust.token.VerifiedToken;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ServiceTokenAuthHandler} in a real server pipeline over loopback mTLS, with both
 * providers: the worker calls the api with its certificate and a service token; each attack is
 * refused with the right status and a {@code request.refused} audit event.
 */
@ParameterizedClass
@EnumSource(value = NettyMtls.Provider.class, names = {"JDK", "OPENSSL"})
class ServiceTokenAuthTest {

    static final String API_ID = "spiffe://example.org/api";
    static final String INTRUDER_ID = "spiffe://example.org/intruder";
    /** Another certificate of the worker identity (another instance), with its own key. */
    static final IssuedCertificate WORKER_2 = TestPki.CA.leaf("worker").serverAndClient().issue();
    static final KeySet WORKER_KEYS = KeySet.builder()
            .signingKey(TokenKey.generate(TokenAlgorithm.ES256, "worker-1")).build();
    static final KeySet INTRUDER_KEYS = KeySet.builder()
            .signingKey(TokenKey.generate(TokenAlgorithm.ES256, "intruder-1")).build();

    @Parameter
    NettyMtls.Provider provider;

    private final TestPki pki = new TestPki();
    private final ServiceTokens worker = minter(TestPki.WORKER_ID, WORKER_KEYS, Clock.systemUTC());
    private final ServiceTokens intruder = minter(INTRUDER_ID, INTRUDER_KEYS, Clock.systemUTC());

    private static ServiceTokens minter(String identity, KeySet keys, Clock clock) {
        return ServiceTokens.builder().identity(identity).keys(keys).clock(clock).build();
    }

    private ServiceTokens apiVerifier() {
        return apiVerifierBuilder().build();
    }

    private ServiceTokens.Builder apiVerifierBuilder() {
        return ServiceTokens.builder().identity(API_ID)
                .verificationKeys(KeySet.builder()
                        .addAll(KeySet.fromJwks(WORKER_KEYS.toJwks()).pinnedTo(TestPki.WORKER_ID))
                        .addAll(KeySet.fromJwks(INTRUDER_KEYS.toJwks()).pinnedTo(INTRUDER_ID))
                        .build())
                .trustIssuers(TestPki.WORKER_ID, INTRUDER_ID)
                .auditLog(pki.audit);
    }

    private TestServer server() {
        return server(apiVerifier());
    }

    private TestServer server(ServiceTokens verifier) {
        RouteScopes routes = RouteScopes.builder()
                .route(HttpMethod.GET, "/jobs", "jobs:read")
                .route(HttpMethod.GET, "/admin", "admin:write")
                .build();
        ServiceTokenAuthHandler auth = ServiceTokenAuthHandler.builder(verifier, routes).auditLog(pki.audit).build();
        PeerAuthorizer workerAndIntruder = PeerAuthorizer.builder().allowIdentities(TestPki.WORKER_ID, INTRUDER_ID)
                .build();
        return TestServer.start(pki.server(provider, TestPki.credentials(TestPki.API), workerAndIntruder),
                c -> { }, c -> { }, c -> c.pipeline().addLast(auth));
    }

    /** A GET from the holder of {@code certificate} with these Authorization header values. */
    private MtlsHttpClient.Response get(TestServer server, IssuedCertificate certificate, String path,
                                        String... authorization) {
        try (MtlsHttpClient http = MtlsHttpClient.builder(pki.client(provider, certificate))
                .requestHeaders((request, headers) -> {
                    for (String value : authorization) {
                        headers.add(HttpHeaderNames.AUTHORIZATION, value);
                    }
                }).build()) {
            return http.get("127.0.0.1", server.port(), path).join();
        }
    }

    /** Asserts an empty-bodied refusal with {@code status} and its audit event; returns the event. */
    private AuditEvent assertRefused(MtlsHttpClient.Response response, int status, String reason, String peer,
                                     String token) throws InterruptedException {
        assertThat(response.status()).isEqualTo(status);
        assertThat(response.body()).isEmpty();
        if (status == 401) {
            assertThat(response.headers().get(HttpHeaderNames.WWW_AUTHENTICATE)).isEqualTo("Bearer");
        }
        AuditEvent event = pki.awaitEvent("request.refused", field("reason", reason).and(field("peer", peer)));
        assertThat(event.fields()).containsEntry("status", String.valueOf(status));
        if (token != null) {
            assertThat(pki.audit.events())
                    .allSatisfy(recorded -> assertThat(recorded.toString()).doesNotContain(token));
        }
        return event;
    }

    @Test
    void acceptsAllowedIdentityWithRightScopeFromTokenSource() {
        TokenSource tokens = TokenSource.builder(worker).build();
        try (TestServer server = server();
             MtlsHttpClient http = MtlsHttpClient.builder(pki.client(provider, TestPki.WORKER))
                     .requestHeaders(BearerTokens.from(tokens, API_ID, "jobs:read")).build()) {
            MtlsHttpClient.Response first = http.get("127.0.0.1", server.port(), "/jobs/42").join();
            MtlsHttpClient.Response second = http.get("127.0.0.1", server.port(), "/jobs").join();
            assertThat(first.status()).isEqualTo(200);
            assertThat(new String(first.body(), StandardCharsets.UTF_8)).isEqualTo(TestPki.WORKER_ID);
            assertThat(second.status()).isEqualTo(200);
            assertThat(pki.audit.events()).noneMatch(event -> event.action().equals("request.refused"));
        }
    }

    @Test
    void acceptsTokenBoundToThisConnectionsCertificateAndLowercaseScheme() {
        String bound = worker.mint(TokenRequest.to(API_ID).scopes("jobs:read")
                .boundTo(TestPki.WORKER.certificate()).build());
        try (TestServer server = server()) {
            assertThat(get(server, TestPki.WORKER, "/jobs", "bearer " + bound).status()).isEqualTo(200);
        }
    }

    @Test
    void boundBearerTokensAreBoundToTheCertificateEachConnectionPresents() throws Exception {
        AtomicReference<CredentialSnapshot> current = new AtomicReference<>(snapshot(1, TestPki.WORKER));
        CredentialSource rotating = new CredentialSource() {
            @Override
            public CredentialSnapshot current() {
                return current.get();
            }

            @Override
            public AutoCloseable onRotation(Consumer<CredentialSnapshot> listener) {
                return () -> { };
            }
        };
        TokenSource tokens = TokenSource.builder(worker).build();
        NettyMtls clientTls = NettyMtls.builder(MtlsContext.client(rotating).auditLog(pki.audit).build())
                .provider(provider).auditLog(pki.audit).build();
        try (TestServer server = server(apiVerifierBuilder().requireCertificateBinding().build());
             MtlsHttpClient http = MtlsHttpClient.builder(clientTls)
                     .requestHeaders(BearerTokens.boundTo(tokens, rotating, API_ID, "jobs:read")).build()) {
            assertThat(http.get("127.0.0.1", server.port(), "/jobs").join().status()).isEqualTo(200);
            assertThat(pki.audit.events()).noneMatch(event -> event.action().equals("request.refused"));
            if (provider == NettyMtls.Provider.JDK) {
                // The next connection is a full handshake with the rotated certificate; the JDK reports it.
                // (Netty's OpenSSL engine does not report a client's own certificate: see BearerTokens.)
                current.set(snapshot(2, WORKER_2));
                assertThat(http.get("127.0.0.1", server.port(), "/jobs").join().status())
                        .as("bound to the certificate the connection presented").isEqualTo(200);
                assertThat(pki.audit.events()).noneMatch(event -> event.action().equals("request.refused"));
            }

            String unbound = tokens.token(API_ID, "jobs:read");
            assertRefused(get(server, TestPki.WORKER, "/jobs", "Bearer " + unbound), 403, "CERTIFICATE_MISMATCH",
                    TestPki.WORKER_ID, unbound);
        }
    }

    private static CredentialSnapshot snapshot(long generation, IssuedCertificate issued) {
        CredentialSnapshot fixed = TestPki.credentials(issued).current();
        return new CredentialSnapshot(generation, fixed.identity(), fixed.trust(), fixed.loadedAt());
    }

    @Test
    void exposesVerifiedTokenToTheApplication() throws Exception {
        String token = worker.mint(API_ID, List.of("jobs:read"));
        CompletableFuture<VerifiedToken> seen = new CompletableFuture<>();
        RouteScopes routes = RouteScopes.builder().anyMethod("/jobs", "jobs:read").build();
        ServiceTokenAuthHandler auth = ServiceTokenAuthHandler.builder(apiVerifier(), routes).auditLog(pki.audit)
                .build();
        try (TestServer server = TestServer.start(pki.server(provider), c -> { }, c -> { },
                c -> c.pipeline().addLast(auth, new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ServiceTokenAuthHandler.verifiedToken(ctx.channel()).ifPresent(seen::complete);
                        ctx.fireChannelRead(msg);
                    }
                }))) {
            assertThat(get(server, TestPki.WORKER, "/jobs", "Bearer " + token).status()).isEqualTo(200);
            assertThat(seen.get(10, TimeUnit.SECONDS).service()).hasToString(TestPki.WORKER_ID);
            assertThat(seen.get().scopes()).containsExactly("jobs:read");
        }
    }

    @Test
    void refusesMissingTokenWith401() throws Exception {
        try (TestServer server = server()) {
            assertRefused(get(server, TestPki.WORKER, "/jobs"), 401, "MISSING_TOKEN", TestPki.WORKER_ID, null);
        }
    }

    @Test
    void refusesMalformedAuthorizationHeaders() throws Exception {
        String token = worker.mint(API_ID, List.of("jobs:read"));
        try (TestServer server = server()) {
            for (String[] headers : List.of(new String[] {"Bearer " + token, "Bearer " + token},
                    new String[] {"Basic " + token}, new String[] {"Bearer  " + token},
                    new String[] {"Bearer " + token + " extra"}, new String[] {"Bearer"})) {
                assertThat(get(server, TestPki.WORKER, "/jobs", headers).status()).isEqualTo(401);
            }
            assertRefused(get(server, TestPki.WORKER, "/jobs", "Token " + token), 401, "MALFORMED_AUTHORIZATION",
                    TestPki.WORKER_ID, token);
            assertThat(pki.audit.events())
                    .filteredOn(event -> "MALFORMED_AUTHORIZATION".equals(event.fields().get("reason"))).hasSize(6);
        }
    }

    @Test
    void refusesExpiredTokenWith401() throws Exception {
        Clock anHourAgo = Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC);
        String expired = minter(TestPki.WORKER_ID, WORKER_KEYS, anHourAgo).mint(API_ID, List.of("jobs:read"));
        try (TestServer server = server()) {
            assertRefused(get(server, TestPki.WORKER, "/jobs", "Bearer " + expired), 401, "EXPIRED",
                    TestPki.WORKER_ID, expired);
        }
    }

    @Test
    void refusesTokenForgedWithAnotherKeyWith401() throws Exception {
        KeySet forgerKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "worker-1")).build();
        String forged = minter(TestPki.WORKER_ID, forgerKeys, Clock.systemUTC()).mint(API_ID, List.of("jobs:read"));
        try (TestServer server = server()) {
            assertRefused(get(server, TestPki.WORKER, "/jobs", "Bearer " + forged), 401, "BAD_SIGNATURE",
                    TestPki.WORKER_ID, forged);
        }
    }

    @Test
    void refusesTokenSignedWithUnknownKeyWith401() throws Exception {
        KeySet unknownKeys = KeySet.builder().signingKey(TokenKey.generate(TokenAlgorithm.ES256, "worker-9")).build();
        String unknown = minter(TestPki.WORKER_ID, unknownKeys, Clock.systemUTC()).mint(API_ID, List.of("jobs:read"));
        try (TestServer server = server()) {
            assertRefused(get(server, TestPki.WORKER, "/jobs", "Bearer " + unknown), 401, "UNKNOWN_KEY",
                    TestPki.WORKER_ID, unknown);
        }
    }

    @Test
    void refusesTokenForAnotherAudienceWith401() throws Exception {
        String forBilling = worker.mint("spiffe://example.org/billing", List.of("jobs:read"));
        try (TestServer server = server()) {
            assertRefused(get(server, TestPki.WORKER, "/jobs", "Bearer " + forBilling), 401, "WRONG_AUDIENCE",
                    TestPki.WORKER_ID, forBilling);
        }
    }

    @Test
    void refusesInsufficientScopeWith403() throws Exception {
        String readOnly = worker.mint(API_ID, List.of("jobs:read"));
        try (TestServer server = server()) {
            assertRefused(get(server, TestPki.WORKER, "/admin", "Bearer " + readOnly), 403, "INSUFFICIENT_SCOPE",
                    TestPki.WORKER_ID, readOnly);
        }
    }

    @Test
    void refusesTokenBoundToAnotherCertificateWith403() throws Exception {
        String boundToOtherInstance = worker.mint(TokenRequest.to(API_ID).scopes("jobs:read")
                .boundTo(WORKER_2.certificate()).build());
        try (TestServer server = server()) {
            assertRefused(get(server, TestPki.WORKER, "/jobs", "Bearer " + boundToOtherInstance), 403,
                    "CERTIFICATE_MISMATCH", TestPki.WORKER_ID, boundToOtherInstance);
        }
    }

    @Test
    void refusesTokenOfServiceAOnServiceBsConnectionWith403() throws Exception {
        String workersToken = worker.mint(API_ID, List.of("jobs:read"));
        try (TestServer server = server()) {
            AuditEvent event = assertRefused(get(server, TestPki.INTRUDER, "/jobs", "Bearer " + workersToken), 403,
                    "IDENTITY_MISMATCH", INTRUDER_ID, workersToken);
            assertThat(event.fields().get("detail")).contains(TestPki.WORKER_ID).contains(INTRUDER_ID);
            // The intruder's own token for the same route passes: the refusal was about the stolen token.
            String own = intruder.mint(API_ID, List.of("jobs:read"));
            assertThat(get(server, TestPki.INTRUDER, "/jobs", "Bearer " + own).status()).isEqualTo(200);
        }
    }

    /**
     * Issue 14, finding 1, end to end: the key pinned to the intruder signs a token whose {@code sub}
     * says worker, and it is presented on the worker's own mTLS connection (the intruder handed it to
     * a worker instance, or stole one's connection). The peer check alone would pass it; the token
     * speaks only for its issuer, so it is refused.
     */
    @Test
    void refusesTokenWhoseSubjectIsNotItsIssuerOnTheSubjectsConnection() throws Exception {
        KeyPair intruderPair = Jwts.SIG.ES256.keyPair().build();
        ServiceTokens verifier = ServiceTokens.builder().identity(API_ID)
                .verificationKeys(KeySet.builder()
                        .addAll(KeySet.fromJwks(WORKER_KEYS.toJwks()).pinnedTo(TestPki.WORKER_ID))
                        .add(TokenKey.es256("intruder-2", intruderPair.getPublic()).forIssuers(INTRUDER_ID))
                        .build())
                .trustIssuers(TestPki.WORKER_ID, INTRUDER_ID).auditLog(pki.audit).build();
        Instant now = Instant.now();
        String asWorker = Jwts.builder().header().type(ServiceTokens.TYPE).keyId("intruder-2").and()
                .issuer(INTRUDER_ID).subject(TestPki.WORKER_ID).claim("aud", API_ID)
                .issuedAt(Date.from(now)).expiration(Date.from(now.plusSeconds(60))).id("forged-1")
                .claim("scope", List.of("jobs:read")).signWith(intruderPair.getPrivate(), Jwts.SIG.ES256).compact();
        try (TestServer server = server(verifier)) {
            AuditEvent event = assertRefused(get(server, TestPki.WORKER, "/jobs", "Bearer " + asWorker), 401,
                    "WRONG_ISSUER", TestPki.WORKER_ID, asWorker);
            assertThat(event.fields().get("detail")).contains(TestPki.WORKER_ID).contains(INTRUDER_ID);
            assertThat(pki.awaitEvent("token.rejected", field("reason", "WRONG_ISSUER")).fields().get("detail"))
                    .contains("sub must equal iss");
            // On the intruder's own connection it is the same refusal, not an identity mismatch.
            assertRefused(get(server, TestPki.INTRUDER, "/jobs", "Bearer " + asWorker), 401, "WRONG_ISSUER",
                    INTRUDER_ID, asWorker);
        }
    }

    /**
     * Issue 14, finding 11c, end to end: the api's JWKS fetch for the worker's keys hangs. The
     * worker's request waits off the event loop for it, while the server's only event loop goes on
     * answering another connection; when the keys arrive the waiting request is served.
     */
    @Test
    void aHangingJwksFetchNeverBlocksTheEventLoop() throws Exception {
        CountDownLatch fetchStarted = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        JwksSource workerKeys = JwksSource.builder(() -> {
            fetchStarted.countDown();
            try {
                answer.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return WORKER_KEYS.toJwks();
        }).pinnedTo(TestPki.WORKER_ID).awaitFetch(Duration.ofMinutes(5)).auditLog(pki.audit).build();
        ServiceTokens verifier = ServiceTokens.builder().identity(API_ID).verificationKeys(workerKeys)
                .trustIssuers(TestPki.WORKER_ID).auditLog(pki.audit).build();
        String token = worker.mint(API_ID, List.of("jobs:read"));
        try (TestServer server = server(verifier);
             MtlsHttpClient http = MtlsHttpClient.builder(pki.client(provider, TestPki.WORKER))
                     .requestHeaders((request, headers) -> headers.set(HttpHeaderNames.AUTHORIZATION,
                             "Bearer " + token)).build()) {
            CompletableFuture<MtlsHttpClient.Response> waiting = http.get("127.0.0.1", server.port(), "/jobs");
            fetchStarted.await(); // the request reached the handler, which started the fetch
            try {
                assertRefused(get(server, TestPki.WORKER, "/jobs"), 401, "MISSING_TOKEN", TestPki.WORKER_ID, null);
                assertThat(waiting).as("still waiting for the worker's keys").isNotDone();
                assertThat(workerKeys.fetching()).isTrue();
            } finally {
                answer.countDown();
            }
            MtlsHttpClient.Response served = waiting.get(60, TimeUnit.SECONDS);
            assertThat(served.status()).isEqualTo(200);
            assertThat(new String(served.body(), StandardCharsets.UTF_8)).isEqualTo(TestPki.WORKER_ID);
        }
    }

    /**
     * Issue 14, finding 11c, the replay half: the api accepts each token once, and its replay guard
     * waits on a store (as {@code RedisReplayGuard} waits for Redis; here the store answers when the
     * test says). The worker's request waits for its replay check off the event loop, while the
     * server's only event loop goes on answering another connection; once the store answers, the
     * request is served, and the same token presented again is refused as a replay.
     */
    @Test
    void aHangingReplayCheckNeverBlocksTheEventLoopAndAReplayIsStillRefused() throws Exception {
        InMemoryReplayGuard store = InMemoryReplayGuard.create(100);
        CountDownLatch checkStarted = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        List<String> checkedOn = new CopyOnWriteArrayList<>();
        ReplayGuard remote = (issuer, jti, expiresAt) -> { // may block: the default of ReplayGuard.mayBlock()
            checkedOn.add(Thread.currentThread().getName());
            checkStarted.countDown();
            try {
                answer.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            return store.firstUse(issuer, jti, expiresAt);
        };
        String token = worker.mint(API_ID, List.of("jobs:read"));
        try (TestServer server = server(apiVerifierBuilder().replayGuard(remote).build());
             MtlsHttpClient http = MtlsHttpClient.builder(pki.client(provider, TestPki.WORKER))
                     .requestHeaders((request, headers) -> headers.set(HttpHeaderNames.AUTHORIZATION,
                             "Bearer " + token)).build()) {
            CompletableFuture<MtlsHttpClient.Response> waiting = http.get("127.0.0.1", server.port(), "/jobs");
            assertThat(checkStarted.await(30, TimeUnit.SECONDS)).as("the replay check started").isTrue();
            try {
                assertRefused(get(server, TestPki.WORKER, "/jobs"), 401, "MISSING_TOKEN", TestPki.WORKER_ID, null);
                assertThat(waiting).as("still waiting for the replay store").isNotDone();
            } finally {
                answer.countDown();
            }
            MtlsHttpClient.Response served = waiting.get(60, TimeUnit.SECONDS);
            assertThat(served.status()).isEqualTo(200);
            assertThat(new String(served.body(), StandardCharsets.UTF_8)).isEqualTo(TestPki.WORKER_ID);

            assertRefused(get(server, TestPki.WORKER, "/jobs", "Bearer " + token), 401, "REPLAYED",
                    TestPki.WORKER_ID, token);
            assertThat(pki.awaitEvent("token.rejected", field("reason", "REPLAYED")).fields().get("detail"))
                    .contains("already used");
            assertThat(checkedOn).as("both checks ran on the verification executor, never on the event loop")
                    .hasSize(2).allSatisfy(thread -> assertThat(thread).startsWith("zerotrust-token-verify"));
        }
    }

    /**
     * The binding cannot lend an identity either: the intruder mints (as itself) a token bound to the
     * worker's certificate; on the worker's connection the binding holds, but the token speaks for
     * the intruder, not for the connection's peer.
     */
    @Test
    void refusesTokenBoundToAnotherServicesCertificateWith403() throws Exception {
        String lent = intruder.mint(TokenRequest.to(API_ID).scopes("jobs:read").boundTo(TestPki.WORKER.certificate())
                .build());
        try (TestServer server = server()) {
            AuditEvent event = assertRefused(get(server, TestPki.WORKER, "/jobs", "Bearer " + lent), 403,
                    "IDENTITY_MISMATCH", TestPki.WORKER_ID, lent);
            assertThat(event.fields().get("detail")).contains(INTRUDER_ID);
        }
    }

    @Test
    void refusesRequestNoRouteCoversWith403() throws Exception {
        String token = worker.mint(API_ID, List.of("jobs:read"));
        try (TestServer server = server()) {
            assertRefused(get(server, TestPki.WORKER, "/jobs/../admin", "Bearer " + token), 403, "NO_ROUTE",
                    TestPki.WORKER_ID, token);
        }
    }
}
