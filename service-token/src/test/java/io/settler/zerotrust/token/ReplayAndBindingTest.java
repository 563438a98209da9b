package io.settler.zerotrust.token;

import static io.settler.zerotrust.token.ServiceTokensTest.assertRejected;
import static io.settler.zerotrust.token.TestKeys.API;
import static io.settler.zerotrust.token.TestKeys.PROXY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.MutableClock;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.token.TokenRejectedException.Reason;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class ReplayAndBindingTest {

    private final MutableClock clock = new MutableClock();
    private final TokenKey key = TestKeys.es256("api-1");
    private final ServiceTokens api = ServiceTokens.builder().identity(API).signingKey(key).clock(clock).build();
    private final IssuedCertificate apiCert = TestKeys.CA.leaf("api").client().issue();

    private ServiceTokens.Builder proxy() {
        return ServiceTokens.builder().identity(PROXY).verificationKeys(KeySet.of(key.verifyOnly())).trustIssuers(API)
                .clock(clock).auditLog(event -> { });
    }

    @Test
    void refusesReplayedOneTimeToken() {
        ServiceTokens proxy = proxy().replayGuard(InMemoryReplayGuard.create(100, clock)).build();
        String token = api.mint(PROXY, List.of("queue:jobs:consume"));
        assertThat(proxy.verify(token, "queue:jobs:consume").service()).hasToString(API);
        assertRejected(() -> proxy.verify(token, "queue:jobs:consume"), Reason.REPLAYED, token);
        assertThat(proxy.verify(api.mint(PROXY, List.of("queue:jobs:consume"))).service()).hasToString(API);
    }

    @Test
    void replayIsRefusedEvenWithTheCacheOff() {
        ServiceTokens proxy = proxy().replayGuard(InMemoryReplayGuard.create(100, clock)).verifiedTokenCache(0).build();
        String token = api.mint(PROXY, List.of());
        proxy.verify(token);
        assertRejected(() -> proxy.verify(token), Reason.REPLAYED, token);
    }

    @Test
    void refusesTokenWhenTheReplayGuardIsUnreachable() {
        ReplayGuard unreachable = (issuer, jti, expiresAt) -> {
            throw new IllegalStateException("connection refused");
        };
        ServiceTokens proxy = proxy().replayGuard(unreachable).build();
        String token = api.mint(PROXY, List.of());
        assertRejected(() -> proxy.verify(token), Reason.REPLAY_CHECK_FAILED, token);
    }

    /**
     * Issue 14, finding 11c: a guard that may block (here: any but the in-memory one) is never asked
     * on a thread that must not wait. {@code verifyWithoutWaiting} refuses a bad token itself, but
     * leaves a good one undecided, unrecorded and unused, for {@code verify} to settle where it may wait.
     */
    @Test
    void verifyWithoutWaitingNeverAsksAReplayGuardThatMayBlock() {
        InMemoryReplayGuard store = InMemoryReplayGuard.create(100, clock);
        List<String> asked = new CopyOnWriteArrayList<>();
        ReplayGuard remote = (issuer, jti, expiresAt) -> {
            asked.add(jti);
            return store.firstUse(issuer, jti, expiresAt);
        };
        RecordingAuditLog audit = new RecordingAuditLog();
        ServiceTokens proxy = proxy().replayGuard(remote).auditLog(audit).build();
        String token = api.mint(PROXY, List.of("db:read"));

        assertThat(remote.mayBlock()).as("the default").isTrue();
        assertThat(proxy.verifyWithoutWaiting(token, "db:read")).isEmpty();
        assertThat(proxy.verifyWithoutWaiting(token, apiCert.certificate(), "db:read")).isEmpty();
        assertRejected(() -> proxy.verifyWithoutWaiting(token, "db:write"), Reason.INSUFFICIENT_SCOPE, token);
        assertThat(asked).as("never asked without waiting").isEmpty();
        assertThat(audit.events()).singleElement().satisfies(event -> assertThat(event.fields())
                .containsEntry("reason", "INSUFFICIENT_SCOPE"));

        assertThat(proxy.verify(token, "db:read").service()).hasToString(API);
        assertRejected(() -> proxy.verify(token, "db:read"), Reason.REPLAYED, token);
        assertThat(asked).hasSize(2);
    }

    @Test
    void verifyWithoutWaitingStillRefusesReplaysWithTheInMemoryGuard() {
        InMemoryReplayGuard guard = InMemoryReplayGuard.create(100, clock);
        ServiceTokens proxy = proxy().replayGuard(guard).build();
        String token = api.mint(PROXY, List.of());
        assertThat(guard.mayBlock()).isFalse();
        assertThat(proxy.verifyWithoutWaiting(token)).get().satisfies(verified -> assertThat(verified.service())
                .hasToString(API));
        assertRejected(() -> proxy.verifyWithoutWaiting(token), Reason.REPLAYED, token);
    }

    @Test
    void tokenRefusedForScopeIsNotBurnt() {
        ServiceTokens proxy = proxy().replayGuard(InMemoryReplayGuard.create(100, clock)).build();
        String token = api.mint(PROXY, List.of("db:read"));
        assertRejected(() -> proxy.verify(token, "db:write"), Reason.INSUFFICIENT_SCOPE, token);
        assertThat(proxy.verify(token, "db:read").service()).hasToString(API);
    }

    @Test
    void replayGuardKeysOnIssuerAndJtiUntilExpiry() {
        InMemoryReplayGuard guard = InMemoryReplayGuard.create(10, clock);
        Instant expiry = clock.instant().plusSeconds(60);
        assertThat(guard.firstUse(API, "j-1", expiry)).isTrue();
        assertThat(guard.firstUse(API, "j-1", expiry)).isFalse();
        assertThat(guard.firstUse("spiffe://example.org/worker", "j-1", expiry)).isTrue();
        clock.advance(Duration.ofSeconds(61));
        assertThat(guard.firstUse(API, "j-1", expiry.plusSeconds(60))).as("forgotten after expiry").isTrue();
    }

    @Test
    void fullReplayGuardFailsClosedUntilEntriesExpire() {
        InMemoryReplayGuard guard = InMemoryReplayGuard.create(3, clock);
        Instant expiry = clock.instant().plusSeconds(60);
        for (int i = 0; i < 3; i++) {
            assertThat(guard.firstUse(API, "j-" + i, expiry)).isTrue();
        }
        assertThat(guard.firstUse(API, "j-new", expiry)).as("full: fail closed").isFalse();
        assertThat(guard.firstUse(API, "j-0", expiry)).isFalse();
        clock.advance(Duration.ofSeconds(61));
        assertThat(guard.firstUse(API, "j-new", expiry.plusSeconds(120))).isTrue();
    }

    @Test
    void certificateBoundTokenVerifiesOnlyWithThatPeerCertificate() throws Exception {
        String token = api.mint(TokenRequest.to(PROXY).scopes("db:read").boundTo(apiCert.certificate()).build());
        ServiceTokens proxy = proxy().build();

        VerifiedToken verified = proxy.verify(token, apiCert.certificate(), "db:read");
        byte[] sha256 = MessageDigest.getInstance("SHA-256").digest(apiCert.certificate().getEncoded());
        assertThat(verified.certificateThumbprint())
                .contains(Base64.getUrlEncoder().withoutPadding().encodeToString(sha256));
    }

    @Test
    void refusesBoundTokenPresentedWithAnotherCertificate() {
        String token = api.mint(TokenRequest.to(PROXY).boundTo(apiCert.certificate()).build());
        IssuedCertificate stolenBy = TestKeys.CA.leaf("api").client().issue(); // same identity, other key
        ServiceTokens proxy = proxy().build();
        proxy.verify(token, apiCert.certificate()); // cached now: the binding must still be checked per call
        assertRejected(() -> proxy.verify(token, stolenBy.certificate()), Reason.CERTIFICATE_MISMATCH, token);
    }

    @Test
    void refusesBoundTokenPresentedWithoutCertificate() {
        String token = api.mint(TokenRequest.to(PROXY).boundTo(apiCert.certificate()).build());
        assertRejected(() -> proxy().build().verify(token), Reason.CERTIFICATE_MISMATCH, token);
    }

    @Test
    void unboundTokenVerifiesWithAnyPeerCertificate() {
        String token = api.mint(PROXY, List.of());
        assertThat(proxy().build().verify(token, apiCert.certificate()).certificateThumbprint()).isEmpty();
    }

    @Test
    void boundTokenNeverOutlivesItsCertificate() {
        IssuedCertificate shortLived = TestKeys.CA.leaf("api").client().validity(Duration.ofMinutes(2)).issue();
        String token = api.mint(TokenRequest.to(PROXY).boundTo(shortLived.certificate()).build());
        VerifiedToken verified = proxy().build().verify(token, shortLived.certificate());
        assertThat(verified.expiresAt()).isBeforeOrEqualTo(shortLived.certificate().getNotAfter().toInstant());
        assertThat(verified.expiresAt()).isBefore(clock.instant().plus(Duration.ofMinutes(5)));
    }

    @Test
    void refusesToBindToAnExpiredCertificate() {
        IssuedCertificate shortLived = TestKeys.CA.leaf("api").client().validity(Duration.ofMinutes(2)).issue();
        clock.advance(Duration.ofMinutes(3));
        assertThatThrownBy(() -> api.mint(TokenRequest.to(PROXY).boundTo(shortLived.certificate()).build()))
                .isInstanceOfSatisfying(ServiceTokenException.class,
                        e -> assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.CERTIFICATE_EXPIRED));
    }

    @Test
    void verifyWithCertificateRefusesNullInsteadOfGuessing() {
        String token = api.mint(PROXY, List.of());
        assertThatThrownBy(() -> proxy().build().verify(token, (java.security.cert.X509Certificate) null))
                .isInstanceOf(NullPointerException.class);
    }

    @Test
    void refusesUnboundTokenWhenBindingIsRequired() {
        ServiceTokens strict = proxy().requireCertificateBinding().build();
        String unbound = api.mint(PROXY, List.of());
        assertRejected(() -> strict.verify(unbound, apiCert.certificate()), Reason.CERTIFICATE_MISMATCH, unbound);
        String bound = api.mint(TokenRequest.to(PROXY).boundTo(apiCert.certificate()).build());
        assertThat(strict.verify(bound, apiCert.certificate()).certificateThumbprint()).isPresent();
    }
}
