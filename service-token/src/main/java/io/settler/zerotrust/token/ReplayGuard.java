package io.settler.zerotrust.token;

import java.time.Instant;

/**
 * Remembers which tokens were used, for one-time tokens (queue messages, webhooks): keyed on
 * issuer and {@code jti}, never on the token text, each kept until the token expires. Turn it on
 * per verifier with {@link ServiceTokens.Builder#replayGuard}. {@link InMemoryReplayGuard} is the
 * one for a single process; a shared one (Redis) lives in {@code redis-tls}.
 *
 * <p>Implementations must be thread-safe and atomic per key, and must fail closed (answer
 * {@code false}) when they cannot tell.
 */
@FunctionalInterface
public interface ReplayGuard {

    /**
     * Records a use of the token.
     *
     * @param issuer the token's {@code iss}
     * @param jti the token's id
     * @param expiresAt until when to remember it (the token's expiry plus the allowed clock skew)
     * @return {@code true} exactly once per issuer and jti until {@code expiresAt}
     */
    boolean firstUse(String issuer, String jti, Instant expiresAt);
}
