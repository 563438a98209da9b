package io.settler.zerotrust.token;

import static io.settler.zerotrust.token.TestKeys.API;
import static io.settler.zerotrust.token.TestKeys.PROXY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.policy.Policy;
import io.settler.zerotrust.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TokenSourceTest {

    private final MutableClock clock = new MutableClock();
    private final TokenKey key = TestKeys.hs256("api-1");
    private final ServiceTokens api = ServiceTokens.builder().identity(API).signingKey(key).clock(clock).build();
    private final ServiceTokens proxy = ServiceTokens.builder().identity(PROXY).verificationKeys(KeySet.of(key))
            .trustIssuers(API).clock(clock).build();

    @Test
    void reusesTheTokenUntil80PercentOfItsLifetime() {
        TokenSource source = TokenSource.builder(api).build();
        String first = source.token(PROXY, "db:read", "db:write");
        assertThat(source.token(PROXY, "db:write", "db:read")).as("same scopes in another order").isEqualTo(first);
        assertThat(source.token(PROXY, "db:read")).isNotEqualTo(first);

        clock.advance(Duration.ofSeconds(239)); // 5 min lifetime: renew after 240 s
        assertThat(source.token(PROXY, "db:read", "db:write")).isEqualTo(first);
        clock.advance(Duration.ofSeconds(1));
        String renewed = source.token(PROXY, "db:read", "db:write");
        assertThat(renewed).isNotEqualTo(first);
        assertThat(proxy.verify(renewed, "db:read", "db:write").expiresAt())
                .isEqualTo(clock.instant().plus(Duration.ofMinutes(5)));
    }

    @Test
    void expiredTokenIsNeverHandedOut() {
        TokenSource source = TokenSource.builder(api).lifetime(Duration.ofMinutes(1)).build();
        String first = source.token(PROXY);
        clock.advance(Duration.ofMinutes(2));
        String next = source.token(PROXY);
        assertThat(next).isNotEqualTo(first);
        assertThat(proxy.verify(next).service()).hasToString(API);
    }

    @Test
    void manyThreadsRenewingAtOnceMintOneToken() throws Exception {
        TokenSource source = TokenSource.builder(api).build();
        Set<String> seen = ConcurrentHashMap.newKeySet();
        runConcurrently(() -> seen.add(source.token(PROXY, "db:read")));
        assertThat(seen).as("no thundering herd on the first call").hasSize(1);

        clock.advance(Duration.ofSeconds(250)); // inside the renewal window, old token still valid
        runConcurrently(() -> seen.add(source.token(PROXY, "db:read")));
        assertThat(seen).as("one renewal for all threads").hasSize(2);
    }

    @Test
    void mintFailureReachesTheCaller() {
        Policy policy = Policy.builder("example.org").service("api", s -> s.scopes("db:read")).build();
        ServiceTokens strict = ServiceTokens.builder().identity(API).signingKey(key).policy(policy).clock(clock)
                .auditLog(event -> { }).build();
        TokenSource source = TokenSource.builder(strict).build();
        assertThatThrownBy(() -> source.token(PROXY, "db:write")).isInstanceOf(ServiceTokenException.class);
        assertThat(source.token(PROXY, "db:read")).isNotEmpty();
    }

    @Test
    void boundTokenIsReusedPerCertificateAndFollowsARotation() {
        IssuedCertificate first = TestKeys.CA.leaf("api").client().issue();
        IssuedCertificate rotated = TestKeys.CA.leaf("api").client().issue();
        TokenSource source = TokenSource.builder(api).build();

        String bound = source.boundToken(first.certificate(), PROXY, "db:read");
        assertThat(source.boundToken(first.certificate(), PROXY, "db:read")).isEqualTo(bound);
        assertThat(source.token(PROXY, "db:read")).as("an unbound token is another entry").isNotEqualTo(bound);
        assertThat(proxy.verify(bound, first.certificate(), "db:read").certificateThumbprint()).isPresent();
        assertThatThrownBy(() -> proxy.verify(bound, rotated.certificate(), "db:read"))
                .isInstanceOf(TokenRejectedException.class)
                .extracting(e -> ((TokenRejectedException) e).reason())
                .isEqualTo(TokenRejectedException.Reason.CERTIFICATE_MISMATCH);

        String afterRotation = source.boundToken(rotated.certificate(), PROXY, "db:read");
        assertThat(afterRotation).isNotEqualTo(bound);
        assertThat(proxy.verify(afterRotation, rotated.certificate(), "db:read").service()).hasToString(API);
        assertThat(source.boundToken(first.certificate(), PROXY, "db:read"))
                .as("the token bound to the old certificate was forgotten at the rotation").isNotEqualTo(bound);
    }

    @Test
    void boundTokenNeverOutlivesItsCertificate() {
        IssuedCertificate shortLived = TestKeys.CA.leaf("api").client().validity(Duration.ofMinutes(2)).issue();
        Instant notAfter = shortLived.certificate().getNotAfter().toInstant(); // before the 5 min default lifetime ends
        String bound = TokenSource.builder(api).build().boundToken(shortLived.certificate(), PROXY, "db:read");
        assertThat(proxy.verify(bound, shortLived.certificate(), "db:read").expiresAt()).isEqualTo(notAfter);
    }

    private static void runConcurrently(Runnable task) throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            futures.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < 500; i++) {
                    task.run();
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> future : futures) {
            future.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();
    }
}
