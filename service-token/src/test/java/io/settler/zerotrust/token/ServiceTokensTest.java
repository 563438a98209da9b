package io.settler.zerotrust.token;

import static io.settler.zerotrust.token.TestKeys.API;
import static io.settler.zerotrust.token.TestKeys.PROXY;
import static io.settler.zerotrust.token.TestKeys.WORKER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.identity.ServiceIdentity;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.testkit.MutableClock;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.token.TokenRejectedException.Reason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ServiceTokensTest {

    private final MutableClock clock = new MutableClock();
    private final RecordingAuditLog audit = new RecordingAuditLog();
    private final TokenKey apiKey = TestKeys.es256("api-1");

    private ServiceTokens minter(String identity, TokenKey key) {
        return ServiceTokens.builder().identity(identity).signingKey(key).clock(clock).auditLog(audit).build();
    }

    private ServiceTokens verifier(KeySource keys, String... issuers) {
        return ServiceTokens.builder().identity(PROXY).verificationKeys(keys).trustIssuers(issuers)
                .clock(clock).auditLog(audit).build();
    }

    private ServiceTokens proxy() {
        return verifier(KeySet.of(apiKey.verifyOnly().forIssuers(API)), API);
    }

    static Stream<Function<String, TokenKey>> algorithms() {
        return Stream.of(TestKeys::hs256, TestKeys::es256, TestKeys::ed25519);
    }

    @Test
    void verificationKeysWithoutATrustedIssuerAreRefusedAtBuild() {
        for (ServiceTokens.Builder builder : List.of(
                ServiceTokens.builder().identity(PROXY).verificationKeys(KeySet.of(apiKey.verifyOnly())),
                ServiceTokens.builder().identity(PROXY).keys(KeySet.of(apiKey.verifyOnly())))) {
            assertThatThrownBy(builder::build).isInstanceOfSatisfying(ServiceTokenException.class,
                    e -> assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.INVALID_SETTING))
                    .hasMessageContaining("no issuer is trusted")
                    .hasMessageContaining("call trustIssuers(...)");
        }
        // A key set with a signing key only mints here: no issuer to trust.
        assertThat(ServiceTokens.builder().identity(API).keys(KeySet.builder().signingKey(apiKey).build()).build()
                .mint(PROXY, List.of())).isNotEmpty();
    }

    @Test
    void identityIsTypedAndReadsAsTheSpiffeIdTokensCarry() {
        ServiceTokens api = minter(API, apiKey);
        ServiceTokens proxy = proxy();

        assertThat(api.identity()).isEqualTo(ServiceIdentity.parse(API)).hasToString(API);
        VerifiedToken verified = proxy.verify(api.mint(proxy.identity().toString(), List.of()));
        assertThat(verified.issuer()).isEqualTo(api.identity());
        assertThat(verified.audience()).isEqualTo(proxy.identity());
        assertThat(ServiceTokens.builder().identity(ServiceIdentity.parse(API)).signingKey(apiKey).build().identity())
                .isEqualTo(api.identity());
    }

    @ParameterizedTest
    @MethodSource("algorithms")
    void mintsAndVerifiesWithEachAlgorithm(Function<String, TokenKey> keys) {
        TokenKey key = keys.apply("k-1");
        String token = minter(API, key).mint(PROXY, List.of("db:read", "db:write"));

        VerifiedToken verified = verifier(KeySet.of(key.verifyOnly()), API).verify(token, "db:read");

        assertThat(verified.service()).hasToString(API);
        assertThat(verified.issuer()).hasToString(API);
        assertThat(verified.audience()).hasToString(PROXY);
        assertThat(verified.scopes()).containsExactly("db:read", "db:write");
        assertThat(verified.keyId()).isEqualTo("k-1");
        assertThat(verified.issuedAt()).isEqualTo(clock.instant());
        assertThat(verified.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofMinutes(5)));
        assertThat(verified.certificateThumbprint()).isEmpty();
        assertThat(verified.jti()).hasSizeGreaterThanOrEqualTo(20);
    }

    @Test
    void mintsTheDocumentedHeaderAndClaims() throws Exception {
        String token = minter(API, apiKey).mint(PROXY, List.of("queue:jobs:publish"));
        String[] parts = token.split("\\.");
        ObjectMapper json = new ObjectMapper();
        JsonNode header = json.readTree(Base64.getUrlDecoder().decode(parts[0]));
        JsonNode claims = json.readTree(Base64.getUrlDecoder().decode(parts[1]));

        List<String> headerNames = new ArrayList<>();
        header.fieldNames().forEachRemaining(headerNames::add);
        assertThat(headerNames).containsExactlyInAnyOrder("alg", "kid", "typ");
        assertThat(header.get("typ").asText()).isEqualTo("svc+jwt");
        assertThat(header.get("alg").asText()).isEqualTo("ES256");
        assertThat(claims.get("aud").isTextual()).as("one audience, as a string").isTrue();
        assertThat(claims.get("scope").isArray()).isTrue();
        assertThat(claims.get("exp").isIntegralNumber()).isTrue();
        assertThat(claims.get("iat").isIntegralNumber()).isTrue();
        assertThat(claims.get("nbf").isIntegralNumber()).isTrue();
        assertThat(claims.get("sub").asText()).isEqualTo(API);
        assertThat(claims.get("jti").isTextual()).isTrue();
    }

    @Test
    void richerRequestSetsLifetimeAndExtraClaims() {
        String token = minter(API, apiKey).mint(TokenRequest.to(PROXY).scopes("db:read")
                .lifetime(Duration.ofMinutes(2)).claim("tenant", "t-42").build());

        VerifiedToken verified = proxy().verify(token);

        assertThat(verified.expiresAt()).isEqualTo(clock.instant().plusSeconds(120));
        assertThat(verified.claims()).containsEntry("tenant", "t-42");
    }

    @Test
    void refusesExtraClaimOverridingARegisteredOne() {
        assertThatThrownBy(() -> TokenRequest.to(PROXY).claim("aud", "spiffe://example.org/other"))
                .isInstanceOfSatisfying(ServiceTokenException.class,
                        e -> assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.INVALID_REQUEST));
    }

    @Test
    void refusesTokenForAnotherAudience() {
        String token = minter(API, apiKey).mint(WORKER, List.of("db:read"));
        assertRejected(() -> proxy().verify(token), Reason.WRONG_AUDIENCE, token);
    }

    @Test
    void refusesExpiredTokenAfterTheSkew() {
        String token = minter(API, apiKey).mint(PROXY, List.of("db:read"));
        clock.advance(Duration.ofMinutes(5).plusSeconds(29));
        assertThat(proxy().verify(token).service()).hasToString(API);
        clock.advance(Duration.ofSeconds(1));
        assertRejected(() -> proxy().verify(token), Reason.EXPIRED, token);
    }

    @Test
    void refusesExpiredTokenEvenWhenCached() {
        ServiceTokens proxy = proxy();
        String token = minter(API, apiKey).mint(PROXY, List.of("db:read"));
        proxy.verify(token);
        clock.advance(Duration.ofMinutes(6));
        assertRejected(() -> proxy.verify(token), Reason.EXPIRED, token);
    }

    @Test
    void refusesTokenIssuedInTheFuture() {
        MutableClock ahead = new MutableClock(clock.instant().plusSeconds(120));
        ServiceTokens minter = ServiceTokens.builder().identity(API).signingKey(apiKey).clock(ahead).build();
        String token = minter.mint(PROXY, List.of("db:read"));
        assertRejected(() -> proxy().verify(token), Reason.NOT_YET_VALID, token);
    }

    @Test
    void refusesUntrustedIssuer() {
        TokenKey workerKey = TestKeys.ed25519("worker-1");
        String token = minter(WORKER, workerKey).mint(PROXY, List.of("db:read"));
        ServiceTokens proxy = verifier(KeySet.of(apiKey.verifyOnly(), workerKey.verifyOnly()), API);
        assertRejected(() -> proxy.verify(token), Reason.WRONG_ISSUER, token);
    }

    @Test
    void refusesTokenSignedByAnotherIssuersKey() {
        TokenKey workerKey = TestKeys.ed25519("worker-1");
        KeySet keys = KeySet.of(apiKey.verifyOnly().forIssuers(API), workerKey.verifyOnly().forIssuers(WORKER));
        ServiceTokens proxy = verifier(keys, API, WORKER);
        // api's key, but the token claims to come from worker: api must not be able to speak for worker
        String forged = minter(WORKER, apiKey).mint(PROXY, List.of("db:read"));

        assertRejected(() -> proxy.verify(forged), Reason.WRONG_ISSUER, forged);
        assertThat(proxy.verify(minter(WORKER, workerKey).mint(PROXY, List.of("db:read"))).service())
                .hasToString(WORKER);
    }

    /** The attack of issue 14, finding 1: the key pinned to reports signs a token whose sub says api. */
    @Test
    void refusesTokenWhoseSubjectIsNotItsIssuer() {
        String reports = "spiffe://example.org/reports";
        TokenKey reportsKey = TestKeys.ed25519("reports-1");
        ServiceTokens proxy = verifier(KeySet.of(apiKey.verifyOnly().forIssuers(API),
                reportsKey.verifyOnly().forIssuers(reports)), API, reports);
        long now = clock.instant().getEpochSecond();
        String asApi = TestKeys.forge(reportsKey, "{\"alg\":\"EdDSA\",\"kid\":\"reports-1\",\"typ\":\"svc+jwt\"}",
                "{\"iss\":\"" + reports + "\",\"sub\":\"" + API + "\",\"aud\":\"" + PROXY + "\",\"iat\":" + now
                        + ",\"exp\":" + (now + 60) + ",\"jti\":\"j-1\",\"scope\":[\"db:write\"]}");

        assertRejected(() -> proxy.verify(asApi, "db:write"), Reason.WRONG_ISSUER, asApi);

        assertThat(audit.events()).singleElement().satisfies(event -> {
            assertThat(event.action()).isEqualTo("token.rejected");
            assertThat(event.fields()).containsEntry("reason", "WRONG_ISSUER");
            assertThat(event.fields().get("detail")).contains("subject '" + API + "'").contains(reports);
        });
        // What reports may do: speak for itself, and the application sees reports, the key's issuer.
        VerifiedToken own = proxy.verify(minter(reports, reportsKey).mint(PROXY, List.of("db:write")), "db:write");
        assertThat(own.service()).hasToString(reports).isEqualTo(own.issuer());
    }

    /** The cache holds only what passed every check: a refused forgery is refused, and audited, every time. */
    @Test
    void refusedSubjectForgeryIsNeverCached() {
        long now = clock.instant().getEpochSecond();
        String other = TestKeys.forge(apiKey, "{\"alg\":\"ES256\",\"kid\":\"api-1\",\"typ\":\"svc+jwt\"}",
                "{\"iss\":\"" + API + "\",\"sub\":\"" + WORKER + "\",\"aud\":\"" + PROXY + "\",\"iat\":" + now
                        + ",\"exp\":" + (now + 60) + ",\"jti\":\"j-1\",\"scope\":[]}");
        ServiceTokens proxy = proxy();
        for (int i = 0; i < 3; i++) {
            assertRejected(() -> proxy.verify(other), Reason.WRONG_ISSUER, other);
            assertRejected(() -> proxy.verifyWithoutWaiting(other), Reason.WRONG_ISSUER, other);
        }
        assertThat(audit.events()).hasSize(6).allSatisfy(event -> assertThat(event.fields()).containsEntry("reason",
                "WRONG_ISSUER"));
    }

    @Test
    void refusesSubjectOtherThanIssuerEvenWithTheIssuersOwnKey() {
        long now = clock.instant().getEpochSecond();
        String other = TestKeys.forge(apiKey, "{\"alg\":\"ES256\",\"kid\":\"api-1\",\"typ\":\"svc+jwt\"}",
                "{\"iss\":\"" + API + "\",\"sub\":\"" + WORKER + "\",\"aud\":\"" + PROXY + "\",\"iat\":" + now
                        + ",\"exp\":" + (now + 60) + ",\"jti\":\"j-1\",\"scope\":[]}");
        assertRejected(() -> proxy().verify(other), Reason.WRONG_ISSUER, other);
        assertThat(audit.events()).singleElement().satisfies(event -> assertThat(event.fields()).containsEntry("reason",
                "WRONG_ISSUER"));
    }

    /** An unpinned key could sign as any trusted issuer: with several trusted, it speaks for none. */
    @Test
    void refusesUnpinnedKeySigningAsOneOfSeveralTrustedIssuers() {
        TokenKey workerKey = TestKeys.ed25519("worker-1");
        KeySet unpinned = KeySet.of(apiKey.verifyOnly(), workerKey.verifyOnly());
        KeySource dynamic = unpinned::key; // not a KeySet, so only verify can tell
        ServiceTokens proxy = verifier(dynamic, API, WORKER);
        String asWorker = minter(WORKER, apiKey).mint(PROXY, List.of("db:read"));

        assertRejected(() -> proxy.verify(asWorker), Reason.WRONG_ISSUER, asWorker);
        assertThat(audit.events()).singleElement().satisfies(event -> assertThat(event.fields().get("detail"))
                .contains("pinned to no issuer"));
        assertThatThrownBy(() -> verifier(unpinned, API, WORKER)).isInstanceOfSatisfying(ServiceTokenException.class,
                e -> assertThat(e.getMessage()).contains("api-1").contains("worker-1"));
        // With one trusted issuer an unpinned key is that issuer's key.
        assertThat(verifier(dynamic, API).verify(minter(API, apiKey).mint(PROXY, List.of())).service())
                .hasToString(API);
    }

    @Test
    void minterAlwaysSetsSubjectToItsOwnIdentity() {
        assertThatThrownBy(() -> TokenRequest.to(PROXY).claim("sub", WORKER))
                .isInstanceOfSatisfying(ServiceTokenException.class,
                        e -> assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.INVALID_REQUEST));
        assertThatThrownBy(() -> TokenRequest.to(PROXY).claim("iss", WORKER)).isInstanceOf(ServiceTokenException.class);
    }

    @Test
    void verifiedTokenCannotNameAnotherServiceThanItsIssuer() {
        assertThatThrownBy(() -> new VerifiedToken(ServiceIdentity.parse(WORKER), ServiceIdentity.parse(API),
                ServiceIdentity.parse(PROXY), java.util.Set.of(), clock.instant(),
                clock.instant().plusSeconds(60), "j", "k", java.util.Optional.empty(), java.util.Map.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesTokenWithoutTheRequiredScope() {
        String token = minter(API, apiKey).mint(PROXY, List.of("db:read"));
        assertRejected(() -> proxy().verify(token, "db:write"), Reason.INSUFFICIENT_SCOPE, token);
    }

    @Test
    void refusesScopePrefixAndWildcardSurprises() {
        String token = minter(API, apiKey).mint(PROXY, List.of("db:read", "queue:*"));
        ServiceTokens proxy = proxy();
        assertRejected(() -> proxy.verify(token, "db"), Reason.INSUFFICIENT_SCOPE, token);
        assertRejected(() -> proxy.verify(token, "db:read:all"), Reason.INSUFFICIENT_SCOPE, token);
        assertRejected(() -> proxy.verify(token, "queue:jobs:publish"), Reason.INSUFFICIENT_SCOPE, token);
        assertRejected(() -> proxy.verify(token, "DB:READ"), Reason.INSUFFICIENT_SCOPE, token);
        assertThat(proxy.verify(token, "db:read", "queue:*").scopes()).hasSize(2);
    }

    @Test
    void minterRefusesScopesThePolicyDoesNotGrant() {
        Policy policy = Policy.builder("example.org").service("api", api -> api.scopes("db:read")).build();
        ServiceTokens minter = ServiceTokens.builder().identity(API).signingKey(apiKey).policy(policy)
                .auditLog(audit).build();

        assertThat(minter.mint(PROXY, List.of("db:read"))).isNotEmpty();
        assertThatThrownBy(() -> minter.mint(PROXY, List.of("db:read", "db:write")))
                .isInstanceOfSatisfying(ServiceTokenException.class, e -> {
                    assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.SCOPE_NOT_GRANTED);
                    assertThat(e.getMessage()).contains("db:write");
                });
        assertThat(audit.events()).anySatisfy(event -> assertThat(event.action()).isEqualTo("token.mint_refused"));
    }

    @Test
    void minterRefusesLifetimeAboveTheMaximum() {
        ServiceTokens minter = minter(API, apiKey);
        assertThatThrownBy(() -> minter.mint(TokenRequest.to(PROXY).lifetime(Duration.ofHours(2)).build()))
                .isInstanceOfSatisfying(ServiceTokenException.class,
                        e -> assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.INVALID_REQUEST));
    }

    @Test
    void refusesLifetimeLongerThanTheVerifierAccepts() {
        String token = minter(API, apiKey).mint(TokenRequest.to(PROXY).lifetime(Duration.ofMinutes(30)).build());
        ServiceTokens strict = ServiceTokens.builder().identity(PROXY).verificationKeys(KeySet.of(apiKey.verifyOnly()))
                .trustIssuers(API).maxLifetime(Duration.ofMinutes(10)).clock(clock).auditLog(audit).build();
        assertRejected(() -> strict.verify(token), Reason.LIFETIME_TOO_LONG, token);
    }

    @Test
    void mintingWithoutSigningKeyIsRefused() {
        ServiceTokens verifierOnly = proxy();
        assertThatThrownBy(() -> verifierOnly.mint(API, List.of()))
                .isInstanceOfSatisfying(ServiceTokenException.class,
                        e -> assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.NO_SIGNING_KEY));
    }

    @Test
    void everyRejectionIsAuditedWithoutTheToken() {
        String token = minter(API, apiKey).mint(WORKER, List.of("db:read"));
        assertRejected(() -> proxy().verify(token), Reason.WRONG_AUDIENCE, token);

        assertThat(audit.events()).singleElement().satisfies(event -> {
            assertThat(event.action()).isEqualTo("token.rejected");
            assertThat(event.outcome()).isEqualTo(AuditEvent.Outcome.REFUSED);
            assertThat(event.fields()).containsEntry("reason", "WRONG_AUDIENCE");
            for (String part : token.split("\\.")) {
                assertThat(event.fields().values()).noneMatch(value -> value.contains(part));
            }
        });
    }

    @Test
    void verifiedTokensAreCachedButScopesAreCheckedEveryCall() {
        ServiceTokens proxy = proxy();
        String token = minter(API, apiKey).mint(PROXY, List.of("db:read"));
        VerifiedToken first = proxy.verify(token, "db:read");
        assertThat(proxy.verify(token, "db:read")).isSameAs(first);
        assertRejected(() -> proxy.verify(token, "db:write"), Reason.INSUFFICIENT_SCOPE, token);
    }

    @Test
    void builderRefusesNonsense() {
        assertThatThrownBy(() -> ServiceTokens.builder().build()).isInstanceOf(ServiceTokenException.class);
        assertThatThrownBy(() -> ServiceTokens.builder().clockSkew(Duration.ofHours(1)))
                .isInstanceOf(ServiceTokenException.class);
        assertThatThrownBy(() -> ServiceTokens.builder().identity(API).defaultLifetime(Duration.ofHours(2)).build())
                .isInstanceOf(ServiceTokenException.class);
        assertThatThrownBy(() -> ServiceTokens.builder().signingKey(apiKey.verifyOnly()))
                .isInstanceOf(ServiceTokenException.class);
    }

    @Test
    void verifiesConcurrentlyFromManyThreads() throws Exception {
        TokenKey key = TestKeys.hs256("hs-1");
        ServiceTokens minter = minter(API, key);
        ServiceTokens proxy = ServiceTokens.builder().identity(PROXY).verificationKeys(KeySet.of(key)).trustIssuers(API)
                .clock(clock).verifiedTokenCache(0).auditLog(audit).build();
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            tokens.add(minter.mint(PROXY, List.of("db:read")));
        }
        String original = tokens.get(0);
        int signature = original.lastIndexOf('.') + 1;
        String tampered = original.substring(0, signature) + (original.charAt(signature) == 'A' ? 'B' : 'A')
                + original.substring(signature + 1);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        List<java.util.concurrent.Future<Integer>> results = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            results.add(pool.submit(() -> {
                int verified = 0;
                for (String token : tokens) {
                    verified += proxy.verify(token, "db:read").service().toString().equals(API) ? 1 : 0;
                    assertRejected(() -> proxy.verify(tampered), Reason.BAD_SIGNATURE, null);
                }
                return verified;
            }));
        }
        for (java.util.concurrent.Future<Integer> result : results) {
            assertThat(result.get(60, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(200);
        }
        pool.shutdown();
    }

    static void assertRejected(ThrowingCallable call, Reason reason, String token) {
        assertThatThrownBy(call).isInstanceOfSatisfying(TokenRejectedException.class, e -> {
            assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason);
            if (token != null) {
                for (String part : token.split("\\.")) {
                    if (part.length() > 8) {
                        assertThat(e.getMessage()).doesNotContain(part);
                    }
                }
            }
        });
    }
}
