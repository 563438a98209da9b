package io.settler.zerotrust.token;

import java.time.Instant;

/**
 * Remembers which tokens were used, for one-time tokens (queue messages, webhooks): keyed on
 * issuer and {@code jti}, never on the token text, each kept until the token expires. Turn it on
 * per verifier with {@link ServiceTokens.Builder#replayGuard}. {@link InMemoryReplayGuard} is the
 * one for a single process; a shared one (Redis) lives in {@code redis-tls}.
 *
 * <p>Implementations must be thread-safe and atomic per key, and must fail closed (answer
 * {@code false}) when they cannot tell. A guard that may wait for I/O says so with {@link #mayBlock()}
 * (the default), so that a verifier on a thread that must never block, such as a Netty event loop,
 * leaves the check to one that may wait.
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

    /**
     * Whether {@link #firstUse} may block its thread, e.g. on network I/O to a shared store such as
     * Redis. When it may, {@link ServiceTokens#verifyWithoutWaiting} does not call it and answers
     * empty, so the caller checks the token again where it may wait (as {@code ServiceTokenAuthHandler}
     * does on its verification executor).
     *
     * @return {@code true} (the default, the safe answer for a guard that does I/O); {@code false}
     *     only for a guard that never waits for I/O, like {@link InMemoryReplayGuard}
     */
    default boolean mayBlock() {
        return true;
    }
}
