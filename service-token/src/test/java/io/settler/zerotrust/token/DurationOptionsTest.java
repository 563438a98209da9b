package io.settler.zerotrust.token;

import static io.settler.zerotrust.token.TestKeys.API;
import static io.settler.zerotrust.token.TestKeys.PROXY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.testkit.MutableClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * Every duration the service-token builders take: zero and negative values are refused (or, where
 * documented, zero means "none", never "no limit"), and a value under the unit it is kept in (whole
 * seconds for token times, milliseconds for the JWKS source) is rounded up, never truncated to zero.
 */
class DurationOptionsTest {

    private static final Duration NEGATIVE = Duration.ofSeconds(-1);

    private final MutableClock clock = new MutableClock();
    private final TokenKey key = TestKeys.es256("api-1");
    private final AtomicInteger fetches = new AtomicInteger();

    private ServiceTokens.Builder minter() {
        return ServiceTokens.builder().identity(API).signingKey(key).clock(clock).auditLog(event -> { });
    }

    private ServiceTokens.Builder verifier() {
        return ServiceTokens.builder().identity(PROXY).verificationKeys(KeySet.of(key.verifyOnly())).trustIssuers(API)
                .clock(clock).auditLog(event -> { });
    }

    private JwksSource.Builder jwks() {
        return JwksSource.builder(() -> {
            fetches.incrementAndGet();
            return KeySet.of(key.verifyOnly()).toJwks();
        }).pinnedTo(API).clock(clock).executor(Runnable::run).auditLog(event -> { });
    }

    private Duration lifetimeOf(String token) {
        VerifiedToken verified = verifier().build().verify(token);
        return Duration.between(verified.issuedAt(), verified.expiresAt());
    }

    @Test
    void clockSkewUnderASecondIsOneSecondNotNone() {
        String token = minter().build().mint(PROXY, List.of("db:read")); // expires in 5 min
        clock.advance(Duration.ofMinutes(5)); // now == exp

        assertThatThrownBy(() -> verifier().clockSkew(Duration.ZERO).build().verify(token))
                .isInstanceOfSatisfying(TokenRejectedException.class,
                        e -> assertThat(e.reason()).isEqualTo(TokenRejectedException.Reason.EXPIRED));
        assertThat(verifier().clockSkew(Duration.ofMillis(500)).build().verify(token).issuer()).hasToString(API);
    }

    @Test
    void lifetimesUnderASecondAreOneSecond() {
        assertThat(lifetimeOf(minter().defaultLifetime(Duration.ofMillis(500)).build()
                .mint(PROXY, List.of("db:read")))).isEqualTo(Duration.ofSeconds(1));
        assertThat(lifetimeOf(minter().build().mint(TokenRequest.to(PROXY).scopes("db:read")
                .lifetime(Duration.ofMillis(1)).build()))).isEqualTo(Duration.ofSeconds(1));
        assertThat(lifetimeOf(TokenSource.builder(minter().build()).lifetime(Duration.ofNanos(1)).build()
                .token(PROXY, "db:read"))).isEqualTo(Duration.ofSeconds(1));
        assertThat(lifetimeOf(minter().build().mint(TokenRequest.to(PROXY).scopes("db:read")
                .lifetime(Duration.ofMillis(1500)).build())))
                .as("rounded up, not down").isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void maxLifetimeBetweenWholeSecondsIsRoundedUp() {
        String twoSeconds = minter().defaultLifetime(Duration.ofSeconds(2)).build().mint(PROXY, List.of("db:read"));

        ServiceTokens verifier = verifier().defaultLifetime(Duration.ofSeconds(1)).maxLifetime(Duration.ofMillis(1500))
                .build();

        assertThat(verifier.verify(twoSeconds).issuer()).hasToString(API);
    }

    @Test
    void jwksCooldownUnderAMillisecondStillSpacesFetches() {
        JwksSource source = jwks().cooldown(Duration.ofNanos(500_000)).build();

        source.refresh();
        source.refresh(); // the same instant: within the cooldown

        assertThat(fetches).hasValue(1);
    }

    @Test
    void jwksMaxAgeBetweenWholeMillisecondsIsRoundedUp() {
        JwksSource source = jwks().cooldown(Duration.ofMillis(1)).maxAge(Duration.ofNanos(1_500_000)).build();
        source.refresh();
        clock.advance(Duration.ofMillis(1)); // younger than 1.5 ms, so not stale

        assertThat(source.heldKey("api-1")).isPresent();

        assertThat(fetches).hasValue(1);
    }

    @Test
    void zeroAndNegativeDurationsAreRefused() {
        for (Duration bad : List.of(Duration.ZERO, NEGATIVE)) {
            assertSetting(() -> minter().defaultLifetime(bad), "defaultLifetime");
            assertSetting(() -> minter().maxLifetime(bad), "maxLifetime");
            assertSetting(() -> TokenSource.builder(minter().build()).lifetime(bad), "lifetime");
            assertSetting(() -> jwks().cooldown(bad), "cooldown");
            assertSetting(() -> jwks().maxAge(bad), "maxAge");
            assertThatThrownBy(() -> TokenRequest.to(PROXY).lifetime(bad))
                    .isInstanceOfSatisfying(ServiceTokenException.class, e -> assertThat(e.reason())
                            .isEqualTo(ServiceTokenException.Reason.INVALID_REQUEST))
                    .hasMessageContaining("lifetime must be positive");
        }
        assertSetting(() -> minter().clockSkew(NEGATIVE), "clockSkew");
        assertSetting(() -> jwks().awaitFetch(NEGATIVE), "awaitFetch");
        assertSetting(() -> minter().maxLifetime(Duration.ofHours(25)), "maxLifetime must be at most");
        assertSetting(() -> minter().defaultLifetime(Duration.ofHours(25)), "defaultLifetime must be at most");
    }

    @Test
    void zeroMeansNoneWhereDocumented() {
        assertThat(verifier().clockSkew(Duration.ZERO).build()).isNotNull(); // no tolerance
        assertThat(jwks().awaitFetch(Duration.ZERO).build().heldKey("api-1")).isPresent(); // never waits
    }

    private static void assertSetting(ThrowingCallable call, String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(ServiceTokenException.class,
                e -> assertThat(e.reason()).isEqualTo(ServiceTokenException.Reason.INVALID_SETTING))
                .hasMessageContaining(message);
    }
}
